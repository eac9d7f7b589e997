/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstecgutils.h"
#include "gstcsvecgsrc.h"
#include "gstrickerconv.h"
#include "gstnmsgate.h"
#include "gstbeatembed.h"
#include "gstvaescore.h"
#include "gstvaetrain.h"
#include "gstlatentsink.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ecg_gate_meta_api_register ();
  ecg_beat_meta_api_register ();
  ecg_cuda_route_log ();

  ret |= GST_ELEMENT_REGISTER (csvecgsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (rickerconv, plugin);
  ret |= GST_ELEMENT_REGISTER (nmsgate, plugin);
  ret |= GST_ELEMENT_REGISTER (beatembed, plugin);
  ret |= GST_ELEMENT_REGISTER (vaescore, plugin);
  ret |= GST_ELEMENT_REGISTER (vaetrain, plugin);
  ret |= GST_ELEMENT_REGISTER (latentsink, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ecg,
    "ECG beat detection and scoring", plugin_init, VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_LATENT_SINK_H__
#define __GST_LATENT_SINK_H__

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_LATENT_SINK (gst_latent_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstLatentSink, gst_latent_sink, GST, LATENT_SINK,
    GstBaseSink);

GST_ELEMENT_REGISTER_DECLARE (latentsink);

G_END_DECLS

#endif /* __GST_LATENT_SINK_H__ */

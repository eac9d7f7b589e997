/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_RICKER_CONV_H__
#define __GST_RICKER_CONV_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_RICKER_CONV (gst_ricker_conv_get_type ())
G_DECLARE_FINAL_TYPE (GstRickerConv, gst_ricker_conv, GST, RICKER_CONV,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (rickerconv);

G_END_DECLS

#endif /* __GST_RICKER_CONV_H__ */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_NMS_GATE_H__
#define __GST_NMS_GATE_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_NMS_GATE (gst_nms_gate_get_type ())
G_DECLARE_FINAL_TYPE (GstNmsGate, gst_nms_gate, GST, NMS_GATE,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (nmsgate);

G_END_DECLS

#endif /* __GST_NMS_GATE_H__ */

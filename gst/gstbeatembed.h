/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_BEAT_EMBED_H__
#define __GST_BEAT_EMBED_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_BEAT_EMBED (gst_beat_embed_get_type ())
G_DECLARE_FINAL_TYPE (GstBeatEmbed, gst_beat_embed, GST, BEAT_EMBED,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (beatembed);

G_END_DECLS

#endif /* __GST_BEAT_EMBED_H__ */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_VAE_SCORE_H__
#define __GST_VAE_SCORE_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_VAE_SCORE (gst_vae_score_get_type ())
G_DECLARE_FINAL_TYPE (GstVaeScore, gst_vae_score, GST, VAE_SCORE,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (vaescore);

G_END_DECLS

#endif /* __GST_VAE_SCORE_H__ */

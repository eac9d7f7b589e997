/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_VAE_TRAIN_H__
#define __GST_VAE_TRAIN_H__

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_VAE_TRAIN (gst_vae_train_get_type ())
G_DECLARE_FINAL_TYPE (GstVaeTrain, gst_vae_train, GST, VAE_TRAIN,
    GstBaseSink);

GST_ELEMENT_REGISTER_DECLARE (vaetrain);

G_END_DECLS

#endif /* __GST_VAE_TRAIN_H__ */

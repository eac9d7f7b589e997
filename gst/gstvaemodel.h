/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * A LightVAE model file as the elements use it: the weights, the stream it
 * was trained for, the input preparation and the score calibration, read
 * from and written to safetensors with the seed's state_dict names.
 */
#ifndef __GST_VAE_MODEL_H__
#define __GST_VAE_MODEL_H__

#include <gst/gst.h>

#include "vae.h"
#include "score.h"

G_BEGIN_DECLS

#define ECG_VAE_MODEL_ERROR (ecg_vae_model_error_quark ())

/**
 * EcgVaeModelError:
 * @ECG_VAE_MODEL_ERROR_NOT_FOUND: the file does not exist
 * @ECG_VAE_MODEL_ERROR_OPEN: the file exists but cannot be read
 * @ECG_VAE_MODEL_ERROR_CORRUPT: not a valid safetensors file
 * @ECG_VAE_MODEL_ERROR_SHAPE: valid file, but not a LightVAE of this shape
 * @ECG_VAE_MODEL_ERROR_WRITE: the file cannot be written
 */
typedef enum
{
  ECG_VAE_MODEL_ERROR_NOT_FOUND,
  ECG_VAE_MODEL_ERROR_OPEN,
  ECG_VAE_MODEL_ERROR_CORRUPT,
  ECG_VAE_MODEL_ERROR_SHAPE,
  ECG_VAE_MODEL_ERROR_WRITE,
} EcgVaeModelError;

/* Row preparation of a model that takes the beats as they are (the seed's
 * models, files written by PyTorch); the other one vaescore knows is
 * score_input_name (). */
#define ECG_VAE_INPUT_RAW "raw"

typedef struct
{
  gfloat params[VAE_N_PARAMS];
  gint rate;                    /* Hz of the beats it was trained on */
  gint length;                  /* samples per beat row */
  gint latent_dims;
  gchar *input;                 /* ECG_VAE_INPUT_RAW or score_input_name () */
  gboolean calibrated;
  ScoreCalibration cal;
} EcgVaeModel;

GQuark ecg_vae_model_error_quark (void);

EcgVaeModel *ecg_vae_model_load (const gchar * path, GError ** error);
gboolean ecg_vae_model_save (const EcgVaeModel * model, const gchar * path,
    GError ** error);
void ecg_vae_model_free (EcgVaeModel * model);
gchar *ecg_vae_model_default_path (void);
void ecg_vae_model_post_error (GstElement * element, const gchar * path,
    const GError * error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EcgVaeModel, ecg_vae_model_free);

G_END_DECLS

#endif /* __GST_VAE_MODEL_H__ */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Model files: the LightVAE weights under the seed's state_dict names, and
 * in __metadata__ (all strings): arch=LightVAE, rate, beat_length,
 * latent_dims, input (the row preparation, score_input_name ()) and
 * score_calibration (score_calibration_to_kv () text).  Files written by
 * PyTorch carry no calibration; they load, and vaescore then needs an
 * explicit threshold.  They carry no input either, and are taken to expect
 * the seed's raw rows (input=raw); vaetrain always writes the key.  A file
 * that names a preparation this plugin does not know is refused.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "gstvaemodel.h"
#include "safetensors.h"

#define DEFAULT_MODEL_NAME "default.safetensors"

G_DEFINE_QUARK (ecg - vae - model - error - quark, ecg_vae_model_error);

/**
 * ecg_vae_model_free:
 * @model: (transfer full) (nullable): a model
 */
void
ecg_vae_model_free (EcgVaeModel * model)
{
  if (!model)
    return;
  g_free (model->input);
  g_free (model);
}

/**
 * ecg_vae_model_default_path:
 *
 * Returns: (transfer full): the installed default model, or the one in the
 *     source tree when the plugin runs uninstalled
 */
gchar *
ecg_vae_model_default_path (void)
{
  gchar *p = g_build_filename (ECG_PKGDATADIR, "models", DEFAULT_MODEL_NAME,
      NULL);

  if (g_file_test (p, G_FILE_TEST_EXISTS))
    return p;
  g_free (p);
  return g_build_filename (ECG_SOURCE_DATADIR, "models", DEFAULT_MODEL_NAME,
      NULL);
}

static gboolean
parse_int_meta (const SafetensorsFile * f, const gchar * key, gint def,
    gint * out)
{
  const gchar *v = safetensors_get_metadata (f, key);
  gchar *end;
  gint64 x;

  if (!v) {
    *out = def;
    return TRUE;
  }
  x = g_ascii_strtoll (v, &end, 10);
  if (*end != '\0' || end == v || x < 1 || x > G_MAXINT)
    return FALSE;
  *out = (gint) x;
  return TRUE;
}

/**
 * ecg_vae_model_load:
 * @path: a safetensors file
 * @error: (out) (optional): where to put an #ECG_VAE_MODEL_ERROR
 *
 * Returns: (transfer full) (nullable): the model, or NULL with @error set
 */
EcgVaeModel *
ecg_vae_model_load (const gchar * path, GError ** error)
{
  g_autoptr (EcgVaeModel) m = g_new0 (EcgVaeModel, 1);
  SafetensorsFile *f = NULL;
  gchar detail[256] = "";
  const gchar *v;
  gint st;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_NOT_FOUND,
        "no such file");
    return NULL;
  }
  if (g_file_test (path, G_FILE_TEST_IS_DIR) || access (path, R_OK) != 0) {
    g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_OPEN,
        "%s", g_strerror (g_file_test (path, G_FILE_TEST_IS_DIR) ? EISDIR :
            errno));
    return NULL;
  }

  st = safetensors_read_lightvae (path, m->params, &f, detail, sizeof (detail));
  if (st != SAFETENSORS_OK) {
    g_set_error (error, ECG_VAE_MODEL_ERROR,
        st == SAFETENSORS_ERR_IO ? ECG_VAE_MODEL_ERROR_OPEN :
        (st == SAFETENSORS_ERR_MISSING || st == SAFETENSORS_ERR_UNEXPECTED ||
            st == SAFETENSORS_ERR_SHAPE || st == SAFETENSORS_ERR_METADATA) ?
        ECG_VAE_MODEL_ERROR_SHAPE : ECG_VAE_MODEL_ERROR_CORRUPT,
        "%s%s%s", safetensors_strerror (st), *detail ? ": " : "", detail);
    safetensors_free (f);
    return NULL;
  }

  v = safetensors_get_metadata (f, "arch");
  if (v && g_strcmp0 (v, "LightVAE") != 0)
    goto bad_meta;
  if (!parse_int_meta (f, "rate", 250, &m->rate) ||
      !parse_int_meta (f, "beat_length", VAE_BEAT_LENGTH, &m->length) ||
      !parse_int_meta (f, "latent_dims", VAE_LATENT_DIMS, &m->latent_dims))
    goto bad_meta;
  if (m->length != VAE_BEAT_LENGTH || m->latent_dims != VAE_LATENT_DIMS)
    goto bad_meta;

  /* files without the key come from PyTorch: the seed feeds raw rows */
  v = safetensors_get_metadata (f, "input");
  m->input = g_strdup (v ? v : ECG_VAE_INPUT_RAW);
  if (g_strcmp0 (m->input, ECG_VAE_INPUT_RAW) != 0 &&
      g_strcmp0 (m->input, score_input_name ()) != 0) {
    g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_SHAPE,
        "the model was trained on \"%s\" rows; this plugin prepares \"%s\" "
        "or \"%s\" rows", m->input, ECG_VAE_INPUT_RAW, score_input_name ());
    safetensors_free (f);
    return NULL;
  }

  v = safetensors_get_metadata (f, "score_calibration");
  if (v) {
    if (score_calibration_from_kv (&m->cal, v) != 0) {
      g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_CORRUPT,
          "unreadable score_calibration \"%.200s\"", v);
      safetensors_free (f);
      return NULL;
    }
    m->calibrated = TRUE;
  }
  safetensors_free (f);
  return g_steal_pointer (&m);

bad_meta:
  g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_SHAPE,
      "__metadata__ describes no usable LightVAE (arch %s, rate %s, "
      "beat_length %s, latent_dims %s)",
      safetensors_get_metadata (f, "arch") ? : "-",
      safetensors_get_metadata (f, "rate") ? : "-",
      safetensors_get_metadata (f, "beat_length") ? : "-",
      safetensors_get_metadata (f, "latent_dims") ? : "-");
  safetensors_free (f);
  return NULL;
}

/**
 * ecg_vae_model_save:
 * @model: the model
 * @path: where to write it (replaced atomically)
 * @error: (out) (optional): where to put an #ECG_VAE_MODEL_ERROR
 *
 * Returns: TRUE on success
 */
gboolean
ecg_vae_model_save (const EcgVaeModel * model, const gchar * path,
    GError ** error)
{
  gchar rate[16], dims[16], cal[1024] = "";
  SafetensorsMeta meta[4];
  gsize n = 0;
  gint st;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);

  g_snprintf (rate, sizeof (rate), "%d", model->rate);
  g_snprintf (dims, sizeof (dims), "%d", model->latent_dims);
  meta[n].key = "rate";
  meta[n++].value = rate;
  meta[n].key = "latent_dims";
  meta[n++].value = dims;
  meta[n].key = "input";
  meta[n++].value = model->input ? model->input : score_input_name ();
  if (model->calibrated) {
    if (score_calibration_to_kv (&model->cal, cal, sizeof (cal)) < 0) {
      g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_WRITE,
          "the calibration does not fit its text form");
      return FALSE;
    }
    meta[n].key = "score_calibration";
    meta[n++].value = cal;
  }

  st = safetensors_write_lightvae (path, model->params, meta, n);
  if (st != SAFETENSORS_OK) {
    g_set_error (error, ECG_VAE_MODEL_ERROR, ECG_VAE_MODEL_ERROR_WRITE,
        "%s", safetensors_strerror (st));
    return FALSE;
  }
  return TRUE;
}

/**
 * ecg_vae_model_post_error:
 * @element: the element that failed
 * @path: the model file
 * @error: what ecg_vae_model_load () or _save () said
 *
 * Posts the one bus error that matches @error (docs/elements.md tables).
 */
void
ecg_vae_model_post_error (GstElement * element, const gchar * path,
    const GError * error)
{
  switch (error->code) {
    case ECG_VAE_MODEL_ERROR_NOT_FOUND:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          ("Model file \"%s\" does not exist.", path), ("%s", error->message));
      break;
    case ECG_VAE_MODEL_ERROR_OPEN:
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
          ("Could not open model file \"%s\" for reading.", path),
          ("%s", error->message));
      break;
    case ECG_VAE_MODEL_ERROR_WRITE:
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_WRITE,
          ("Could not write model file \"%s\".", path), ("%s", error->message));
      break;
    case ECG_VAE_MODEL_ERROR_CORRUPT:
      GST_ELEMENT_ERROR (element, LIBRARY, SETTINGS,
          ("Model file \"%s\" is corrupt.", path), ("%s", error->message));
      break;
    case ECG_VAE_MODEL_ERROR_SHAPE:
    default:
      GST_ELEMENT_ERROR (element, LIBRARY, SETTINGS,
          ("Model file \"%s\" is not a LightVAE this element can use.",
              path), ("%s", error->message));
      break;
  }
}

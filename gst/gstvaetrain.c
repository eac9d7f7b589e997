/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-vaetrain
 * @title: vaetrain
 *
 * Trains the seed's LightVAE on the beats it receives, unsupervised, and
 * writes the model to #GstVaeTrain:location at end of stream.  The beats
 * are shuffled (#GstVaeTrain:seed); #GstVaeTrain:train-fraction of them
 * train the network for #GstVaeTrain:epochs epochs of Adam with
 * #GstVaeTrain:batch-size beats per step and #GstVaeTrain:learning-rate,
 * as the seed does; the rest calibrate the outlier score that vaescore
 * uses (at least two beats, so a stream needs three or more).  Training
 * runs in the streaming thread when EOS arrives, so the EOS message comes
 * once the model is written.
 *
 * Each epoch posts an element message named `vaetrain-progress` with
 * `epoch`, `epochs` (guint) and `loss` (gdouble, the seed's loss per beat);
 * the same goes to the debug log.  #GstVaeTrain:plot-location gets the
 * seed's picture: a 5 × 5 grid of beats decoded from latent points on
 * [-5, 5]², as PNG.
 *
 * The element keeps at most #GstVaeTrain:max-beats beats (a uniform random
 * sample of the stream beyond that), so memory stays bounded.
 *
 * #GstVaeTrain:backend chooses the CPU or CUDA (auto: CUDA when a device is
 * present) and #GstVaeTrain:cuda-device-id the device.  On CUDA the beats
 * are still collected on the host; training and calibration run on the
 * device, and the model file is the same format.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=119.csv column=MLII rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv ! nmsgate ! beatembed ! vaetrain location=model.safetensors plot-location=decoded.png
 * ]| Trains a model on one record.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <cairo.h>

#include "gstvaetrain.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "gstecgcudakernels.h"
#include "gstvaemodel.h"

GST_DEBUG_CATEGORY_STATIC (gst_vae_train_debug);
#define GST_CAT_DEFAULT gst_vae_train_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_PLOT_LOCATION NULL
#define DEFAULT_EPOCHS 30
#define DEFAULT_BATCH_SIZE VAE_TRAIN_BATCH
#define DEFAULT_LEARNING_RATE 1e-3
#define DEFAULT_SEED 0
#define DEFAULT_TRAIN_FRACTION 0.75
#define DEFAULT_MAX_BEATS 1000000

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_PLOT_LOCATION,
  PROP_EPOCHS,
  PROP_BATCH_SIZE,
  PROP_LEARNING_RATE,
  PROP_SEED,
  PROP_TRAIN_FRACTION,
  PROP_MAX_BEATS,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SINK_CAPS \
  ECG_BEATS_CAPS_NAME ", format = (string) F32LE, " \
  "length = (int) 256, rate = (int) [ 1, 100000 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

struct _GstVaeTrain
{
  GstBaseSink parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *location;
  gchar *plot_location;
  guint epochs;
  guint batch_size;
  gdouble learning_rate;
  guint64 seed;
  gdouble train_fraction;
  guint max_beats;

  /* negotiated, streaming thread */
  gint rate;
  gint length;

  /* streaming state, streaming thread */
  GArray *rows;                 /* gfloat, length per beat */
  GArray *rr;                   /* guint64 */
  GArray *flags;                /* guint32 */
  guint64 offered;              /* beats seen, for the reservoir */
  guint64 skipped;              /* rows with non-finite samples */
  VaeRng rng;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
  gpointer host_rows;           /* CUDA input downloaded, streaming thread */
  gsize host_rows_size;
};

#define gst_vae_train_parent_class parent_class
G_DEFINE_TYPE (GstVaeTrain, gst_vae_train, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (vaetrain, "vaetrain", GST_RANK_NONE,
    GST_TYPE_VAE_TRAIN);

static void gst_vae_train_finalize (GObject * object);
static void gst_vae_train_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vae_train_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_vae_train_start (GstBaseSink * sink);
static gboolean gst_vae_train_set_caps (GstBaseSink * sink, GstCaps * caps);
static GstFlowReturn gst_vae_train_render (GstBaseSink * sink, GstBuffer * buf);
static gboolean gst_vae_train_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_vae_train_stop (GstBaseSink * sink);

static void
gst_vae_train_class_init (GstVaeTrainClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_vae_train_finalize;
  gobject_class->set_property = gst_vae_train_set_property;
  gobject_class->get_property = gst_vae_train_get_property;

  /**
   * GstVaeTrain:location:
   *
   * Where the trained model goes (safetensors).
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File to write the trained model to (safetensors)",
          DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:plot-location:
   *
   * PNG of a 5 × 5 grid of beats decoded from latent points on [-5, 5]².
   */
  g_object_class_install_property (gobject_class, PROP_PLOT_LOCATION,
      g_param_spec_string ("plot-location", "Plot location",
          "PNG file for the grid of decoded latent points",
          DEFAULT_PLOT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:epochs:
   *
   * Passes over the training beats (the seed: 30).
   */
  g_object_class_install_property (gobject_class, PROP_EPOCHS,
      g_param_spec_uint ("epochs", "Epochs", "Passes over the training beats",
          1, 100000, DEFAULT_EPOCHS, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:batch-size:
   *
   * Beats per Adam step (the seed: 1024); the last step of an epoch takes
   * what is left.
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Beats per optimiser step", 1, 1048576, DEFAULT_BATCH_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:learning-rate:
   *
   * Adam's step size (the seed: 1e-3; betas 0.9 and 0.999, eps 1e-8).
   */
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate",
          "Adam step size", 1e-9, 10.0, DEFAULT_LEARNING_RATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:seed:
   *
   * Seed of the initial weights, the train/calibration split, the shuffles
   * and the sampling noise: the same beats and seed give the same model.
   */
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the initial weights, the split, the shuffles and the "
          "sampling noise", 0, G_MAXUINT64, DEFAULT_SEED,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:train-fraction:
   *
   * Share of the beats that train the network (the seed: 0.75); the rest,
   * at least two, calibrate the outlier score.
   */
  g_object_class_install_property (gobject_class, PROP_TRAIN_FRACTION,
      g_param_spec_double ("train-fraction", "Train fraction",
          "Share of the beats that train the network; the rest calibrate "
          "the score", 0.05, 0.99, DEFAULT_TRAIN_FRACTION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:max-beats:
   *
   * Most beats kept; beyond, a uniform random sample of the stream is kept,
   * so memory stays bounded.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BEATS,
      g_param_spec_uint ("max-beats", "Max beats",
          "Most beats kept for training (a uniform sample beyond)", 16,
          G_MAXINT / 256, DEFAULT_MAX_BEATS, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeTrain:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstVaeTrain:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "VAE trainer", "Sink/Analyzer",
      "Trains a LightVAE on ECG beats and writes the model at end of stream",
      "gst-ecg authors <gst-ecg@example.invalid>");

  sink_class->start = GST_DEBUG_FUNCPTR (gst_vae_train_start);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_vae_train_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_vae_train_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_vae_train_event);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_vae_train_stop);

  GST_DEBUG_CATEGORY_INIT (gst_vae_train_debug, "vaetrain", 0, "VAE trainer");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_vae_train_init (GstVaeTrain * self)
{
  self->epochs = DEFAULT_EPOCHS;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->learning_rate = DEFAULT_LEARNING_RATE;
  self->seed = DEFAULT_SEED;
  self->train_fraction = DEFAULT_TRAIN_FRACTION;
  self->max_beats = DEFAULT_MAX_BEATS;
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->host_rows = NULL;
  self->host_rows_size = 0;
}

static void
gst_vae_train_clear (GstVaeTrain * self)
{
  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->rr, g_array_unref);
  g_clear_pointer (&self->flags, g_array_unref);
}

static void
gst_vae_train_finalize (GObject * object)
{
  GstVaeTrain *self = GST_VAE_TRAIN (object);

  g_free (self->host_rows);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_free (self->location);
  g_free (self->plot_location);
  gst_vae_train_clear (self);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_vae_train_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVaeTrain *self = GST_VAE_TRAIN (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_PLOT_LOCATION:
      g_free (self->plot_location);
      self->plot_location = g_value_dup_string (value);
      break;
    case PROP_EPOCHS:
      self->epochs = g_value_get_uint (value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint (value);
      break;
    case PROP_LEARNING_RATE:
      self->learning_rate = g_value_get_double (value);
      break;
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      break;
    case PROP_TRAIN_FRACTION:
      self->train_fraction = g_value_get_double (value);
      break;
    case PROP_MAX_BEATS:
      self->max_beats = g_value_get_uint (value);
      break;
    case PROP_BACKEND:
      self->backend = g_value_get_enum (value);
      break;
    case PROP_CUDA_DEVICE_ID:
      self->cuda_device_id = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vae_train_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVaeTrain *self = GST_VAE_TRAIN (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_PLOT_LOCATION:
      g_value_set_string (value, self->plot_location);
      break;
    case PROP_EPOCHS:
      g_value_set_uint (value, self->epochs);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_double (value, self->learning_rate);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_TRAIN_FRACTION:
      g_value_set_double (value, self->train_fraction);
      break;
    case PROP_MAX_BEATS:
      g_value_set_uint (value, self->max_beats);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_CUDA_DEVICE_ID:
      g_value_set_int (value, self->cuda_device_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_vae_train_start (GstBaseSink * sink)
{
  GstVaeTrain *self = GST_VAE_TRAIN (sink);
  gboolean have_location;
  guint64 seed;

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  GST_OBJECT_LOCK (self);
  have_location = self->location && *self->location;
  seed = self->seed;
  GST_OBJECT_UNLOCK (self);

  if (!have_location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for the model."), ("set location"));
    return FALSE;
  }
  gst_vae_train_clear (self);
  self->rows = g_array_new (FALSE, FALSE, sizeof (gfloat));
  self->rr = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->flags = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->offered = 0;
  self->skipped = 0;
  self->rate = 0;
  self->length = 0;
  /* the reservoir draws from its own stream of the seed */
  vae_rng_seed (&self->rng, seed ^ G_GUINT64_CONSTANT (0x5eed5eed5eed5eed));
  return TRUE;
}

static gboolean
gst_vae_train_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstVaeTrain *self = GST_VAE_TRAIN (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint rate, length;

  if (!gst_structure_get_int (s, "rate", &rate) ||
      !gst_structure_get_int (s, "length", &length)) {
    GST_ERROR_OBJECT (self, "incomplete caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (self->rate && (rate != self->rate || length != self->length)) {
    GST_ERROR_OBJECT (self, "caps changed to %" GST_PTR_FORMAT " after %u "
        "beats at %d Hz", caps, self->flags->len, self->rate);
    return FALSE;
  }
  self->rate = rate;
  self->length = length;
  return TRUE;
}

static void
gst_vae_train_keep (GstVaeTrain * self, const gfloat * row, const EcgBeat * b)
{
  guint n = self->flags->len;
  guint64 rr = b ? b->rr : 0;
  guint32 flags = b ? b->flags : 0;
  guint max;

  GST_OBJECT_LOCK (self);
  max = self->max_beats;
  GST_OBJECT_UNLOCK (self);

  self->offered++;
  if (n < max) {
    g_array_append_vals (self->rows, row, self->length);
    g_array_append_val (self->rr, rr);
    g_array_append_val (self->flags, flags);
  } else {
    guint64 j = vae_rng_below (&self->rng, self->offered);

    if (j < max) {
      memcpy (&g_array_index (self->rows, gfloat, j * self->length), row,
          self->length * sizeof (gfloat));
      g_array_index (self->rr, guint64, j) = rr;
      g_array_index (self->flags, guint32, j) = flags;
    }
  }
}

static GstFlowReturn
gst_vae_train_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstVaeTrain *self = GST_VAE_TRAIN (sink);
  EcgBeatMeta *meta = ecg_buffer_get_beat_meta (buf);
  GstMapInfo map;
  gsize k, i, j;
  gboolean dev;
  const guint8 *data;
  gint ret;

  if (!self->length)
    goto not_negotiated;
  dev = ecg_cuda_context_active (&self->cuda) && ecg_buffer_is_cuda (buf);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ | (dev ? ECG_MAP_CUDA : 0)))
    goto map_failed;
  data = map.data;
  if (dev) {
    /* the beats are kept on the host until EOS: one download a buffer */
    if (self->host_rows_size < map.size) {
      g_free (self->host_rows);
      self->host_rows = g_malloc (map.size);
      self->host_rows_size = map.size;
    }
    if ((ret = ecg_cuda_memcpy_d2h (self->host_rows, map.data, map.size,
                self->cuda.stream)) != ECG_CUDA_OK ||
        (ret = ecg_cuda_stream_sync (self->cuda.stream)) != ECG_CUDA_OK) {
      gst_buffer_unmap (buf, &map);
      goto cuda_failed;
    }
    data = self->host_rows;
  }
  k = map.size / (self->length * sizeof (gfloat));
  if (k * self->length * sizeof (gfloat) != map.size ||
      (meta && meta->n_beats != k)) {
    gst_buffer_unmap (buf, &map);
    goto bad_size;
  }
  for (i = 0; i < k; i++) {
    const gfloat *row = (const gfloat *) data + i * self->length;

    for (j = 0; j < (gsize) self->length && isfinite (row[j]); j++);
    if (j < (gsize) self->length) {
      if (self->skipped++ == 0)
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            ("Beats with non-finite samples are left out of training."),
            ("first at beat %" G_GUINT64_FORMAT, self->offered + self->skipped
                - 1));
      continue;
    }
    gst_vae_train_keep (self, row, meta ? &meta->beats[i] : NULL);
  }
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("no caps before the first buffer"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map a buffer"));
    return GST_FLOW_ERROR;
  }
bad_size:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("a beats buffer of %" G_GSIZE_FORMAT " bytes is not a whole number "
            "of %d-sample rows matching its meta", gst_buffer_get_size (buf),
            self->length));
    return GST_FLOW_ERROR;
  }
cuda_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("downloading the beats on device %d: %s", self->cuda.device,
            ecg_cuda_strerror (ret)));
    return GST_FLOW_ERROR;
  }
}

/* The seed's picture: decode (z) for z on a 5 x 5 grid over [-5, 5]^2,
 * z0 across, z1 upwards. */
static gboolean
gst_vae_train_plot (GstVaeTrain * self, const gfloat * params,
    const gchar * path)
{
  const gint G = 5, CW = 220, CH = 140;
  gfloat z[2 * 25], recon[25 * VAE_BEAT_LENGTH];
  gpointer ws = g_malloc (vae_workspace_size (25));
  cairo_surface_t *surf;
  cairo_t *cr;
  cairo_status_t st;
  gint a, b, j;
  gfloat lo = G_MAXFLOAT, hi = -G_MAXFLOAT;

  for (a = 0; a < G; a++)
    for (b = 0; b < G; b++) {
      z[2 * (a * G + b)] = -5.0f + 10.0f * b / (G - 1);
      z[2 * (a * G + b) + 1] = 5.0f - 10.0f * a / (G - 1);
    }
  vae_decode_ref (params, z, 25, recon, ws);
  g_free (ws);
  for (j = 0; j < 25 * VAE_BEAT_LENGTH; j++) {
    lo = MIN (lo, recon[j]);
    hi = MAX (hi, recon[j]);
  }
  if (!(hi - lo > 1e-6f))
    hi = lo + 1.0f;

  surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, G * CW, G * CH);
  cr = cairo_create (surf);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_line_width (cr, 1.2);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
      CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  for (a = 0; a < G; a++)
    for (b = 0; b < G; b++) {
      const gfloat *r = recon + (a * G + b) * VAE_BEAT_LENGTH;
      gdouble x0 = b * CW, y0 = a * CH;
      gchar text[64];

      cairo_set_source_rgb (cr, 0.8, 0.8, 0.8);
      cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, CW - 1, CH - 1);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.1, 0.2, 0.7);
      for (j = 0; j < VAE_BEAT_LENGTH; j++) {
        gdouble px = x0 + 6 + (CW - 12.0) * j / (VAE_BEAT_LENGTH - 1);
        gdouble py = y0 + CH - 6 - (CH - 24.0) * (r[j] - lo) / (hi - lo);

        if (j == 0)
          cairo_move_to (cr, px, py);
        else
          cairo_line_to (cr, px, py);
      }
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      g_snprintf (text, sizeof (text), "z = (%.1f, %.1f)", z[2 * (a * G + b)],
          z[2 * (a * G + b) + 1]);
      cairo_move_to (cr, x0 + 6, y0 + 13);
      cairo_show_text (cr, text);
    }
  cairo_destroy (cr);
  st = cairo_surface_write_to_png (surf, path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the plot \"%s\".", path),
        ("cairo: %s", cairo_status_to_string (st)));
    return FALSE;
  }
  return TRUE;
}

static gint
cmp_u32 (gconstpointer a, gconstpointer b, gpointer user_data)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* Shuffles the kept beats, trains on the first part, calibrates on the
 * rest and writes the model.  Returns FALSE after posting an error. */
/* Device copies for training and calibration on CUDA */
typedef struct
{
  gint device;
  gfloat *rows, *params, *m, *v, *mu, *logvar, *err;
  gpointer ws, host_ws;
} VaeTrainDevice;

/* After a failure the stream may still use the blocks: drained first */
static void
vae_train_device_free (VaeTrainDevice * d, GstElement * element,
    gpointer stream)
{
  if (d->device < 0)
    return;
  ecg_cuda_drain (element, stream);
  {
    gpointer *blocks[] = { (gpointer *) & d->rows, (gpointer *) & d->params,
      (gpointer *) & d->m, (gpointer *) & d->v, (gpointer *) & d->mu,
      (gpointer *) & d->logvar, (gpointer *) & d->err, &d->ws
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (blocks); i++)
      ecg_cuda_release (element, d->device, blocks[i]);
  }
  g_free (d->host_ws);
  memset (d, 0, sizeof (*d));
  d->device = -1;
}

/* Uploads the n prepared rows and the initial state; points @ts at the
 * device copies of params, m and v */
static gint
vae_train_device_setup (VaeTrainDevice * d, gint device, gpointer stream,
    const gfloat * rows, gsize n, gsize length, gsize n_train, gsize n_cal,
    gsize batch, VaeTrainState * ts)
{
  gsize P = VAE_N_PARAMS * sizeof (gfloat), D = VAE_LATENT_DIMS;
  gint ret;

  d->device = device;
  if ((ret = ecg_cuda_malloc (device, n * length * sizeof (gfloat),
              (void **) &d->rows)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, P, (void **) &d->params)) !=
      ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, P, (void **) &d->m)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, P, (void **) &d->v)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, n_cal * D * sizeof (gfloat),
              (void **) &d->mu)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, n_cal * D * sizeof (gfloat),
              (void **) &d->logvar)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, n_cal * sizeof (gfloat),
              (void **) &d->err)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (device, vae_train_cuda_workspace_size (n_train,
                  batch), &d->ws)) != ECG_CUDA_OK)
    return ret;
  d->host_ws = g_malloc (MAX (vae_train_cuda_host_workspace_size (n_train), 1));
  if ((ret = ecg_cuda_memcpy_h2d (d->rows, rows, n * length * sizeof (gfloat),
              stream)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_memcpy_h2d (d->params, ts->params, P, stream)) !=
      ECG_CUDA_OK ||
      (ret = ecg_cuda_memcpy_h2d (d->m, ts->m, P, stream)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_memcpy_h2d (d->v, ts->v, P, stream)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_stream_sync (stream)) != ECG_CUDA_OK)
    return ret;
  ts->params = d->params;
  ts->m = d->m;
  ts->v = d->v;
  return ECG_CUDA_OK;
}

static gboolean
gst_vae_train_finish (GstVaeTrain * self)
{
  g_autoptr (EcgVaeModel) model = NULL;
  gchar *location, *plot_location;
  guint epochs, batch, n, n_train, n_cal, e, i;
  gdouble lr, frac;
  guint64 seed;
  gint64 t_start;
  VaeTrainState ts;
  VaeRng split;
  gfloat *m, *v, *rows, *mu, *logvar, *err;
  guint64 *rr;
  guint32 *flags, *order;
  gpointer ws;
  GError *error = NULL;
  gboolean ok = FALSE, on_dev = ecg_cuda_context_active (&self->cuda);
  gint st = VAE_OK;
  VaeTrainDevice d;
  gpointer stream = self->cuda.stream;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  plot_location = self->plot_location && *self->plot_location ?
      g_strdup (self->plot_location) : NULL;
  epochs = self->epochs;
  batch = self->batch_size;
  lr = self->learning_rate;
  seed = self->seed;
  frac = self->train_fraction;
  GST_OBJECT_UNLOCK (self);

  n = self->flags->len;
  /* score_calibrate_ref () needs two beats: keep them from training */
  n_train = (guint) floor (n * frac + 0.5);
  n_train = MIN (n_train, n > 2 ? n - 2 : 0);
  n_cal = n - n_train;
  if (n_train < 1 || n_cal < 2) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Not enough beats to train a model."),
        ("%u beats: %u to train, %u to calibrate", n, n_train, n_cal));
    g_free (location);
    g_free (plot_location);
    return FALSE;
  }

  /* a seeded permutation splits train from calibration */
  order = g_new (guint32, n);
  for (i = 0; i < n; i++)
    order[i] = i;
  vae_rng_seed (&split, seed ^ G_GUINT64_CONSTANT (0x0123456789abcdef));
  for (i = n - 1; i > 0; i--) {
    guint32 j = (guint32) vae_rng_below (&split, i + 1), t = order[i];

    order[i] = order[j];
    order[j] = t;
  }
  /* the score follows the rhythm of a stream, so the calibration beats go
   * in stream order (a record's first beat has rr = 0, which starts a new
   * stream for the calibration) */
  g_qsort_with_data (order + n_train, n_cal, sizeof (guint32), cmp_u32, NULL);
  rows = g_new (gfloat, (gsize) n * self->length);
  rr = g_new (guint64, n);
  flags = g_new (guint32, n);
  for (i = 0; i < n; i++) {
    memcpy (rows + (gsize) i * self->length,
        &g_array_index (self->rows, gfloat, (gsize) order[i] * self->length),
        self->length * sizeof (gfloat));
    rr[i] = g_array_index (self->rr, guint64, order[i]);
    flags[i] = g_array_index (self->flags, guint32, order[i]);
  }
  g_free (order);
  score_prepare_rows_ref (rows, n, self->length);

  model = g_new0 (EcgVaeModel, 1);
  model->rate = self->rate;
  model->length = self->length;
  model->latent_dims = VAE_LATENT_DIMS;
  model->input = g_strdup (score_input_name ());
  m = g_new0 (gfloat, VAE_N_PARAMS);
  v = g_new0 (gfloat, VAE_N_PARAMS);
  vae_train_init_ref (&ts, model->params, m, v, seed);
  ts.batch_size = batch;
  ts.lr = lr;
  memset (&d, 0, sizeof (d));
  d.device = -1;
  ws = NULL;
  if (on_dev) {
    st = vae_train_device_setup (&d, self->cuda.device, stream, rows, n,
        self->length, n_train, n_cal, batch, &ts);
    if (st != ECG_CUDA_OK) {
      g_free (m);
      g_free (v);
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
          ("setting up training on device %d: %s", self->cuda.device,
              ecg_cuda_strerror (st)));
      goto done;
    }
  } else {
    ws = g_malloc (vae_train_workspace_size (n_train, batch));
  }

  GST_INFO_OBJECT (self, "training on %u beats, calibrating on %u, %u epochs "
      "on %s", n_train, n_cal, epochs, on_dev ? "CUDA" : "the CPU");
  t_start = g_get_monotonic_time ();
  for (e = 0; e < epochs; e++) {
    gdouble loss = 0.0;

    if (on_dev)
      st = vae_train_epoch_cuda (&ts, d.rows, n_train, d.ws, d.host_ws,
          &loss, stream);
    else
      st = vae_train_epoch_ref (&ts, rows, n_train, ws, &loss);
    if (st != VAE_OK)
      break;
    GST_INFO_OBJECT (self, "epoch %u/%u loss %.6f", e + 1, epochs, loss);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("vaetrain-progress", "epoch", G_TYPE_UINT,
                e + 1, "epochs", G_TYPE_UINT, epochs, "loss", G_TYPE_DOUBLE,
                loss, NULL)));
  }
  g_free (ws);
  g_free (m);
  g_free (v);
  /* the trained weights back to the model (also after a failed epoch:
   * they are then only freed) */
  if (on_dev && st == VAE_OK) {
    st = ecg_cuda_memcpy_d2h (model->params, d.params,
        VAE_N_PARAMS * sizeof (gfloat), stream);
    if (st == ECG_CUDA_OK)
      st = ecg_cuda_stream_sync (stream);
  }
  if (st == VAE_OK)
    GST_INFO_OBJECT (self, "%u epochs on %u beats in %.3f s", epochs,
        n_train, (g_get_monotonic_time () - t_start) / 1e6);
  if (st != VAE_OK) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Training failed."),
        ("epoch %u: %s", e + 1, st <= ECG_CUDA_ERR_NO_DEVICE ?
            ecg_cuda_strerror (st) : vae_strerror (st)));
    goto done;
  }

  /* calibration on the beats the network did not see */
  mu = g_new (gfloat, (gsize) n_cal * VAE_LATENT_DIMS);
  logvar = g_new (gfloat, (gsize) n_cal * VAE_LATENT_DIMS);
  err = g_new (gfloat, n_cal);
  ws = NULL;
  if (on_dev) {
    gsize D = VAE_LATENT_DIMS;

    st = vae_score_cuda (d.params, d.rows + (gsize) n_train * self->length,
        n_cal, d.mu, d.logvar, NULL, d.err, NULL, stream);
    if (st == VAE_OK &&
        (st = ecg_cuda_memcpy_d2h (mu, d.mu, n_cal * D * sizeof (gfloat),
                stream)) == ECG_CUDA_OK &&
        (st = ecg_cuda_memcpy_d2h (logvar, d.logvar,
                n_cal * D * sizeof (gfloat), stream)) == ECG_CUDA_OK &&
        (st = ecg_cuda_memcpy_d2h (err, d.err, n_cal * sizeof (gfloat),
                stream)) == ECG_CUDA_OK)
      st = ecg_cuda_stream_sync (stream);
  } else {
    ws = g_malloc (vae_workspace_size (n_cal));
    st = vae_score_ref (model->params, rows + (gsize) n_train * self->length,
        n_cal, mu, logvar, NULL, err, ws);
  }
  if (st == VAE_OK)
    st = score_calibrate_ref (mu, logvar, err, rr + n_train, flags + n_train,
        n_cal, self->rate, &model->cal);
  g_free (ws);
  g_free (mu);
  g_free (logvar);
  g_free (err);
  if (st != 0) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Calibration failed."),
        ("%u calibration beats, status %d (%s)", n_cal, st,
            st <= ECG_CUDA_ERR_NO_DEVICE ? ecg_cuda_strerror (st) : "-"));
    goto done;
  }
  model->calibrated = TRUE;

  if (!ecg_vae_model_save (model, location, &error)) {
    ecg_vae_model_post_error (GST_ELEMENT (self), location, error);
    g_clear_error (&error);
    goto done;
  }
  GST_INFO_OBJECT (self, "wrote %s", location);
  if (plot_location && !gst_vae_train_plot (self, model->params, plot_location))
    goto done;
  ok = TRUE;

done:
  vae_train_device_free (&d, GST_ELEMENT (self), stream);
  g_free (rows);
  g_free (rr);
  g_free (flags);
  g_free (location);
  g_free (plot_location);
  return ok;
}

static gboolean
gst_vae_train_event (GstBaseSink * sink, GstEvent * event)
{
  GstVaeTrain *self = GST_VAE_TRAIN (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->flags) {
    if (!gst_vae_train_finish (self)) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_vae_train_stop (GstBaseSink * sink)
{
  GstVaeTrain *self = GST_VAE_TRAIN (sink);

  gst_vae_train_clear (self);
  g_clear_pointer (&self->host_rows, g_free);
  self->host_rows_size = 0;
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  return TRUE;
}

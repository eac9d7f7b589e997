/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-vaescore
 * @title: vaescore
 *
 * Scores every beat with a LightVAE (the seed's model) and flags the
 * outliers.  Input is `application/x-ecg-beats` (K rows of L floats), output
 * `application/x-ecg-scores, latent-dims=2`: per beat the latent mean and
 * log-variance, the reconstruction error of decode(mean), the outlier score
 * and the outlier flag (see ecg/ecgmeta.h).  The beat meta is carried over;
 * a beats buffer without one (from appsrc, or filesrc with caps) gets
 * records numbered from the buffer's position with no RR interval.  The
 * input rows stay attached to the output as its parent buffer, so that
 * latentsink can draw the beats.
 *
 * The score adds three parts, each in robust standard deviations of the
 * model's calibration beats: how much worse than the patient's usual beat
 * the VAE rebuilds this one, how far its latent mean lies from the usual
 * one, and how premature its RR interval is against the median of the
 * previous eight (docs/vaescore.md).  With #GstVaeScore:adapt (the
 * default) "usual" means the medians of this stream's last five minutes,
 * learned from its first 16 beats on: each patient is compared with
 * themselves.  Without it, the training set's medians are used.  A beat is an outlier when its score exceeds
 * #GstVaeScore:threshold (default: the threshold calibrated at training
 * time); each outlier posts an element message named `ecg-outlier` with
 * `time` and `rpeak-time` (guint64 stream time in nanoseconds), `rpeak`
 * (guint64 sample), `rr` (gdouble seconds, 0 if unknown), `score` and
 * `threshold` (gdouble).
 *
 * #GstVaeScore:model names a safetensors file written by vaetrain or by
 * PyTorch; unset, the model installed with the plugin is used.  A model
 * trained for another sample rate or beat length is refused with an error
 * that names the fix.  A model without score calibration needs an explicit
 * #GstVaeScore:threshold; its scores are then unscaled (centres 0, scales
 * 1: the log reconstruction error, the latent distance and the
 * prematurity add up as they are).  Rows go to the network as the model's
 * `input` metadata says: median-removed (vaetrain's models) or raw (the
 * seed's models; files without the key, as PyTorch writes them).
 *
 * #GstVaeScore:backend chooses the CPU or CUDA (auto: CUDA when a device is
 * present) and #GstVaeScore:cuda-device-id the device.  On CUDA the encoder
 * runs on the device; only mu, logvar and the reconstruction error of each
 * beat come back for the score, and the records go out in
 * memory:CUDAMemory when downstream takes it.  A model that wants
 * median-removed rows (the default one) has them prepared on the device
 * too: the rows never visit the host.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m csvecgsrc location=119.csv column=MLII rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv ! nmsgate ! beatembed ! vaescore ! fakesink
 * ]| Prints an ecg-outlier message for each abnormal beat.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstvaescore.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "gstecgcudakernels.h"
#include "gstvaemodel.h"

GST_DEBUG_CATEGORY_STATIC (gst_vae_score_debug);
#define GST_CAT_DEFAULT gst_vae_score_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_THRESHOLD -1.0
#define DEFAULT_ADAPT TRUE
#define DEFAULT_POST_MESSAGES TRUE

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_THRESHOLD,
  PROP_ADAPT,
  PROP_OUTLIERS,
  PROP_POST_MESSAGES,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SINK_CAPS \
  ECG_BEATS_CAPS_NAME ", format = (string) F32LE, " \
  "length = (int) [ 1, 65536 ], rate = (int) [ 1, 100000 ]"
#define SRC_CAPS \
  ECG_SCORES_CAPS_NAME ", format = (string) F32LE, " \
  "latent-dims = (int) 2, rate = (int) [ 1, 100000 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

struct _GstVaeScore
{
  GstBaseTransform parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *model_path;
  gdouble threshold;
  gboolean adapt;
  gboolean post_messages;
  guint64 n_outliers;           /* statistic */

  /* set in start(), streaming thread */
  EcgVaeModel *model;
  gchar *model_used;
  gboolean prepare;             /* the model wants median-removed rows */
  ScoreState *score;
  gdouble thr;

  /* negotiated */
  gint rate;
  gint length;
  GstCaps *refused_caps;        /* caps already reported as unusable */

  /* streaming state and scratch, grown to the largest buffer */
  guint64 beats_seen;
  gsize cap;
  gfloat *rows, *mu, *logvar, *err, *scores;
  guint64 *rr;
  guint32 *flags;
  gpointer workspace;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;

  /* the CUDA path's scratch, streaming thread, grown with the host scratch
   * (cap beats): the parameters, prepared rows, and the encoder outputs;
   * recs holds the records when they leave in CUDA memory */
  gfloat *d_params;
  gfloat *d_rows, *d_mu, *d_logvar, *d_err;
  gsize d_cap;
  gfloat *recs;
};

#define gst_vae_score_parent_class parent_class
G_DEFINE_TYPE (GstVaeScore, gst_vae_score, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (vaescore, "vaescore", GST_RANK_NONE,
    GST_TYPE_VAE_SCORE);

static void gst_vae_score_finalize (GObject * object);
static void gst_vae_score_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_vae_score_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_vae_score_start (GstBaseTransform * trans);
static GstCaps *gst_vae_score_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_vae_score_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_vae_score_decide_allocation (GstBaseTransform * trans,
    GstQuery * query);
static gboolean gst_vae_score_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize);
static GstFlowReturn gst_vae_score_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static gboolean gst_vae_score_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_vae_score_stop (GstBaseTransform * trans);

static void
gst_vae_score_class_init (GstVaeScoreClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = gst_vae_score_finalize;
  gobject_class->set_property = gst_vae_score_set_property;
  gobject_class->get_property = gst_vae_score_get_property;

  /**
   * GstVaeScore:model:
   *
   * Path of the model (safetensors).  Unset: the model installed with the
   * plugin.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "LightVAE model file (safetensors); unset = the bundled model",
          DEFAULT_MODEL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeScore:threshold:
   *
   * Score above which a beat is an outlier; negative = the threshold
   * calibrated with the model.
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Outlier score threshold (negative = the model's calibration)",
          -1.0, G_MAXDOUBLE, DEFAULT_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeScore:adapt:
   *
   * Score each beat against this stream's own usual beats (running medians
   * over the last five minutes, from the 16th beat on) instead of the
   * training set's.
   */
  g_object_class_install_property (gobject_class, PROP_ADAPT,
      g_param_spec_boolean ("adapt", "Adapt",
          "Score against this stream's own usual beats (per-patient "
          "calibration)",
          DEFAULT_ADAPT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstVaeScore:outliers:
   *
   * Outlier beats since the element started.
   */
  g_object_class_install_property (gobject_class, PROP_OUTLIERS,
      g_param_spec_uint64 ("outliers", "Outliers",
          "Outlier beats since the element started", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstVaeScore:post-messages:
   *
   * Post an `ecg-outlier` element message for each outlier beat.  The
   * records in the output buffers flag the outliers either way; turn the
   * messages off where nothing reads them (replaying an archive into a
   * file), since a recording with frequent ectopic beats makes thousands.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post an ecg-outlier element message for each outlier beat",
          DEFAULT_POST_MESSAGES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstVaeScore:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstVaeScore:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  ecg_element_class_add_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "VAE beat scorer", "Filter/Analyzer",
      "Scores ECG beats with a variational autoencoder and reports outliers",
      "gst-ecg authors <gst-ecg@example.invalid>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_vae_score_start);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_vae_score_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_vae_score_set_caps);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_vae_score_decide_allocation);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (gst_vae_score_transform_size);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_vae_score_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_vae_score_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vae_score_stop);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_vae_score_debug, "vaescore", 0,
      "VAE beat scorer");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_vae_score_init (GstVaeScore * self)
{
  self->model_path = NULL;
  self->threshold = DEFAULT_THRESHOLD;
  self->adapt = DEFAULT_ADAPT;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->d_params = self->d_rows = self->d_mu = NULL;
  self->d_logvar = self->d_err = NULL;
  self->d_cap = 0;
  self->recs = NULL;
}

static void
gst_vae_score_free_scratch (GstVaeScore * self)
{
  g_clear_pointer (&self->rows, g_free);
  g_clear_pointer (&self->mu, g_free);
  g_clear_pointer (&self->logvar, g_free);
  g_clear_pointer (&self->err, g_free);
  g_clear_pointer (&self->scores, g_free);
  g_clear_pointer (&self->rr, g_free);
  g_clear_pointer (&self->flags, g_free);
  g_clear_pointer (&self->workspace, g_free);
  g_clear_pointer (&self->recs, g_free);
  self->cap = 0;
}

static void
gst_vae_score_free_device (GstVaeScore * self)
{
  gint dev = self->cuda.device;

  if (dev >= 0) {
    GstElement *e = GST_ELEMENT (self);

    ecg_cuda_drain (e, self->cuda.stream);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_params);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_rows);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_mu);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_logvar);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_err);
  }
  self->d_params = self->d_rows = self->d_mu = NULL;
  self->d_logvar = self->d_err = NULL;
  self->d_cap = 0;
}

static void
gst_vae_score_finalize (GObject * object)
{
  GstVaeScore *self = GST_VAE_SCORE (object);

  gst_vae_score_free_device (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_free (self->model_path);
  g_free (self->model_used);
  g_clear_pointer (&self->model, ecg_vae_model_free);
  g_clear_pointer (&self->score, score_state_free);
  gst_clear_caps (&self->refused_caps);
  gst_vae_score_free_scratch (self);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_vae_score_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVaeScore *self = GST_VAE_SCORE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_ADAPT:
      self->adapt = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
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
gst_vae_score_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVaeScore *self = GST_VAE_SCORE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_ADAPT:
      g_value_set_boolean (value, self->adapt);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_OUTLIERS:
      g_value_set_uint64 (value, self->n_outliers);
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
gst_vae_score_start (GstBaseTransform * trans)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);
  GError *err = NULL;
  gdouble threshold;

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  GST_OBJECT_LOCK (self);
  g_free (self->model_used);
  self->model_used = self->model_path && *self->model_path ?
      g_strdup (self->model_path) : NULL;
  threshold = self->threshold;
  self->n_outliers = 0;
  GST_OBJECT_UNLOCK (self);

  if (!self->model_used)
    self->model_used = ecg_vae_model_default_path ();

  g_clear_pointer (&self->model, ecg_vae_model_free);
  self->model = ecg_vae_model_load (self->model_used, &err);
  if (!self->model) {
    ecg_vae_model_post_error (GST_ELEMENT (self), self->model_used, err);
    g_clear_error (&err);
    return FALSE;
  }
  if (threshold < 0 && !self->model->calibrated) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        ("The model \"%s\" has no score calibration; set threshold.",
            self->model_used), ("no calibration keys in __metadata__"));
    return FALSE;
  }
  self->prepare = g_strcmp0 (self->model->input, ECG_VAE_INPUT_RAW) != 0;
  self->thr = threshold >= 0 ? threshold :
      score_calibration_threshold (&self->model->cal);
  self->rate = 0;
  self->length = 0;
  gst_clear_caps (&self->refused_caps);
  self->beats_seen = 0;
  GST_DEBUG_OBJECT (self, "model %s: %d Hz, %d samples, threshold %g",
      self->model_used, self->model->rate, self->model->length, self->thr);
  return TRUE;
}

static GstCaps *
gst_vae_score_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);
  GstCaps *res = gst_caps_new_empty ();
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *in = gst_caps_get_structure (caps, i);
    const GValue *rate = gst_structure_get_value (in, "rate");
    GstStructure *s;

    if (direction == GST_PAD_SINK)
      s = gst_structure_new (ECG_SCORES_CAPS_NAME, "format", G_TYPE_STRING,
          "F32LE", "latent-dims", G_TYPE_INT, VAE_LATENT_DIMS, NULL);
    else
      s = gst_structure_new (ECG_BEATS_CAPS_NAME, "format", G_TYPE_STRING,
          "F32LE", "length", GST_TYPE_INT_RANGE, 1, 65536, NULL);
    if (rate)
      gst_structure_set_value (s, "rate", rate);
    else
      gst_structure_set (s, "rate", GST_TYPE_INT_RANGE, 1, ECG_MAX_RATE, NULL);
    gst_caps_append_structure (res, s);
  }
  res = ecg_transform_caps_memory (res,
      ecg_cuda_context_wants_cuda (&self->cuda, GST_ELEMENT (self),
          &self->backend), direction);

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (res);
    res = tmp;
  }
  return res;
}

static gboolean
gst_vae_score_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);
  GstStructure *s = gst_caps_get_structure (incaps, 0);
  ScoreConfig cfg;
  ScoreCalibration cal;
  gint rate, length;
  gboolean adapt;

  if (!gst_structure_get_int (s, "rate", &rate) ||
      !gst_structure_get_int (s, "length", &length)) {
    GST_ERROR_OBJECT (self, "incomplete caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  if (!self->model)
    return FALSE;

  /* The caps are valid but the model cannot read them: say how to fix,
   * once (the sticky caps event comes again with every buffer). */
  if (self->refused_caps && gst_caps_is_equal (incaps, self->refused_caps)) {
    GST_DEBUG_OBJECT (self, "caps already refused");
    return FALSE;
  }
  if (rate != self->model->rate) {
    gst_caps_replace (&self->refused_caps, incaps);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The model was trained on %d Hz beats but the stream is %d Hz; "
            "resample before rickerconv (audioresample ! "
            "audio/x-raw,rate=%d) or use a model trained at %d Hz.",
            self->model->rate, rate, self->model->rate, rate),
        ("model %s, caps %" GST_PTR_FORMAT, self->model_used, incaps));
    return FALSE;
  }
  if (length != self->model->length) {
    gst_caps_replace (&self->refused_caps, incaps);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The model expects beats of %d samples but the stream has %d; set "
            "beatembed length=%d or use a model trained on %d-sample beats.",
            self->model->length, length, self->model->length, length),
        ("model %s, caps %" GST_PTR_FORMAT, self->model_used, incaps));
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  adapt = self->adapt;
  GST_OBJECT_UNLOCK (self);

  score_config_init (&cfg, rate);
  cfg.adapt = adapt;
  if (self->model->calibrated) {
    cal = self->model->cal;
  } else {
    /* start() made sure a threshold is set; score without scaling */
    memset (&cal, 0, sizeof (cal));
    cal.lerr_scale = 1.0;
    cal.mu_scale[0] = cal.mu_scale[1] = 1.0;
    cal.score_scale = 1.0;
  }
  g_clear_pointer (&self->score, score_state_free);
  self->score = score_state_new (&cfg, &cal);
  if (!self->score) {
    GST_ERROR_OBJECT (self, "could not set up the scorer at %d Hz", rate);
    return FALSE;
  }
  self->rate = rate;
  self->length = length;
  return TRUE;
}

static gboolean
gst_vae_score_decide_allocation (GstBaseTransform * trans, GstQuery * query)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);
  GstCaps *caps;

  gst_query_parse_allocation (query, &caps, NULL);
  if (ecg_cuda_context_active (&self->cuda) && ecg_caps_is_cuda (caps))
    ecg_cuda_decide_allocation (query, self->cuda.allocator);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->decide_allocation (trans,
      query);
}

static gboolean
gst_vae_score_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gsize rec = ECG_SCORE_RECORD_FLOATS (VAE_LATENT_DIMS) * sizeof (gfloat);
  gint length;

  if (direction == GST_PAD_SINK) {
    if (!gst_structure_get_int (s, "length", &length) || length <= 0)
      return FALSE;
    *othersize = size / (length * sizeof (gfloat)) * rec;
  } else {
    s = gst_caps_get_structure (othercaps, 0);
    if (!gst_structure_get_int (s, "length", &length) || length <= 0)
      return FALSE;
    *othersize = size / rec * length * sizeof (gfloat);
  }
  return TRUE;
}

static void
gst_vae_score_ensure (GstVaeScore * self, gsize k)
{
  if (k <= self->cap)
    return;
  /* at least doubled: batches of slowly growing size reallocate rarely */
  k = MAX (k, 2 * self->cap);
  gst_vae_score_free_scratch (self);
  self->cap = k;
  self->rows = g_new (gfloat, k * self->length);
  self->mu = g_new (gfloat, k * VAE_LATENT_DIMS);
  self->logvar = g_new (gfloat, k * VAE_LATENT_DIMS);
  self->err = g_new (gfloat, k);
  self->scores = g_new (gfloat, k);
  self->rr = g_new (guint64, k);
  self->flags = g_new (guint32, k);
  self->workspace = g_malloc (vae_workspace_size (k));
  self->recs = g_new (gfloat, k * ECG_SCORE_RECORD_FLOATS (VAE_LATENT_DIMS));
}

/* Device scratch for k beats, and the parameters on the device */
static gint
gst_vae_score_ensure_device (GstVaeScore * self, gsize k)
{
  gint dev = self->cuda.device, ret;
  gsize D = VAE_LATENT_DIMS;

  if (!self->d_params) {
    if ((ret = ecg_cuda_malloc (dev, VAE_N_PARAMS * sizeof (gfloat),
                (void **) &self->d_params)) != ECG_CUDA_OK)
      return ret;
    if ((ret = ecg_cuda_memcpy_h2d (self->d_params, self->model->params,
                VAE_N_PARAMS * sizeof (gfloat), NULL)) != ECG_CUDA_OK)
      return ret;
  }
  if (k <= self->d_cap)
    return ECG_CUDA_OK;
  /* as large as the host scratch (grown by doubling) */
  k = MAX (k, self->cap);
  /* the stream may still read the old blocks */
  if ((ret = ecg_cuda_stream_sync (self->cuda.stream)) != ECG_CUDA_OK)
    return ret;
  /* each freed whatever the others did; the first failure is the error */
  if (!ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_rows)
      | !ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_mu)
      | !ecg_cuda_release (GST_ELEMENT (self), dev,
          (gpointer *) & self->d_logvar)
      | !ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_err)) {
    self->d_cap = 0;
    return ECG_CUDA_ERR_RUNTIME;
  }
  self->d_cap = 0;
  if ((ret = ecg_cuda_malloc (dev, k * self->length * sizeof (gfloat),
              (void **) &self->d_rows)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (dev, k * D * sizeof (gfloat),
              (void **) &self->d_mu)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (dev, k * D * sizeof (gfloat),
              (void **) &self->d_logvar)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_malloc (dev, k * sizeof (gfloat),
              (void **) &self->d_err)) != ECG_CUDA_OK)
    return ret;
  self->d_cap = k;
  return ECG_CUDA_OK;
}

/* The encoder on the device: mu, logvar and err of the k rows at @data
 * (device memory when @in_dev) into the host scratch.  Rows in CUDA memory
 * stay there: a raw model reads them where they are; for a median-removed
 * model they are copied into the device scratch (the input buffer stays
 * as it came, latentsink draws it) and prepared there, bit for bit as
 * score_prepare_rows_ref does.  A row with a non-finite sample is left as
 * it is, as on the CPU path: its NaN or infinity reaches the encoder, the
 * reconstruction error is NaN and so is the score. */
static gint
gst_vae_score_encode_cuda (GstVaeScore * self, const guint8 * data,
    gboolean in_dev, gsize k, const gchar ** what)
{
  gpointer stream = self->cuda.stream;
  gsize D = VAE_LATENT_DIMS, bytes = k * self->length * sizeof (gfloat);
  const gfloat *x = (const gfloat *) data;
  gint ret;

  *what = "allocating device memory";
  if ((ret = gst_vae_score_ensure_device (self, MAX (k, 1))) != ECG_CUDA_OK)
    return ret;
  if (!in_dev) {
    /* the caller keeps @data mapped until the stream is synchronised */
    *what = "uploading the rows";
    if ((ret = ecg_cuda_memcpy_h2d (self->d_rows, data, bytes, stream)) !=
        ECG_CUDA_OK)
      return ret;
    x = self->d_rows;
  } else if (self->prepare) {
    *what = "copying the rows";
    if ((ret = ecg_cuda_memcpy_d2d (self->d_rows, data, bytes, stream)) !=
        ECG_CUDA_OK)
      return ret;
    x = self->d_rows;
  }
  if (self->prepare) {
    *what = "score_prepare_rows_cuda";
    if ((ret = score_prepare_rows_cuda (self->d_rows, k, self->length, NULL,
                stream)) != SCORE_OK)
      return ret;
  }
  *what = "vae_score_cuda";
  if ((ret = vae_score_cuda (self->d_params, x, k, self->d_mu,
              self->d_logvar, NULL, self->d_err, NULL, stream)) != VAE_OK)
    return ret;
  /* 2 D + 1 floats a beat come back for the scorer */
  *what = "downloading the latent means";
  if ((ret = ecg_cuda_memcpy_d2h (self->mu, self->d_mu,
              k * D * sizeof (gfloat), stream)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_memcpy_d2h (self->logvar, self->d_logvar,
              k * D * sizeof (gfloat), stream)) != ECG_CUDA_OK ||
      (ret = ecg_cuda_memcpy_d2h (self->err, self->d_err,
              k * sizeof (gfloat), stream)) != ECG_CUDA_OK)
    return ret;
  *what = "cudaStreamSynchronize";
  return ecg_cuda_stream_sync (stream);
}

static void
gst_vae_score_post_outlier (GstVaeScore * self, const EcgBeat * b, gfloat score)
{
  GstStructure *s;

  s = gst_structure_new ("ecg-outlier",
      "time", G_TYPE_UINT64, gst_util_uint64_scale_int (b->start, GST_SECOND,
          self->rate),
      "rpeak-time", G_TYPE_UINT64, gst_util_uint64_scale_int (b->rpeak,
          GST_SECOND, self->rate),
      "rpeak", G_TYPE_UINT64, b->rpeak,
      "rr", G_TYPE_DOUBLE, (gdouble) b->rr / self->rate,
      "score", G_TYPE_DOUBLE, (gdouble) score,
      "threshold", G_TYPE_DOUBLE, self->thr, NULL);
  GST_LOG_OBJECT (self, "outlier %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static GstFlowReturn
gst_vae_score_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);
  EcgBeatMeta *meta;
  EcgBeat *synth = NULL;
  const EcgBeat *beats;
  GstMapInfo inmap, outmap;
  gsize k, i, row_bytes, D = VAE_LATENT_DIMS;
  gsize rec = ECG_SCORE_RECORD_FLOATS (VAE_LATENT_DIMS);
  guint64 outliers = 0;
  gboolean post;
  gint st;
  gboolean on_dev, in_dev, out_dev;
  const gchar *what = NULL;
  gfloat *recs;

  if (!self->score)
    goto not_negotiated;

  /* beats after a gap in the stream start a new rhythm */
  if (GST_BUFFER_IS_DISCONT (inbuf) && self->beats_seen > 0) {
    GST_DEBUG_OBJECT (self, "discont, restarting the per-stream state");
    score_state_reset (self->score);
  }

  row_bytes = (gsize) self->length * sizeof (gfloat);
  on_dev = ecg_cuda_context_active (&self->cuda);
  in_dev = on_dev && ecg_buffer_is_cuda (inbuf);
  out_dev = on_dev && ecg_buffer_is_cuda (outbuf);
  if (!gst_buffer_map (inbuf, &inmap,
          GST_MAP_READ | (in_dev ? ECG_MAP_CUDA : 0)))
    goto map_failed;
  k = inmap.size / row_bytes;
  if (k * row_bytes != inmap.size) {
    gst_buffer_unmap (inbuf, &inmap);
    goto bad_size;
  }

  meta = ecg_buffer_get_beat_meta (inbuf);
  if (meta && meta->n_beats != k) {
    gst_buffer_unmap (inbuf, &inmap);
    goto bad_meta;
  }
  if (!meta) {
    /* rows from appsrc or a file: number them, no RR */
    synth = g_new0 (EcgBeat, k);
    for (i = 0; i < k; i++) {
      synth[i].start = (self->beats_seen + i) * self->length;
      synth[i].length = self->length;
      synth[i].rpeak = synth[i].start;
    }
  }
  beats = meta ? meta->beats : synth;

  gst_vae_score_ensure (self, MAX (k, 1));
  for (i = 0; i < k; i++) {
    self->rr[i] = beats[i].rr;
    self->flags[i] = beats[i].flags;
  }
  if (on_dev) {
    st = gst_vae_score_encode_cuda (self, inmap.data, in_dev, k, &what);
    gst_buffer_unmap (inbuf, &inmap);
    if (st != ECG_CUDA_OK) {
      g_free (synth);
      goto cuda_failed;
    }
  } else {
    memcpy (self->rows, inmap.data, inmap.size);
    gst_buffer_unmap (inbuf, &inmap);

    /* row by row: a row with a non-finite sample stops the kernel, and the
     * rows after it must still be prepared (the bad one scores NaN) */
    for (i = 0; self->prepare && i < k; i++)
      score_prepare_rows_ref (self->rows + i * self->length, 1, self->length);
    st = vae_score_ref (self->model->params, self->rows, k, self->mu,
        self->logvar, NULL, self->err, self->workspace);
    if (st != VAE_OK) {
      g_free (synth);
      goto score_failed;
    }
  }
  score_beats_ref (self->score, self->mu, self->logvar, self->err, self->rr,
      self->flags, k, self->scores);

  if (!gst_buffer_map (outbuf, &outmap,
          GST_MAP_WRITE | (out_dev ? ECG_MAP_CUDA : 0))) {
    g_free (synth);
    goto map_failed;
  }
  /* CUDA memory out: assembled on the host, then one upload */
  GST_OBJECT_LOCK (self);
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  recs = out_dev ? self->recs : (gfloat *) outmap.data;
  for (i = 0; i < k; i++) {
    gfloat *r = recs + i * rec;
    gboolean outlier = self->scores[i] > self->thr;
    gsize d;

    for (d = 0; d < D; d++) {
      r[d] = self->mu[i * D + d];
      r[D + d] = self->logvar[i * D + d];
    }
    r[ECG_SCORE_ERROR (D)] = self->err[i];
    r[ECG_SCORE_SCORE (D)] = self->scores[i];
    r[ECG_SCORE_OUTLIER (D)] = outlier ? 1.0f : 0.0f;
    if (outlier) {
      outliers++;
      if (post)
        gst_vae_score_post_outlier (self, &beats[i], self->scores[i]);
    }
  }
  if (out_dev) {
    what = "uploading the records";
    st = ecg_cuda_memcpy_h2d (outmap.data, recs, k * rec * sizeof (gfloat),
        self->cuda.stream);
    if (st == ECG_CUDA_OK) {
      what = "cudaStreamSynchronize";
      st = ecg_cuda_stream_sync (self->cuda.stream);
    }
    if (st != ECG_CUDA_OK) {
      gst_buffer_unmap (outbuf, &outmap);
      g_free (synth);
      goto cuda_failed;
    }
  }
  gst_buffer_unmap (outbuf, &outmap);

  if (!ecg_buffer_get_beat_meta (outbuf))
    ecg_buffer_add_beat_meta (outbuf, beats, k);
  gst_buffer_add_parent_buffer_meta (outbuf, inbuf);
  GST_BUFFER_OFFSET (outbuf) = self->beats_seen;
  GST_BUFFER_OFFSET_END (outbuf) = self->beats_seen + k;
  self->beats_seen += k;
  g_free (synth);

  if (outliers) {
    GST_OBJECT_LOCK (self);
    self->n_outliers += outliers;
    GST_OBJECT_UNLOCK (self);
  }
  GST_LOG_OBJECT (self, "scored %" G_GSIZE_FORMAT " beats, %" G_GUINT64_FORMAT
      " outliers", k, outliers);
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
            "of %d-sample rows", gst_buffer_get_size (inbuf), self->length));
    return GST_FLOW_ERROR;
  }
bad_meta:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("the beat meta describes %u beats, the buffer holds %" G_GSIZE_FORMAT,
            meta->n_beats, k));
    return GST_FLOW_ERROR;
  }
score_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, (NULL),
        ("scoring failed: %s", vae_strerror (st)));
    return GST_FLOW_ERROR;
  }
cuda_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->cuda.device,
            ecg_cuda_strerror (st)));
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_vae_score_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      if (self->score)
        score_state_reset (self->score);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_vae_score_stop (GstBaseTransform * trans)
{
  GstVaeScore *self = GST_VAE_SCORE (trans);

  gst_vae_score_free_device (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_clear_pointer (&self->model, ecg_vae_model_free);
  g_clear_pointer (&self->score, score_state_free);
  gst_clear_caps (&self->refused_caps);
  gst_vae_score_free_scratch (self);
  return TRUE;
}

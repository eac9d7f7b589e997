/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-beatembed
 * @title: beatembed
 *
 * Cuts the ECG (channel 0 of nmsgate's output) into beats and emits them as
 * fixed-length rows.  Beat i is the signal from gate i to gate i+1,
 * zero-padded or cut to #GstBeatEmbed:length samples.  Output caps are
 * `application/x-ecg-beats, format=F32LE, length=L, rate=R`; a buffer holds
 * K rows of L floats (row-major) and an #EcgBeatMeta with one record per
 * row: start sample, true length, R-peak sample, RR interval and flags.
 *
 * Beats shorter than #GstBeatEmbed:min-length or longer than
 * #GstBeatEmbed:max-length (milliseconds) are often the premature or
 * dropped beats a monitor must see, so by default they are kept and
 * flagged; #GstBeatEmbed:prune=true drops them (and the open beat at end of
 * stream) exactly as the seed does.  At end of stream, and where the
 * samples break off (a DISCONT buffer whose first sample does not follow
 * the last one), the open beat is emitted with the TAIL flag.
 *
 * Rows are collected up to #GstBeatEmbed:beats-per-buffer, but a row never
 * waits longer than #GstBeatEmbed:max-latency milliseconds of stream time
 * once its beat has ended.  Memory is bounded: ten seconds of signal, one
 * open row and one output batch (on CUDA the signal ring holds 2^20 samples
 * more, about 4 MB, so that rows are cut from it in batches).
 *
 * #GstBeatEmbed:backend chooses the CPU or CUDA (auto: CUDA when a device
 * is present) and #GstBeatEmbed:cuda-device-id the device.  On CUDA the
 * signal history and the rows live on the device (memory:CUDAMemory out
 * when downstream takes it); the beat meta is built on the host as before.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Embeds every beat of a 250 Hz recording in 256-sample rows.
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate threshold=0 ! beatembed prune=true beats-per-buffer=1 ! fakesink
 * ]| The seed's beat selection, one beat per buffer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/audio/audio.h>

#include "gstbeatembed.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "gstecgcudakernels.h"

GST_DEBUG_CATEGORY_STATIC (gst_beat_embed_debug);
#define GST_CAT_DEFAULT gst_beat_embed_debug

#define DEFAULT_LENGTH 256
#define DEFAULT_MIN_LENGTH 400.0
#define DEFAULT_MAX_LENGTH 1024.0
#define DEFAULT_PRUNE FALSE
#define DEFAULT_BEATS_PER_BUFFER 64
#define DEFAULT_MAX_LATENCY 1000.0

/* seconds of signal kept for gates that the detector reports late */
#define LOOKBACK_S 10
/* samples that the device ring holds beyond the LOOKBACK_S of history: the
 * rows of finished beats stay there until one launch cuts them all */
#define CUDA_RING_SPARE (1 << 20)

enum
{
  PROP_0,
  PROP_LENGTH,
  PROP_MIN_LENGTH,
  PROP_MAX_LENGTH,
  PROP_PRUNE,
  PROP_BEATS_PER_BUFFER,
  PROP_MAX_LATENCY,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SINK_CAPS \
  "audio/x-raw, format = (string) F32LE, rate = (int) [ 1, 100000 ], " \
  "channels = (int) 2, layout = (string) non-interleaved"
#define SRC_CAPS \
  ECG_BEATS_CAPS_NAME ", format = (string) F32LE, " \
  "length = (int) [ 1, 65536 ], rate = (int) [ 1, 100000 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

struct _GstBeatEmbed
{
  GstBaseTransform parent;

  /* properties, GST_OBJECT_LOCK */
  guint length;
  gdouble min_length_ms;
  gdouble max_length_ms;
  gboolean prune;
  guint beats_per_buffer;
  gdouble max_latency_ms;

  /* negotiated, streaming thread (copied from the properties in set_caps) */
  GstAudioInfo info;
  gint rate;
  guint row_len;
  guint64 min_len;
  guint64 max_len;
  gboolean do_prune;
  guint batch;
  guint64 max_wait;

  /* streaming state, streaming thread */
  gboolean negotiated;          /* set_caps allocated the state below */
  gfloat *hist;                 /* CPU: ring of the last hist_size samples */
  gsize hist_size;              /* the look-back, on either path */
  guint64 hist_end;             /* absolute index after the newest sample */
  gboolean have_open;
  EcgBeat open;                 /* the beat that the next gate will close */
  gfloat *open_row;             /* CPU only */
  guint open_fill;              /* samples of the open row the history had */
  guint64 prev_rpeak;
  gboolean have_prev_rpeak;
  gboolean started;
  gfloat *out_rows;             /* CPU: batch of rows being collected */
  EcgBeat *out_beats;
  guint n_out;
  guint64 beats_emitted;
  GQueue ready;                 /* finished output buffers */

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;

  /* the CUDA path's state, streaming thread: the signal ring, the open row
   * and the batch of rows on the device; the batch's starts and lengths on
   * the host and the device; the first CUDA failure of a buffer (d_ret,
   * d_what).  A closed beat only records its start and length: rows
   * n_gathered .. n_out - 1 of the batch are pending, still in the ring,
   * and one launch cuts them all (gst_beat_embed_gather) before the batch
   * leaves or a ring write would overwrite one of them.  The open row stays
   * in the ring too, unless a write would overwrite it first: it then moves
   * to d_open (open_snap) and grows there. */
  gboolean out_cuda;            /* negotiated memory:CUDAMemory out */
  gboolean d_alloc;             /* set_caps: (re)allocate on the device */
  gfloat *d_ring;               /* sample i at d_ring[i % d_ring_len] */
  gsize d_ring_len;             /* hist_size + at least CUDA_RING_SPARE */
  gfloat *d_open;
  gfloat *d_rows;
  guint64 *d_starts;
  guint32 *d_lens;
  guint64 *d_zero;              /* one 0: the open row starts at 0 */
  guint64 *h_starts;            /* pageable: free to reuse after a copy */
  guint32 *h_lens;
  guint n_gathered;
  gboolean open_snap;
  gint d_ret;
  const gchar *d_what;
};

#define gst_beat_embed_parent_class parent_class
G_DEFINE_TYPE (GstBeatEmbed, gst_beat_embed, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (beatembed, "beatembed", GST_RANK_NONE,
    GST_TYPE_BEAT_EMBED);

static void gst_beat_embed_finalize (GObject * object);
static void gst_beat_embed_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_beat_embed_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_beat_embed_start (GstBaseTransform * trans);
static GstCaps *gst_beat_embed_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_beat_embed_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_beat_embed_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_beat_embed_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn gst_beat_embed_generate_output (GstBaseTransform * trans,
    GstBuffer ** outbuf);
static gboolean gst_beat_embed_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_beat_embed_stop (GstBaseTransform * trans);

static void
gst_beat_embed_class_init (GstBeatEmbedClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = gst_beat_embed_finalize;
  gobject_class->set_property = gst_beat_embed_set_property;
  gobject_class->get_property = gst_beat_embed_get_property;

  /**
   * GstBeatEmbed:length:
   *
   * Samples per row; shorter beats are zero-padded, longer ones cut.
   */
  g_object_class_install_property (gobject_class, PROP_LENGTH,
      g_param_spec_uint ("length", "Length",
          "Samples per beat row (zero-padded or cut)", 1, 65536,
          DEFAULT_LENGTH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:min-length:
   *
   * Beats shorter than this many milliseconds get the SHORT flag (and are
   * dropped with prune=true); 400 ms is 100 samples at 250 Hz.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_LENGTH,
      g_param_spec_double ("min-length", "Minimum length",
          "Shortest regular beat in milliseconds", 0.0, 60000.0,
          DEFAULT_MIN_LENGTH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:max-length:
   *
   * Beats longer than this many milliseconds get the LONG flag (and are
   * dropped with prune=true); 1024 ms is 256 samples at 250 Hz.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_LENGTH,
      g_param_spec_double ("max-length", "Maximum length",
          "Longest regular beat in milliseconds", 0.0, 60000.0,
          DEFAULT_MAX_LENGTH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:prune:
   *
   * Drop beats outside [min-length, max-length] and the unfinished beat at
   * end of stream, as the seed does, instead of flagging them.
   */
  g_object_class_install_property (gobject_class, PROP_PRUNE,
      g_param_spec_boolean ("prune", "Prune",
          "Drop beats outside the length range instead of flagging them",
          DEFAULT_PRUNE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:beats-per-buffer:
   *
   * Most rows in one output buffer.
   */
  g_object_class_install_property (gobject_class, PROP_BEATS_PER_BUFFER,
      g_param_spec_uint ("beats-per-buffer", "Beats per buffer",
          "Most beats in one output buffer", 1, 65536,
          DEFAULT_BEATS_PER_BUFFER, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:max-latency:
   *
   * Longest time, in milliseconds of stream time, that a finished beat
   * waits for its batch to fill; 0 sends every beat at once.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_LATENCY,
      g_param_spec_double ("max-latency", "Maximum latency",
          "Longest wait of a finished beat for its batch, in milliseconds",
          0.0, 3600000.0, DEFAULT_MAX_LATENCY, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstBeatEmbed:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstBeatEmbed:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  ecg_element_class_add_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Beat embedding", "Filter/Converter",
      "Cuts a gated ECG into fixed-length beat rows",
      "gst-ecg authors <gst-ecg@example.invalid>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_beat_embed_start);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_beat_embed_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_beat_embed_set_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_beat_embed_query);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_beat_embed_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (gst_beat_embed_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_beat_embed_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_beat_embed_stop);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_beat_embed_debug, "beatembed", 0,
      "Beat embedding");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_beat_embed_init (GstBeatEmbed * self)
{
  self->length = DEFAULT_LENGTH;
  self->min_length_ms = DEFAULT_MIN_LENGTH;
  self->max_length_ms = DEFAULT_MAX_LENGTH;
  self->prune = DEFAULT_PRUNE;
  self->beats_per_buffer = DEFAULT_BEATS_PER_BUFFER;
  self->max_latency_ms = DEFAULT_MAX_LATENCY;
  gst_audio_info_init (&self->info);
  g_queue_init (&self->ready);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->out_cuda = self->d_alloc = FALSE;
  self->d_ring = self->d_open = self->d_rows = NULL;
  self->d_ring_len = 0;
  self->d_starts = self->d_zero = NULL;
  self->d_lens = NULL;
  self->h_starts = NULL;
  self->h_lens = NULL;
  self->n_gathered = 0;
  self->open_snap = FALSE;
  self->d_ret = ECG_CUDA_OK;
  self->d_what = NULL;
}

static void
gst_beat_embed_free_device (GstBeatEmbed * self)
{
  gint dev = self->cuda.device;

  if (dev >= 0) {
    GstElement *e = GST_ELEMENT (self);

    /* the stream may still use them */
    ecg_cuda_drain (e, self->cuda.stream);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_ring);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_open);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_rows);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_starts);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_lens);
    ecg_cuda_release (e, dev, (gpointer *) & self->d_zero);
  }
  self->d_ring = self->d_open = self->d_rows = NULL;
  self->d_ring_len = 0;
  self->d_starts = self->d_zero = NULL;
  self->d_lens = NULL;
  self->n_gathered = 0;
  self->open_snap = FALSE;
  g_clear_pointer (&self->h_starts, g_free);
  g_clear_pointer (&self->h_lens, g_free);
}

static void
gst_beat_embed_free_state (GstBeatEmbed * self)
{
  gst_beat_embed_free_device (self);
  self->negotiated = FALSE;
  g_clear_pointer (&self->hist, g_free);
  g_clear_pointer (&self->open_row, g_free);
  g_clear_pointer (&self->out_rows, g_free);
  g_clear_pointer (&self->out_beats, g_free);
  g_queue_clear_full (&self->ready, (GDestroyNotify) gst_buffer_unref);
}

static void
gst_beat_embed_finalize (GObject * object)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (object);

  gst_beat_embed_free_state (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_beat_embed_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LENGTH:
      self->length = g_value_get_uint (value);
      break;
    case PROP_MIN_LENGTH:
      self->min_length_ms = g_value_get_double (value);
      break;
    case PROP_MAX_LENGTH:
      self->max_length_ms = g_value_get_double (value);
      break;
    case PROP_PRUNE:
      self->prune = g_value_get_boolean (value);
      break;
    case PROP_BEATS_PER_BUFFER:
      self->beats_per_buffer = g_value_get_uint (value);
      break;
    case PROP_MAX_LATENCY:
      self->max_latency_ms = g_value_get_double (value);
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
gst_beat_embed_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LENGTH:
      g_value_set_uint (value, self->length);
      break;
    case PROP_MIN_LENGTH:
      g_value_set_double (value, self->min_length_ms);
      break;
    case PROP_MAX_LENGTH:
      g_value_set_double (value, self->max_length_ms);
      break;
    case PROP_PRUNE:
      g_value_set_boolean (value, self->prune);
      break;
    case PROP_BEATS_PER_BUFFER:
      g_value_set_uint (value, self->beats_per_buffer);
      break;
    case PROP_MAX_LATENCY:
      g_value_set_double (value, self->max_latency_ms);
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

/* Forget the signal and the open beat; finished rows are kept. */
static void
gst_beat_embed_reset (GstBeatEmbed * self)
{
  self->have_open = FALSE;
  self->open_fill = 0;
  self->open_snap = FALSE;
  self->have_prev_rpeak = FALSE;
  self->started = FALSE;
  self->hist_end = 0;
}

static gboolean
gst_beat_embed_start (GstBaseTransform * trans)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  gst_beat_embed_reset (self);
  self->n_out = self->n_gathered = 0;
  self->beats_emitted = 0;
  return TRUE;
}

static GstCaps *
gst_beat_embed_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);
  GstCaps *res = gst_caps_new_empty ();
  guint i, length;

  GST_OBJECT_LOCK (self);
  length = self->length;
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *in = gst_caps_get_structure (caps, i);
    const GValue *rate = gst_structure_get_value (in, "rate");
    GstStructure *s;

    if (direction == GST_PAD_SINK) {
      s = gst_structure_new (ECG_BEATS_CAPS_NAME, "format", G_TYPE_STRING,
          "F32LE", "length", G_TYPE_INT, (gint) length, NULL);
    } else {
      s = gst_structure_new ("audio/x-raw", "format", G_TYPE_STRING, "F32LE",
          "channels", G_TYPE_INT, 2, "layout", G_TYPE_STRING,
          "non-interleaved", NULL);
    }
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
gst_beat_embed_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);
  gint rate;

  if (!gst_audio_info_from_caps (&self->info, incaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  rate = GST_AUDIO_INFO_RATE (&self->info);

  GST_OBJECT_LOCK (self);
  self->row_len = self->length;
  self->min_len = (guint64) (self->min_length_ms * rate / 1000.0 + 0.5);
  self->max_len = (guint64) (self->max_length_ms * rate / 1000.0 + 0.5);
  self->do_prune = self->prune;
  self->batch = self->beats_per_buffer;
  self->max_wait = (guint64) (self->max_latency_ms * rate / 1000.0 + 0.5);
  GST_OBJECT_UNLOCK (self);

  if (self->min_len > self->max_len) {
    GST_ERROR_OBJECT (self, "min-length (%" G_GUINT64_FORMAT " samples) is "
        "above max-length (%" G_GUINT64_FORMAT ")", self->min_len,
        self->max_len);
    return FALSE;
  }

  /* rows collected under the old caps cannot leave under the new ones */
  if (self->n_out || !g_queue_is_empty (&self->ready))
    GST_WARNING_OBJECT (self, "caps changed, dropping %u unsent beats",
        self->n_out);
  gst_beat_embed_free_state (self);
  self->rate = rate;
  self->hist_size = (gsize) LOOKBACK_S *rate + self->row_len;
  /* the CUDA path keeps the signal and the rows on the device
   * (gst_beat_embed_cuda_alloc, on the first buffer) */
  if (!ecg_cuda_context_active (&self->cuda)) {
    self->hist = g_new0 (gfloat, self->hist_size);
    self->open_row = g_new0 (gfloat, self->row_len);
    self->out_rows = g_new (gfloat, (gsize) self->batch * self->row_len);
  }
  self->out_beats = g_new (EcgBeat, self->batch);
  self->n_out = self->n_gathered = 0;
  self->out_cuda = ecg_caps_is_cuda (outcaps);
  self->d_alloc = ecg_cuda_context_active (&self->cuda);
  self->negotiated = TRUE;
  gst_beat_embed_reset (self);

  GST_DEBUG_OBJECT (self, "rows of %u, beats %" G_GUINT64_FORMAT "..%"
      G_GUINT64_FORMAT " samples, prune %d, batch %u, wait %" G_GUINT64_FORMAT,
      self->row_len, self->min_len, self->max_len, self->do_prune,
      self->batch, self->max_wait);
  return TRUE;
}

static gboolean
gst_beat_embed_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);
  gboolean res;

  res = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);

  /* A beat leaves when the next gate closes it (at most max-length later)
   * and its batch is full or has waited max-latency. */
  if (res && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY &&
      direction == GST_PAD_SRC && self->rate > 0) {
    gboolean live;
    GstClockTime min, max, lat;

    gst_query_parse_latency (query, &live, &min, &max);
    lat = gst_util_uint64_scale_int (self->max_len + self->max_wait,
        GST_SECOND, self->rate);
    min += lat;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += lat;
    gst_query_set_latency (query, live, min, max);
  }
  return res;
}

/* Keeps the first CUDA failure of the current buffer for one error */
static gboolean
gst_beat_embed_cuda_ok (GstBeatEmbed * self, gint ret, const gchar * what)
{
  if (ret != ECG_CUDA_OK && self->d_ret == ECG_CUDA_OK) {
    self->d_ret = ret;
    self->d_what = what;
  }
  return ret == ECG_CUDA_OK;
}

/* Copies samples [from, to) of the stream out of the history ring: on the
 * CUDA path device to device (dst is then a device pointer). */
static void
gst_beat_embed_hist_read (GstBeatEmbed * self, guint64 from, guint64 to,
    gfloat * dst)
{
  guint64 i;

  if (ecg_cuda_context_active (&self->cuda)) {
    gsize pos = from % self->d_ring_len, n = to - from;
    gsize first = MIN (n, self->d_ring_len - pos);

    gst_beat_embed_cuda_ok (self, ecg_cuda_memcpy_d2d (dst, self->d_ring + pos,
            first * sizeof (gfloat), self->cuda.stream), "reading the ring");
    gst_beat_embed_cuda_ok (self, ecg_cuda_memcpy_d2d (dst + first,
            self->d_ring, (n - first) * sizeof (gfloat), self->cuda.stream),
        "reading the ring");
    return;
  }
  for (i = from; i < to; i++)
    *dst++ = self->hist[i % self->hist_size];
}

/* The device ring, open row and batch rows for the negotiated caps */
static gboolean
gst_beat_embed_cuda_alloc (GstBeatEmbed * self)
{
  gint dev = self->cuda.device;
  gsize rows = (gsize) self->batch * self->row_len * sizeof (gfloat);

  gst_beat_embed_free_device (self);
  /* the spare room is at least the chunk that submit_input_buffer writes */
  self->d_ring_len = self->hist_size + MAX ((gsize) CUDA_RING_SPARE,
      self->hist_size - self->row_len);
  self->h_starts = g_new0 (guint64, self->batch);
  self->h_lens = g_new0 (guint32, self->batch);
  if (!gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev,
              self->d_ring_len * sizeof (gfloat), (void **) &self->d_ring),
          "cudaMalloc") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev,
              self->row_len * sizeof (gfloat), (void **) &self->d_open),
          "cudaMalloc") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev, rows,
              (void **) &self->d_rows), "cudaMalloc") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev,
              self->batch * sizeof (guint64), (void **) &self->d_starts),
          "cudaMalloc") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev,
              self->batch * sizeof (guint32), (void **) &self->d_lens),
          "cudaMalloc") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_malloc (dev, sizeof (guint64),
              (void **) &self->d_zero), "cudaMalloc"))
    return FALSE;
  /* as g_new0 on the CPU path */
  if (!gst_beat_embed_cuda_ok (self, ecg_cuda_memset (self->d_ring, 0,
              self->d_ring_len * sizeof (gfloat), self->cuda.stream),
          "cudaMemset") ||
      !gst_beat_embed_cuda_ok (self, ecg_cuda_memset (self->d_zero, 0,
              sizeof (guint64), self->cuda.stream), "cudaMemset"))
    return FALSE;
  self->d_alloc = FALSE;
  return TRUE;
}

/* Cuts the pending rows of the batch (n_gathered .. n_out - 1) out of the
 * device ring: their starts and lengths up, and one launch. */
static void
gst_beat_embed_gather (GstBeatEmbed * self)
{
  guint i = self->n_gathered, k;

  if (i >= self->n_out)
    return;
  k = self->n_out - i;
  /* from pageable memory: h_starts and h_lens are free again on return */
  gst_beat_embed_cuda_ok (self, ecg_cuda_memcpy_h2d (self->d_starts + i,
          self->h_starts + i, k * sizeof (guint64), self->cuda.stream),
      "uploading beat starts");
  gst_beat_embed_cuda_ok (self, ecg_cuda_memcpy_h2d (self->d_lens + i,
          self->h_lens + i, k * sizeof (guint32), self->cuda.stream),
      "uploading beat lengths");
  gst_beat_embed_cuda_ok (self, beat_embed_rows_f32_cuda (self->d_ring,
          self->d_ring_len, self->d_starts + i, self->d_lens + i, k,
          self->d_rows + (gsize) i * self->row_len, self->row_len,
          self->cuda.stream), "beat_embed_rows_f32_cuda");
  self->n_gathered = self->n_out;
}

/* Writes samples [@from, @from + @n) of channel 0, at @src (@dev: a device
 * pointer, copied device to device; else host memory, uploaded), into the
 * device ring, on the element's stream (@n <= d_ring_len).  The write
 * overwrites every sample before @from + @n - d_ring_len: a pending row or
 * the open row that starts there is first cut out, or moved to d_open. */
static void
gst_beat_embed_ring_write_cuda (GstBeatEmbed * self, const gfloat * src,
    guint64 from, gsize n, gboolean dev)
{
  gsize pos, first;
  gint ret1, ret2;
  guint i;

  if (from + n > self->d_ring_len) {
    guint64 lost = from + n - self->d_ring_len;

    for (i = self->n_gathered; i < self->n_out; i++) {
      if (self->h_starts[i] < lost) {
        gst_beat_embed_gather (self);
        break;
      }
    }
    if (self->have_open && !self->open_snap && self->open.start < lost) {
      GST_DEBUG_OBJECT (self, "beat at %" G_GUINT64_FORMAT " outlives the "
          "ring; its row moves to the open row", self->open.start);
      gst_beat_embed_hist_read (self, self->open.start,
          self->open.start + self->open_fill, self->d_open);
      self->open_snap = TRUE;
    }
  }

  pos = from % self->d_ring_len;
  first = MIN (n, self->d_ring_len - pos);
  if (dev) {
    ret1 = ecg_cuda_memcpy_d2d (self->d_ring + pos, src,
        first * sizeof (gfloat), self->cuda.stream);
    ret2 = ecg_cuda_memcpy_d2d (self->d_ring, src + first,
        (n - first) * sizeof (gfloat), self->cuda.stream);
  } else {
    ret1 = ecg_cuda_memcpy_h2d (self->d_ring + pos, src,
        first * sizeof (gfloat), self->cuda.stream);
    ret2 = ecg_cuda_memcpy_h2d (self->d_ring, src + first,
        (n - first) * sizeof (gfloat), self->cuda.stream);
  }
  gst_beat_embed_cuda_ok (self, ret1, "writing the ring");
  gst_beat_embed_cuda_ok (self, ret2, "writing the ring");
}

static void
gst_beat_embed_hist_write (GstBeatEmbed * self, const gfloat * src, gsize n)
{
  gsize pos, first;

  if (n > self->hist_size) {
    self->hist_end += n - self->hist_size;
    src += n - self->hist_size;
    n = self->hist_size;
  }
  pos = self->hist_end % self->hist_size;
  first = MIN (n, self->hist_size - pos);
  memcpy (self->hist + pos, src, first * sizeof (gfloat));
  memcpy (self->hist, src + first, (n - first) * sizeof (gfloat));
  self->hist_end += n;
}

/* Extends the open row with whatever the history holds.  On CUDA the row
 * stays in the ring (only open_fill counts it) unless it moved to d_open. */
static void
gst_beat_embed_fill_open (GstBeatEmbed * self)
{
  guint64 from, to;

  if (!self->have_open || self->open_fill >= self->row_len)
    return;
  from = self->open.start + self->open_fill;
  to = MIN (self->open.start + self->row_len, self->hist_end);
  if (to <= from)
    return;
  if (!ecg_cuda_context_active (&self->cuda))
    gst_beat_embed_hist_read (self, from, to, self->open_row + self->open_fill);
  else if (self->open_snap)
    gst_beat_embed_hist_read (self, from, to, self->d_open + self->open_fill);
  self->open_fill += to - from;
}

static GstBuffer *
gst_beat_embed_make_buffer (GstBeatEmbed * self)
{
  GstBuffer *buf;
  gsize size = (gsize) self->n_out * self->row_len * sizeof (gfloat);
  const EcgBeat *first = &self->out_beats[0];
  const EcgBeat *last = &self->out_beats[self->n_out - 1];
  GstClockTime end;

  if (ecg_cuda_context_active (&self->cuda)) {
    GstMapInfo map;
    gint ret;

    buf = gst_buffer_new_allocate (self->out_cuda ? self->cuda.allocator :
        NULL, size, NULL);
    if (!buf || !gst_buffer_map (buf, &map, GST_MAP_WRITE |
            (self->out_cuda ? ECG_MAP_CUDA : 0))) {
      gst_beat_embed_cuda_ok (self, ECG_CUDA_ERR_RUNTIME,
          "allocating the output");
      gst_clear_buffer (&buf);
      self->n_out = self->n_gathered = 0;
      return NULL;
    }
    gst_beat_embed_gather (self);
    if (self->out_cuda)
      ret = ecg_cuda_memcpy_d2d (map.data, self->d_rows, size,
          self->cuda.stream);
    else
      ret = ecg_cuda_memcpy_d2h (map.data, self->d_rows, size,
          self->cuda.stream);
    gst_beat_embed_cuda_ok (self, ret, "copying the rows out");
    /* done before the buffer leaves and before new rows overwrite d_rows */
    gst_beat_embed_cuda_ok (self, ecg_cuda_stream_sync (self->cuda.stream),
        "cudaStreamSynchronize");
    gst_buffer_unmap (buf, &map);
  } else {
    buf = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_fill (buf, 0, self->out_rows, size);
  }
  ecg_buffer_add_beat_meta (buf, self->out_beats, self->n_out);

  GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (first->start, GST_SECOND,
      self->rate);
  end = gst_util_uint64_scale_int (last->start + last->length, GST_SECOND,
      self->rate);
  GST_BUFFER_DURATION (buf) = end - GST_BUFFER_PTS (buf);
  GST_BUFFER_OFFSET (buf) = self->beats_emitted;
  GST_BUFFER_OFFSET_END (buf) = self->beats_emitted + self->n_out;
  self->beats_emitted += self->n_out;
  GST_LOG_OBJECT (self, "%u beats from %" GST_TIME_FORMAT, self->n_out,
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
  self->n_out = self->n_gathered = 0;
  return buf;
}

static void
gst_beat_embed_flush_batch (GstBeatEmbed * self)
{
  GstBuffer *buf;

  if (self->n_out > 0 && (buf = gst_beat_embed_make_buffer (self)))
    g_queue_push_tail (&self->ready, buf);
}

/* Ends the open beat at sample `end`. */
static void
gst_beat_embed_close (GstBeatEmbed * self, guint64 end, guint32 extra_flags)
{
  EcgBeat *b = &self->open;
  guint64 len = end - b->start;
  gfloat *row;

  self->have_open = FALSE;
  if (len == 0)
    return;

  b->length = (guint32) MIN (len, G_MAXUINT32);
  b->flags = extra_flags;
  if (len < self->min_len)
    b->flags |= ECG_BEAT_FLAG_SHORT;
  if (len > self->max_len)
    b->flags |= ECG_BEAT_FLAG_LONG;
  if (len > self->row_len)
    b->flags |= ECG_BEAT_FLAG_TRUNCATED;

  if (self->do_prune && (b->flags & (ECG_BEAT_FLAG_SHORT |
              ECG_BEAT_FLAG_LONG | ECG_BEAT_FLAG_TAIL))) {
    GST_LOG_OBJECT (self, "pruned a beat of %" G_GUINT64_FORMAT " samples",
        len);
    return;
  }

  if (ecg_cuda_context_active (&self->cuda)) {
    /* the row is cut later, with the others pending (gst_beat_embed_gather),
     * from the ring: samples start .. start + the length here */
    self->h_starts[self->n_out] = b->start;
    self->h_lens[self->n_out] = (guint32) MIN (len, self->open_fill);
    if (self->open_snap) {
      /* rare: the row moved to d_open; it is cut from there at once, after
       * the rows pending before it */
      gst_beat_embed_gather (self);
      gst_beat_embed_cuda_ok (self, ecg_cuda_memcpy_h2d (self->d_lens +
              self->n_out, self->h_lens + self->n_out, sizeof (guint32),
              self->cuda.stream), "uploading a beat length");
      gst_beat_embed_cuda_ok (self, beat_embed_rows_f32_cuda (self->d_open,
              self->row_len, self->d_zero, self->d_lens + self->n_out, 1,
              self->d_rows + (gsize) self->n_out * self->row_len,
              self->row_len, self->cuda.stream), "beat_embed_rows_f32_cuda");
      self->n_gathered = self->n_out + 1;
    }
  } else {
    row = self->out_rows + (gsize) self->n_out * self->row_len;
    beat_embed_f32_ref (self->open_row, MIN (len, self->open_fill), row,
        self->row_len);
  }
  self->out_beats[self->n_out++] = *b;
  if (self->n_out == self->batch)
    gst_beat_embed_flush_batch (self);
}

static void
gst_beat_embed_open (GstBeatEmbed * self, const EcgGate * g)
{
  guint64 oldest = self->hist_end > self->hist_size ?
      self->hist_end - self->hist_size : 0;

  if (g->gate < oldest) {
    GST_WARNING_OBJECT (self, "gate at %" G_GUINT64_FORMAT " is older than "
        "the %d s kept; skipped", g->gate, LOOKBACK_S);
    return;
  }
  self->open.start = g->gate;
  self->open.rpeak = g->rpeak;
  self->open.rr = self->have_prev_rpeak && g->rpeak > self->prev_rpeak ?
      g->rpeak - self->prev_rpeak : 0;
  self->open.flags = 0;
  self->open.length = 0;
  self->prev_rpeak = g->rpeak;
  self->have_prev_rpeak = TRUE;
  self->have_open = TRUE;
  self->open_fill = 0;
  self->open_snap = FALSE;
  gst_beat_embed_fill_open (self);
}

/* Closes and opens beats at the gates of @meta from index @i on: with
 * @written_only, only those whose first sample is in the ring already (the
 * rest wait for more samples); otherwise all, skipping any beyond the
 * signal.  Returns the index of the first gate not taken. */
static guint
gst_beat_embed_take_gates (GstBeatEmbed * self, const EcgGateMeta * meta,
    guint i, gboolean written_only)
{
  for (; meta && i < meta->n_gates; i++) {
    const EcgGate *g = &meta->gates[i];

    if (written_only && g->gate >= self->hist_end)
      break;
    if (g->gate > self->hist_end) {
      GST_WARNING_OBJECT (self, "gate at %" G_GUINT64_FORMAT " lies beyond "
          "the signal (%" G_GUINT64_FORMAT "); skipped", g->gate,
          self->hist_end);
      continue;
    }
    if (self->have_open) {
      if (g->gate <= self->open.start)
        continue;
      gst_beat_embed_close (self, g->gate, 0);
    }
    gst_beat_embed_open (self, g);
  }
  return i;
}

static GstFlowReturn
gst_beat_embed_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);
  EcgGateMeta *meta;
  guint gi = 0;

  if (!self->negotiated)
    goto not_negotiated;
  self->d_ret = ECG_CUDA_OK;
  if (self->d_alloc && !gst_beat_embed_cuda_alloc (self)) {
    gst_buffer_unref (input);
    goto cuda_failed;
  }

  if (GST_BUFFER_IS_DISCONT (input) || !self->started) {
    guint64 first = self->hist_end;

    if (GST_BUFFER_OFFSET_IS_VALID (input))
      first = GST_BUFFER_OFFSET (input);
    else if (GST_BUFFER_PTS_IS_VALID (input))
      first = gst_util_uint64_scale_int_round (GST_BUFFER_PTS (input),
          self->rate, GST_SECOND);
    if (self->started && first != self->hist_end) {
      /* the signal broke off: the open beat ends where the samples did */
      GST_DEBUG_OBJECT (self, "discont at %" G_GUINT64_FORMAT
          ", closing the open beat at %" G_GUINT64_FORMAT, first,
          self->hist_end);
      if (self->have_open)
        gst_beat_embed_close (self, self->hist_end, ECG_BEAT_FLAG_TAIL);
      self->have_prev_rpeak = FALSE;
    }
    /* the pending rows' starts hold for the ring as it is now, not for the
     * positions that new samples will take */
    if (ecg_cuda_context_active (&self->cuda) &&
        (!self->started || first != self->hist_end))
      gst_beat_embed_gather (self);
    self->hist_end = first;
    self->started = TRUE;
  }

  meta = ecg_buffer_get_gate_meta (input);
  if (gst_buffer_get_size (input) > 0) {
    gboolean on_cuda = ecg_cuda_context_active (&self->cuda);
    gboolean dev = on_cuda && ecg_buffer_is_cuda (input);
    GstAudioMeta *ameta = gst_buffer_get_audio_meta (input);
    GstMapInfo map;
    gsize n, plane0 = 0, done, chunk, written = 0;
    const gfloat *src;

    if (!gst_buffer_map (input, &map, GST_MAP_READ | (dev ? ECG_MAP_CUDA : 0)))
      goto map_failed;
    n = map.size / (2 * sizeof (gfloat));
    if (ameta) {
      n = ameta->samples;
      plane0 = ameta->offsets ? ameta->offsets[0] : 0;
    }
    if (plane0 + n * sizeof (gfloat) > map.size) {
      gst_buffer_unmap (input, &map);
      goto map_failed;
    }
    src = (const gfloat *) (map.data + plane0);

    /* Gates on samples already in the ring first (the detector reports
     * them late), then the samples in pieces that the ring holds with a row
     * to spare, each followed by the gates it reaches: a buffer longer than
     * the ring loses no beat.  The device ring takes the samples in larger
     * pieces ahead of hist_end (`written` of them), at most its spare room
     * at a time, so that it keeps hist_size samples before hist_end. */
    gi = gst_beat_embed_take_gates (self, meta, gi, TRUE);
    chunk = self->hist_size - self->row_len;
    for (done = 0; done < n; done += chunk) {
      gsize m = MIN (chunk, n - done);

      if (on_cuda) {
        while (written < done + m) {
          gsize piece = MIN (self->d_ring_len - self->hist_size, n - written);

          gst_beat_embed_ring_write_cuda (self, src + written,
              self->hist_end + (written - done), piece, dev);
          written += piece;
        }
        self->hist_end += m;
      } else {
        gst_beat_embed_hist_write (self, src + done, m);
      }
      gst_beat_embed_fill_open (self);
      gi = gst_beat_embed_take_gates (self, meta, gi, TRUE);
    }
    /* the input may be reused once we return */
    if (on_cuda)
      gst_beat_embed_cuda_ok (self, ecg_cuda_stream_sync (self->cuda.stream),
          "cudaStreamSynchronize");
    gst_buffer_unmap (input, &map);
  }
  gst_beat_embed_take_gates (self, meta, gi, FALSE);

  /* a finished beat waits at most max-latency for its batch */
  if (self->n_out > 0) {
    const EcgBeat *b = &self->out_beats[0];

    if (self->hist_end >= b->start + b->length + self->max_wait)
      gst_beat_embed_flush_batch (self);
  }

  gst_buffer_unref (input);
  if (self->d_ret != ECG_CUDA_OK)
    goto cuda_failed;
  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("no caps before the first buffer"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("could not map the input as two float planes"));
    return GST_FLOW_ERROR;
  }
cuda_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", self->d_what, self->cuda.device,
            ecg_cuda_strerror (self->d_ret)));
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
gst_beat_embed_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);

  *outbuf = g_queue_pop_head (&self->ready);
  return GST_FLOW_OK;
}

/* End of stream: the open beat ends with the signal; send everything. */
static void
gst_beat_embed_drain (GstBeatEmbed * self)
{
  GstBuffer *buf;

  self->d_ret = ECG_CUDA_OK;
  if (self->have_open)
    gst_beat_embed_close (self, self->hist_end, ECG_BEAT_FLAG_TAIL);
  gst_beat_embed_flush_batch (self);
  if (self->d_ret != ECG_CUDA_OK) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", self->d_what, self->cuda.device,
            ecg_cuda_strerror (self->d_ret)));
    g_queue_clear_full (&self->ready, (GDestroyNotify) gst_buffer_unref);
    return;
  }
  while ((buf = g_queue_pop_head (&self->ready))) {
    if (gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), buf) != GST_FLOW_OK)
      break;
  }
  g_queue_clear_full (&self->ready, (GDestroyNotify) gst_buffer_unref);
}

static gboolean
gst_beat_embed_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      if (self->negotiated)
        gst_beat_embed_drain (self);
      gst_beat_embed_reset (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_beat_embed_reset (self);
      self->n_out = self->n_gathered = 0;
      g_queue_clear_full (&self->ready, (GDestroyNotify) gst_buffer_unref);
      break;
    case GST_EVENT_STREAM_START:
      gst_beat_embed_reset (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_beat_embed_stop (GstBaseTransform * trans)
{
  GstBeatEmbed *self = GST_BEAT_EMBED (trans);

  gst_beat_embed_free_state (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  self->n_out = self->n_gathered = 0;
  self->rate = 0;
  return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-nmsgate
 * @title: nmsgate
 *
 * Finds heart beats in the two-channel output of rickerconv (channel 0: the
 * ECG, channel 1: the wavelet response) by one-dimensional non-maximum
 * suppression.  The data pass through untouched; each buffer gets an
 * #EcgGateMeta listing the gates decided while it was processed, as absolute
 * sample positions (a gate is the first sample of a beat window, the R peak
 * lies about half a window later).  Because the detector looks ahead, a gate
 * may lie before the buffer that carries it; at end of stream the last
 * decisions ride on an empty buffer pushed just before EOS (and before a
 * DISCONT buffer, after which the detector starts afresh).
 *
 * #GstNmsGate:threshold selects the rule.  0 is the seed's rule exactly:
 * position p is a gate when max(y[p .. p+N-1]) == y[p + (N+1)/2] and p-1 is
 * not a gate, with N = #GstNmsGate:window × rate.  That rule has no amplitude
 * test and finds "beats" in pauses, noise and flat lines.  A positive value
 * adds a fixed floor on the response.  The default, -1, is the adaptive rule
 * (see docs/nmsgate.md): running estimates of QRS and noise peak levels set
 * the threshold, a refractory period of #GstNmsGate:refractory milliseconds
 * follows each beat, and nothing is reported where the signal is flat.
 *
 * #GstNmsGate:backend chooses the CPU or CUDA (auto: CUDA when a device is
 * present) and #GstNmsGate:cuda-device-id the device.  On CUDA, buffers in
 * memory:CUDAMemory stay on the device: the detector's feature stage runs
 * there and only compact peak and segment records come to the host, where
 * the decisions are made, so the gates equal the CPU's.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Adaptive beat detection at 250 Hz.
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate threshold=0 ! beatembed prune=true ! fakesink
 * ]| The seed's rule and beat selection, exactly.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/audio/audio.h>

#include "gstnmsgate.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "cudadev.h"
#include "nms.h"

GST_DEBUG_CATEGORY_STATIC (gst_nms_gate_debug);
#define GST_CAT_DEFAULT gst_nms_gate_debug

#define DEFAULT_WINDOW 720.0
#define DEFAULT_THRESHOLD -1.0
#define DEFAULT_REFRACTORY 310.0

enum
{
  PROP_0,
  PROP_WINDOW,
  PROP_THRESHOLD,
  PROP_REFRACTORY,
  PROP_GATES,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define CAPS \
  "audio/x-raw, format = (string) F32LE, rate = (int) [ 1, 100000 ], " \
  "channels = (int) 2, layout = (string) non-interleaved"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS));

struct _GstNmsGate
{
  GstBaseTransform parent;

  /* properties, GST_OBJECT_LOCK */
  gdouble window_ms;
  gdouble threshold;
  gdouble refractory_ms;
  guint64 n_gates;              /* read-only statistic */
  GstClockTime latency;         /* the detector's look-ahead, or NONE */

  /* negotiated and streaming state, streaming thread */
  GstAudioInfo info;
  NmsDetector *detector;
  EcgGate *gates;
  gsize gates_capacity;
  guint64 next_sample;
  gboolean need_reset;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
  gboolean d_prepared;          /* the detector's device scratch exists */
};

/* Samples per device block of the detector (larger buffers go in parts) */
#define CUDA_MAX_BLOCK 65536

#define gst_nms_gate_parent_class parent_class
G_DEFINE_TYPE (GstNmsGate, gst_nms_gate, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (nmsgate, "nmsgate", GST_RANK_NONE,
    GST_TYPE_NMS_GATE);

static void gst_nms_gate_finalize (GObject * object);
static void gst_nms_gate_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_nms_gate_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_nms_gate_start (GstBaseTransform * trans);
static gboolean gst_nms_gate_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_nms_gate_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_nms_gate_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static gboolean gst_nms_gate_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_nms_gate_stop (GstBaseTransform * trans);
static void gst_nms_gate_drain (GstNmsGate * self);

static void
gst_nms_gate_class_init (GstNmsGateClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = gst_nms_gate_finalize;
  gobject_class->set_property = gst_nms_gate_set_property;
  gobject_class->get_property = gst_nms_gate_get_property;

  /**
   * GstNmsGate:window:
   *
   * Length of the suppression window in milliseconds (180 samples at 250 Hz
   * with the default 720 ms).
   */
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_double ("window", "Window",
          "Length of the non-maximum suppression window in milliseconds",
          10.0, 10000.0, DEFAULT_WINDOW,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstNmsGate:threshold:
   *
   * -1 (any negative value): the adaptive rule.  0: the seed's rule exactly.
   * Positive: the seed's rule, keeping only maxima whose wavelet response is
   * at least this value (in the input's units, mV for MIT-BIH data).
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum wavelet response of a beat in signal units; 0 = the seed's "
          "rule, negative = adaptive", -1.0, G_MAXDOUBLE, DEFAULT_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstNmsGate:refractory:
   *
   * Adaptive rule only: no second beat is accepted within this many
   * milliseconds of the previous one.
   */
  g_object_class_install_property (gobject_class, PROP_REFRACTORY,
      g_param_spec_double ("refractory", "Refractory",
          "Minimum time between two beats in milliseconds (adaptive rule)",
          0.0, 2000.0, DEFAULT_REFRACTORY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstNmsGate:gates:
   *
   * Number of gates found since the element last started.
   */
  g_object_class_install_property (gobject_class, PROP_GATES,
      g_param_spec_uint64 ("gates", "Gates",
          "Number of gates found since the element started", 0, G_MAXUINT64,
          0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstNmsGate:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstNmsGate:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  ecg_element_class_add_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Non-maximum suppression beat gate", "Filter/Analyzer/Audio",
      "Marks heart beats in a wavelet response with a gate meta",
      "gst-ecg authors <gst-ecg@example.invalid>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_nms_gate_start);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_nms_gate_set_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_nms_gate_query);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_nms_gate_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_nms_gate_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_nms_gate_stop);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_nms_gate_debug, "nmsgate", 0,
      "Non-maximum suppression beat gate");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_nms_gate_init (GstNmsGate * self)
{
  self->window_ms = DEFAULT_WINDOW;
  self->threshold = DEFAULT_THRESHOLD;
  self->refractory_ms = DEFAULT_REFRACTORY;
  self->n_gates = 0;
  self->latency = GST_CLOCK_TIME_NONE;
  self->detector = NULL;
  self->gates = NULL;
  self->gates_capacity = 0;
  gst_audio_info_init (&self->info);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->d_prepared = FALSE;
}

static void
gst_nms_gate_finalize (GObject * object)
{
  GstNmsGate *self = GST_NMS_GATE (object);

  g_clear_pointer (&self->detector, nms_detector_free);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_clear_pointer (&self->gates, g_free);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_nms_gate_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstNmsGate *self = GST_NMS_GATE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WINDOW:
      self->window_ms = g_value_get_double (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_REFRACTORY:
      self->refractory_ms = g_value_get_double (value);
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
gst_nms_gate_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstNmsGate *self = GST_NMS_GATE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WINDOW:
      g_value_set_double (value, self->window_ms);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_REFRACTORY:
      g_value_set_double (value, self->refractory_ms);
      break;
    case PROP_GATES:
      g_value_set_uint64 (value, self->n_gates);
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
gst_nms_gate_start (GstBaseTransform * trans)
{
  GstNmsGate *self = GST_NMS_GATE (trans);

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  GST_OBJECT_LOCK (self);
  self->n_gates = 0;
  GST_OBJECT_UNLOCK (self);
  self->need_reset = TRUE;
  self->next_sample = 0;
  return TRUE;
}

static gboolean
gst_nms_gate_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstNmsGate *self = GST_NMS_GATE (trans);
  NmsConfig cfg;
  NmsDetector *det;
  gint rate;

  if (!gst_audio_info_from_caps (&self->info, incaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  rate = GST_AUDIO_INFO_RATE (&self->info);

  nms_config_init (&cfg, rate);
  GST_OBJECT_LOCK (self);
  cfg.window = (int) (self->window_ms * rate / 1000.0 + 0.5);
  cfg.threshold = self->threshold;
  cfg.refractory_s = self->refractory_ms / 1000.0;
  GST_OBJECT_UNLOCK (self);

  det = nms_detector_new (&cfg);
  if (!det) {
    GST_ERROR_OBJECT (self, "a window of %d samples at %d Hz is not usable",
        cfg.window, rate);
    return FALSE;
  }
  /* what the old detector still held belongs to the old caps' samples */
  if (self->detector)
    gst_nms_gate_drain (self);
  g_clear_pointer (&self->detector, nms_detector_free);
  self->detector = det;
  self->d_prepared = FALSE;
  self->need_reset = TRUE;
  /* for the latency query, which comes from other threads */
  GST_OBJECT_LOCK (self);
  self->latency = gst_util_uint64_scale_int (nms_detector_latency (det),
      GST_SECOND, rate);
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "window %d samples, threshold %g, latency %"
      G_GUINT64_FORMAT " samples", cfg.window, cfg.threshold,
      nms_detector_latency (det));
  return TRUE;
}

static gboolean
gst_nms_gate_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstNmsGate *self = GST_NMS_GATE (trans);
  gboolean res;

  res = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);

  /* The samples pass without delay, but a gate is known only after the
   * detector's look-ahead; report that as the element's latency so live
   * pipelines leave room for it downstream. */
  if (res && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY &&
      direction == GST_PAD_SRC) {
    gboolean live;
    GstClockTime min, max, lat;

    GST_OBJECT_LOCK (self);
    lat = self->latency;
    GST_OBJECT_UNLOCK (self);
    if (!GST_CLOCK_TIME_IS_VALID (lat))
      return res;
    gst_query_parse_latency (query, &live, &min, &max);
    min += lat;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += lat;
    GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of latency",
        GST_TIME_ARGS (lat));
    gst_query_set_latency (query, live, min, max);
  }
  return res;
}

static gboolean
gst_nms_gate_ensure_capacity (GstNmsGate * self, gsize n)
{
  gsize need = nms_detector_max_gates (self->detector, n);

  if (need > self->gates_capacity) {
    self->gates = g_renew (EcgGate, self->gates, need);
    self->gates_capacity = need;
  }
  return TRUE;
}

static void
gst_nms_gate_count (GstNmsGate * self, gsize n)
{
  GST_OBJECT_LOCK (self);
  self->n_gates += n;
  GST_OBJECT_UNLOCK (self);
}

G_STATIC_ASSERT (sizeof (EcgGate) == sizeof (NmsGate));

/* CUDA memory in: the detector's feature stage runs on the device and
 * only compact records come to the host (nms_detector_push_cuda); the
 * signal stays where it is.  System memory in takes the CPU push, which
 * mixes freely with CUDA pushes. */
static GstFlowReturn
gst_nms_gate_transform_cuda (GstNmsGate * self, GstBuffer * buf)
{
  GstAudioMeta *ameta = gst_buffer_get_audio_meta (buf);
  GstMapInfo map;
  gsize n, off_x = 0, off_y, found;
  const gchar *what = "nms_detector_cuda_prepare";
  gint status = ECG_CUDA_OK;

  if (!self->d_prepared) {
    status = nms_detector_cuda_prepare (self->detector, CUDA_MAX_BLOCK,
        self->cuda.device);
    if (status != ECG_CUDA_OK)
      goto cuda_failed;
    self->d_prepared = TRUE;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ | ECG_MAP_CUDA))
    goto map_failed;
  n = map.size / (2 * sizeof (gfloat));
  off_y = n * sizeof (gfloat);
  if (ameta && ameta->offsets) {
    n = ameta->samples;
    off_x = ameta->offsets[0];
    off_y = ameta->offsets[1];
  }
  if (MAX (off_x, off_y) + n * sizeof (gfloat) > map.size) {
    gst_buffer_unmap (buf, &map);
    goto map_failed;
  }

  gst_nms_gate_ensure_capacity (self, n);
  what = "nms_detector_push_cuda";
  found = nms_detector_push_cuda (self->detector,
      (const gfloat *) (map.data + off_x), (const gfloat *) (map.data + off_y),
      n, (NmsGate *) self->gates, self->cuda.stream, &status);
  gst_buffer_unmap (buf, &map);
  if (status != ECG_CUDA_OK)
    goto cuda_failed;
  self->next_sample += n;

  if (found) {
    ecg_buffer_add_gate_meta (buf, self->gates, found);
    gst_nms_gate_count (self, found);
    GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " gates on CUDA, first at %"
        G_GUINT64_FORMAT, found, self->gates[0].gate);
  }
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("could not map a CUDA buffer of %" G_GSIZE_FORMAT " bytes as two "
            "float planes", gst_buffer_get_size (buf)));
    return GST_FLOW_ERROR;
  }
cuda_failed:
  {
    /* the detector's state is undefined after a failed push */
    self->need_reset = TRUE;
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->cuda.device,
            ecg_cuda_strerror (status)));
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
gst_nms_gate_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstNmsGate *self = GST_NMS_GATE (trans);
  GstAudioBuffer abuf;
  gsize n, found;

  if (!self->detector)
    goto not_negotiated;

  if (GST_BUFFER_IS_DISCONT (buf) || self->need_reset) {
    guint64 first = self->next_sample;

    /* the gates the detector still held belong to the samples before the
     * discontinuity: send them first */
    gst_nms_gate_drain (self);

    if (GST_BUFFER_OFFSET_IS_VALID (buf))
      first = GST_BUFFER_OFFSET (buf);
    else if (GST_BUFFER_PTS_IS_VALID (buf))
      first = gst_util_uint64_scale_int_round (GST_BUFFER_PTS (buf),
          GST_AUDIO_INFO_RATE (&self->info), GST_SECOND);
    GST_DEBUG_OBJECT (self, "restarting the detector at sample %"
        G_GUINT64_FORMAT, first);
    nms_detector_reset (self->detector, first);
    self->next_sample = first;
    self->need_reset = FALSE;
  }

  if (ecg_cuda_context_active (&self->cuda) && ecg_buffer_is_cuda (buf))
    return gst_nms_gate_transform_cuda (self, buf);

  if (!gst_audio_buffer_map (&abuf, &self->info, buf, GST_MAP_READ))
    goto map_failed;

  n = abuf.n_samples;
  gst_nms_gate_ensure_capacity (self, n);
  found = nms_detector_push (self->detector, abuf.planes[0], abuf.planes[1],
      n, (NmsGate *) self->gates);
  gst_audio_buffer_unmap (&abuf);
  self->next_sample += n;

  if (found) {
    ecg_buffer_add_gate_meta (buf, self->gates, found);
    gst_nms_gate_count (self, found);
    GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " gates, first at %"
        G_GUINT64_FORMAT, found, self->gates[0].gate);
  }
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
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("could not map a buffer of %" G_GSIZE_FORMAT " bytes as two "
            "float planes", gst_buffer_get_size (buf)));
    return GST_FLOW_ERROR;
  }
}

/* At end of stream, and before a discontinuity, the detector decides what
 * it still held; those gates go downstream on an empty buffer, so that EOS
 * or the new samples follow them. */
static void
gst_nms_gate_drain (GstNmsGate * self)
{
  GstBuffer *buf;
  gsize found;

  if (!self->detector || self->need_reset)
    return;

  gst_nms_gate_ensure_capacity (self, 0);
  found = nms_detector_flush (self->detector, (NmsGate *) self->gates);
  if (found == 0)
    return;

  buf = gst_buffer_new ();
  GST_BUFFER_OFFSET (buf) = self->next_sample;
  GST_BUFFER_OFFSET_END (buf) = self->next_sample;
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (self->next_sample,
      GST_SECOND, GST_AUDIO_INFO_RATE (&self->info));
  GST_BUFFER_DURATION (buf) = 0;
  ecg_buffer_add_gate_meta (buf, self->gates, found);
  gst_nms_gate_count (self, found);
  GST_DEBUG_OBJECT (self, "%" G_GSIZE_FORMAT " gates decided at EOS", found);
  gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), buf);
}

static gboolean
gst_nms_gate_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstNmsGate *self = GST_NMS_GATE (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      gst_nms_gate_drain (self);
      self->need_reset = TRUE;
      break;
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      self->need_reset = TRUE;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_nms_gate_stop (GstBaseTransform * trans)
{
  GstNmsGate *self = GST_NMS_GATE (trans);

  g_clear_pointer (&self->detector, nms_detector_free);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_clear_pointer (&self->gates, g_free);
  self->gates_capacity = 0;
  GST_OBJECT_LOCK (self);
  self->latency = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

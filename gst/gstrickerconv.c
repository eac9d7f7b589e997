/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-rickerconv
 * @title: rickerconv
 *
 * Convolves a single-channel ECG with a Ricker (Mexican-hat) wavelet, the
 * seed's QRS-enhancing filter.  The wavelet is
 * exp(-t^2/2)(1-t^2) on t = linspace(-3, 3, W), scaled by 2/sqrt(W), where
 * W = round(#GstRickerConv:width × rate) taps (30 at 250 Hz with the default
 * 120 ms).  The filter is causal: output sample n is
 * y[n] = sum_k w[k] x[n-k], with x taken as zero before the first sample of
 * the stream, so the element adds no latency and emits exactly as many
 * samples as it receives.
 *
 * Input is `audio/x-raw, format=F32LE, channels=1`; output has two
 * non-interleaved channels: channel 0 is the input unchanged, channel 1 the
 * wavelet response.  The filter history is cleared on DISCONT, after a
 * flush and on new caps.
 *
 * #GstRickerConv:backend chooses the CPU or CUDA (auto: CUDA when a device
 * is present) and #GstRickerConv:cuda-device-id the device.  On CUDA the
 * filter runs on the device with the same sums (equal output); both planes
 * leave in one memory:CUDAMemory buffer when downstream takes it, and
 * system memory input is copied to the device first.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Finds the beats of a 250 Hz recording.
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv width=100 ! audioconvert ! wavenc ! filesink location=response.wav
 * ]| Writes the signal and a 100 ms wavelet response as a stereo WAV file.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/audio/audio.h>

#include "gstrickerconv.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "gstecgcudakernels.h"

GST_DEBUG_CATEGORY_STATIC (gst_ricker_conv_debug);
#define GST_CAT_DEFAULT gst_ricker_conv_debug

#define DEFAULT_WIDTH 120.0

enum
{
  PROP_0,
  PROP_WIDTH,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SINK_CAPS \
  "audio/x-raw, format = (string) F32LE, rate = (int) [ 1, 100000 ], " \
  "channels = (int) 1, layout = (string) interleaved"
#define SRC_CAPS \
  "audio/x-raw, format = (string) F32LE, rate = (int) [ 1, 100000 ], " \
  "channels = (int) 2, layout = (string) non-interleaved"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

struct _GstRickerConv
{
  GstBaseTransform parent;

  /* properties, GST_OBJECT_LOCK */
  gdouble width_ms;

  /* negotiated and streaming state, streaming thread */
  GstAudioInfo in_info;
  GstAudioInfo out_info;
  gint taps;
  gdouble *wavelet;
  gfloat *history;

  /* device copies, streaming thread (CUDA path only): the wavelet, the
   * filter history, the kernel's workspace, and scratch for input that
   * comes in system memory and output that leaves in it */
  gdouble *d_wavelet;
  gfloat *d_history;
  gpointer d_workspace;
  gfloat *d_in, *d_out;
  gsize d_in_size, d_out_size;
  gboolean d_stale;             /* set_caps made a new wavelet */
  gboolean d_reset;             /* the device history is to be cleared */

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
};

#define gst_ricker_conv_parent_class parent_class
G_DEFINE_TYPE (GstRickerConv, gst_ricker_conv, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (rickerconv, "rickerconv", GST_RANK_NONE,
    GST_TYPE_RICKER_CONV);

static void gst_ricker_conv_finalize (GObject * object);
static void gst_ricker_conv_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ricker_conv_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ricker_conv_start (GstBaseTransform * trans);
static GstCaps *gst_ricker_conv_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_ricker_conv_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_ricker_conv_decide_allocation (GstBaseTransform * trans,
    GstQuery * query);
static gboolean gst_ricker_conv_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size, GstCaps * othercaps,
    gsize * othersize);
static GstFlowReturn gst_ricker_conv_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static gboolean gst_ricker_conv_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_ricker_conv_stop (GstBaseTransform * trans);

static void
gst_ricker_conv_class_init (GstRickerConvClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = gst_ricker_conv_finalize;
  gobject_class->set_property = gst_ricker_conv_set_property;
  gobject_class->get_property = gst_ricker_conv_get_property;

  /**
   * GstRickerConv:width:
   *
   * Length of the wavelet in milliseconds; the number of taps is
   * round (width × rate / 1000), at least 2.
   */
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_double ("width", "Width",
          "Length of the Ricker wavelet in milliseconds", 1.0, 10000.0,
          DEFAULT_WIDTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstRickerConv:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstRickerConv:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  ecg_element_class_add_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Ricker wavelet convolution", "Filter/Analyzer/Audio",
      "Causal Ricker-wavelet filter that enhances the QRS complexes of an ECG",
      "gst-ecg authors <gst-ecg@example.invalid>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_ricker_conv_start);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_ricker_conv_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_ricker_conv_set_caps);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_ricker_conv_decide_allocation);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (gst_ricker_conv_transform_size);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_ricker_conv_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_ricker_conv_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_ricker_conv_stop);

  GST_DEBUG_CATEGORY_INIT (gst_ricker_conv_debug, "rickerconv", 0,
      "Ricker wavelet convolution");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_ricker_conv_init (GstRickerConv * self)
{
  self->width_ms = DEFAULT_WIDTH;
  self->taps = 0;
  self->wavelet = NULL;
  self->history = NULL;
  self->d_wavelet = NULL;
  self->d_history = NULL;
  self->d_workspace = NULL;
  self->d_in = self->d_out = NULL;
  self->d_in_size = self->d_out_size = 0;
  self->d_stale = self->d_reset = FALSE;
  gst_audio_info_init (&self->in_info);
  gst_audio_info_init (&self->out_info);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
}

static void
gst_ricker_conv_free_device (GstRickerConv * self)
{
  gint dev = self->cuda.device;

  if (dev < 0)
    return;
  /* the stream may still use them */
  ecg_cuda_drain (GST_ELEMENT (self), self->cuda.stream);
  ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_wavelet);
  ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_history);
  ecg_cuda_release (GST_ELEMENT (self), dev, &self->d_workspace);
  ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_in);
  ecg_cuda_release (GST_ELEMENT (self), dev, (gpointer *) & self->d_out);
  self->d_in_size = self->d_out_size = 0;
}

static void
gst_ricker_conv_finalize (GObject * object)
{
  GstRickerConv *self = GST_RICKER_CONV (object);

  gst_ricker_conv_free_device (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_clear_pointer (&self->wavelet, g_free);
  g_clear_pointer (&self->history, g_free);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_ricker_conv_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRickerConv *self = GST_RICKER_CONV (object);

  switch (prop_id) {
    case PROP_WIDTH:
      GST_OBJECT_LOCK (self);
      self->width_ms = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BACKEND:
      GST_OBJECT_LOCK (self);
      self->backend = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CUDA_DEVICE_ID:
      GST_OBJECT_LOCK (self);
      self->cuda_device_id = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ricker_conv_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRickerConv *self = GST_RICKER_CONV (object);

  switch (prop_id) {
    case PROP_WIDTH:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->width_ms);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BACKEND:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->backend);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CUDA_DEVICE_ID:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->cuda_device_id);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ricker_conv_reset (GstRickerConv * self)
{
  if (self->history && self->taps > 1)
    memset (self->history, 0, (self->taps - 1) * sizeof (gfloat));
  /* cleared on the stream before the next buffer */
  self->d_reset = TRUE;
}

static gboolean
gst_ricker_conv_start (GstBaseTransform * trans)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  gst_ricker_conv_reset (self);
  return TRUE;
}

static GstCaps *
gst_ricker_conv_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);
  GstCaps *res = gst_caps_copy (caps);
  guint i;

  for (i = 0; i < gst_caps_get_size (res); i++) {
    GstStructure *s = gst_caps_get_structure (res, i);

    if (direction == GST_PAD_SINK)
      gst_structure_set (s, "channels", G_TYPE_INT, 2, "layout",
          G_TYPE_STRING, "non-interleaved", NULL);
    else
      gst_structure_set (s, "channels", G_TYPE_INT, 1, "layout",
          G_TYPE_STRING, "interleaved", NULL);
    gst_structure_remove_field (s, "channel-mask");
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
  GST_DEBUG_OBJECT (trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

static gboolean
gst_ricker_conv_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);
  gdouble width_ms;
  gint taps;

  if (!gst_audio_info_from_caps (&self->in_info, incaps) ||
      !gst_audio_info_from_caps (&self->out_info, outcaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  width_ms = self->width_ms;
  GST_OBJECT_UNLOCK (self);

  taps = ricker_taps (GST_AUDIO_INFO_RATE (&self->in_info), width_ms / 1000.0);
  if (taps == 0) {
    GST_ERROR_OBJECT (self, "a %.1f ms wavelet at %d Hz gives %.1f taps; "
        "it needs 2 to %d", width_ms, GST_AUDIO_INFO_RATE (&self->in_info),
        width_ms * GST_AUDIO_INFO_RATE (&self->in_info) / 1000.0,
        RICKER_MAX_TAPS);
    return FALSE;
  }

  g_free (self->wavelet);
  g_free (self->history);
  self->taps = taps;
  self->wavelet = g_new (gdouble, taps);
  self->history = g_new0 (gfloat, taps - 1 > 0 ? taps - 1 : 1);
  ricker_wavelet_ref (self->wavelet, taps);
  self->d_stale = TRUE;
  GST_DEBUG_OBJECT (self, "%d taps at %d Hz", taps,
      GST_AUDIO_INFO_RATE (&self->in_info));
  return TRUE;
}

static gboolean
gst_ricker_conv_decide_allocation (GstBaseTransform * trans, GstQuery * query)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);
  GstCaps *caps;

  gst_query_parse_allocation (query, &caps, NULL);
  if (ecg_cuda_context_active (&self->cuda) && ecg_caps_is_cuda (caps))
    ecg_cuda_decide_allocation (query, self->cuda.allocator);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->decide_allocation (trans,
      query);
}

static gboolean
gst_ricker_conv_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size, GstCaps * othercaps,
    gsize * othersize)
{
  /* one float in, two floats out (signal and response planes) */
  if (direction == GST_PAD_SINK)
    *othersize = size * 2;
  else
    *othersize = size / 2;
  return TRUE;
}

/* (Re)allocates device scratch of at least @size bytes */
static gint
gst_ricker_conv_scratch (GstRickerConv * self, gfloat ** ptr, gsize * have,
    gsize size)
{
  gint ret;

  if (*have >= size && *ptr)
    return ECG_CUDA_OK;
  /* at least doubled: input that grows a little at a time (resampled
   * buffers) reallocates rarely */
  size = MAX (size, 2 * *have);
  /* the stream may still use the old block */
  if ((ret = ecg_cuda_stream_sync (self->cuda.stream)) != ECG_CUDA_OK)
    return ret;
  ret = ecg_cuda_free (self->cuda.device, *ptr);
  *ptr = NULL;
  *have = 0;
  if (ret != ECG_CUDA_OK)
    return ret;
  ret = ecg_cuda_malloc (self->cuda.device, size, (void **) ptr);
  if (ret == ECG_CUDA_OK)
    *have = size;
  return ret;
}

/* The wavelet, history and workspace on the device, for the current caps */
static gint
gst_ricker_conv_cuda_prepare (GstRickerConv * self, const gchar ** what)
{
  gint dev = self->cuda.device, ret;
  gsize h = (gsize) (self->taps - 1) * sizeof (gfloat);

  if (self->d_stale) {
    *what = "cudaStreamSynchronize";
    if ((ret = ecg_cuda_stream_sync (self->cuda.stream)) != ECG_CUDA_OK)
      return ret;
    *what = "cudaFree";
    /* each freed whatever the others did */
    if (!ecg_cuda_release (GST_ELEMENT (self), dev,
            (gpointer *) & self->d_wavelet)
        | !ecg_cuda_release (GST_ELEMENT (self), dev,
            (gpointer *) & self->d_history)
        | !ecg_cuda_release (GST_ELEMENT (self), dev, &self->d_workspace))
      return ECG_CUDA_ERR_RUNTIME;
    *what = "cudaMalloc";
    if ((ret = ecg_cuda_malloc (dev, self->taps * sizeof (gdouble),
                (void **) &self->d_wavelet)) != ECG_CUDA_OK ||
        (ret = ecg_cuda_malloc (dev, h, (void **) &self->d_history)) !=
        ECG_CUDA_OK ||
        (ret = ecg_cuda_malloc (dev,
                ricker_conv_f32_cuda_workspace_size (self->taps),
                &self->d_workspace)) != ECG_CUDA_OK)
      return ret;
    *what = "uploading the wavelet";
    /* synchronous: self->wavelet may be replaced by the next set_caps */
    if ((ret = ecg_cuda_memcpy_h2d (self->d_wavelet, self->wavelet,
                self->taps * sizeof (gdouble), NULL)) != ECG_CUDA_OK)
      return ret;
    self->d_stale = FALSE;
    self->d_reset = TRUE;
  }
  if (self->d_reset) {
    *what = "clearing the history";
    if ((ret = ecg_cuda_memset (self->d_history, 0, h, self->cuda.stream)) !=
        ECG_CUDA_OK)
      return ret;
    self->d_reset = FALSE;
  }
  return ECG_CUDA_OK;
}

/* Device path: input and output each in CUDA memory (no copy) or in system
 * memory (uploaded / downloaded on the element's stream) */
static GstFlowReturn
gst_ricker_conv_transform_cuda (GstRickerConv * self, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  gpointer stream = self->cuda.stream;
  gboolean in_dev = ecg_buffer_is_cuda (inbuf);
  gboolean out_dev = ecg_buffer_is_cuda (outbuf);
  GstMapInfo inmap, outmap;
  const gchar *what = NULL;
  const gfloat *x;
  gfloat *y;
  gsize n;
  gint ret;

  if (!gst_buffer_map (inbuf, &inmap,
          GST_MAP_READ | (in_dev ? ECG_MAP_CUDA : 0)))
    goto map_failed;
  if (!gst_buffer_map (outbuf, &outmap,
          GST_MAP_WRITE | (out_dev ? ECG_MAP_CUDA : 0))) {
    gst_buffer_unmap (inbuf, &inmap);
    goto map_failed;
  }
  n = inmap.size / sizeof (gfloat);

  if ((ret = gst_ricker_conv_cuda_prepare (self, &what)) != ECG_CUDA_OK)
    goto cuda_failed;
  if (in_dev) {
    x = (const gfloat *) inmap.data;
  } else {
    what = "uploading the input";
    if ((ret = gst_ricker_conv_scratch (self, &self->d_in, &self->d_in_size,
                n * sizeof (gfloat))) != ECG_CUDA_OK ||
        (ret = ecg_cuda_memcpy_h2d (self->d_in, inmap.data,
                n * sizeof (gfloat), stream)) != ECG_CUDA_OK)
      goto cuda_failed;
    x = self->d_in;
  }
  if (out_dev) {
    y = (gfloat *) outmap.data;
  } else {
    what = "cudaMalloc";
    if ((ret = gst_ricker_conv_scratch (self, &self->d_out,
                &self->d_out_size, 2 * n * sizeof (gfloat))) != ECG_CUDA_OK)
      goto cuda_failed;
    y = self->d_out;
  }

  what = "copying the signal plane";
  if ((ret = ecg_cuda_memcpy_d2d (y, x, n * sizeof (gfloat), stream)) !=
      ECG_CUDA_OK)
    goto cuda_failed;
  what = "ricker_conv_f32_cuda";
  if ((ret = ricker_conv_f32_cuda (self->d_wavelet, self->taps,
              self->d_history, x, y + n, n, self->d_workspace, stream)) !=
      ECG_CUDA_OK)
    goto cuda_failed;
  if (!out_dev) {
    what = "downloading the output";
    if ((ret = ecg_cuda_memcpy_d2h (outmap.data, y, 2 * n * sizeof (gfloat),
                stream)) != ECG_CUDA_OK)
      goto cuda_failed;
  }
  /* the next element works on its own stream */
  what = "cudaStreamSynchronize";
  if ((ret = ecg_cuda_stream_sync (stream)) != ECG_CUDA_OK)
    goto cuda_failed;

  gst_buffer_unmap (outbuf, &outmap);
  gst_buffer_unmap (inbuf, &inmap);
  gst_buffer_set_size (outbuf, n * 2 * sizeof (gfloat));
  gst_buffer_add_audio_meta (outbuf, &self->out_info, n, NULL);
  GST_LOG_OBJECT (self, "filtered %" G_GSIZE_FORMAT " samples on CUDA "
      "(%s in, %s out)", n, in_dev ? "device" : "host",
      out_dev ? "device" : "host");
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
        ("could not map a buffer"));
    return GST_FLOW_ERROR;
  }
cuda_failed:
  {
    /* the failure is the error; the stream is drained before the
     * buffers go (a second failure is only logged) */
    ecg_cuda_drain (GST_ELEMENT (self), stream);
    gst_buffer_unmap (outbuf, &outmap);
    gst_buffer_unmap (inbuf, &inmap);
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("CUDA processing failed."), ("%s on device %d: %s", what,
            self->cuda.device, ecg_cuda_strerror (ret)));
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
gst_ricker_conv_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);
  GstMapInfo inmap, outmap;
  gsize n;
  gfloat *out;

  if (GST_BUFFER_IS_DISCONT (inbuf)) {
    GST_DEBUG_OBJECT (self, "discont, clearing the filter history");
    gst_ricker_conv_reset (self);
  }
  if (ecg_cuda_context_active (&self->cuda))
    return gst_ricker_conv_transform_cuda (self, inbuf, outbuf);

  if (!gst_buffer_map (inbuf, &inmap, GST_MAP_READ))
    goto map_failed;
  if (!gst_buffer_map (outbuf, &outmap, GST_MAP_WRITE)) {
    gst_buffer_unmap (inbuf, &inmap);
    goto map_failed;
  }

  n = inmap.size / sizeof (gfloat);
  out = (gfloat *) outmap.data;
  memcpy (out, inmap.data, n * sizeof (gfloat));
  ricker_conv_f32_ref (self->wavelet, self->taps, self->history,
      (const gfloat *) inmap.data, out + n, n);

  gst_buffer_unmap (outbuf, &outmap);
  gst_buffer_unmap (inbuf, &inmap);

  gst_buffer_set_size (outbuf, n * 2 * sizeof (gfloat));
  gst_buffer_add_audio_meta (outbuf, &self->out_info, n, NULL);
  GST_LOG_OBJECT (self, "filtered %" G_GSIZE_FORMAT " samples", n);
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
        ("could not map a buffer"));
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_ricker_conv_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      gst_ricker_conv_reset (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_ricker_conv_stop (GstBaseTransform * trans)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);

  gst_ricker_conv_free_device (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_clear_pointer (&self->wavelet, g_free);
  g_clear_pointer (&self->history, g_free);
  self->taps = 0;
  return TRUE;
}

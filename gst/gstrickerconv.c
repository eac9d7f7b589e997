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
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Finds the beats of a 250 Hz recording.
 * |[
 * gst-launch-1.0 csvecgsrc location=rec.csv rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv width=100 ! wavenc ! filesink location=response.wav
 * ]| Writes the signal and a 100 ms wavelet response as a stereo WAV file.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/audio/audio.h>

#include "gstrickerconv.h"
#include "gstecgutils.h"
#include "ricker.h"

GST_DEBUG_CATEGORY_STATIC (gst_ricker_conv_debug);
#define GST_CAT_DEFAULT gst_ricker_conv_debug

#define DEFAULT_WIDTH 120.0

enum
{
  PROP_0,
  PROP_WIDTH,
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

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Ricker wavelet convolution", "Filter/Analyzer/Audio",
      "Causal Ricker-wavelet filter that enhances the QRS complexes of an ECG",
      "gst-ecg authors <gst-ecg@example.invalid>");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_ricker_conv_start);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_ricker_conv_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_ricker_conv_set_caps);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (gst_ricker_conv_transform_size);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_ricker_conv_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_ricker_conv_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_ricker_conv_stop);

  GST_DEBUG_CATEGORY_INIT (gst_ricker_conv_debug, "rickerconv", 0,
      "Ricker wavelet convolution");
}

static void
gst_ricker_conv_init (GstRickerConv * self)
{
  self->width_ms = DEFAULT_WIDTH;
  self->taps = 0;
  self->wavelet = NULL;
  self->history = NULL;
  gst_audio_info_init (&self->in_info);
  gst_audio_info_init (&self->out_info);
}

static void
gst_ricker_conv_finalize (GObject * object)
{
  GstRickerConv *self = GST_RICKER_CONV (object);

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
}

static gboolean
gst_ricker_conv_start (GstBaseTransform * trans)
{
  GstRickerConv *self = GST_RICKER_CONV (trans);

  gst_ricker_conv_reset (self);
  return TRUE;
}

static GstCaps *
gst_ricker_conv_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
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
  GST_DEBUG_OBJECT (self, "%d taps at %d Hz", taps,
      GST_AUDIO_INFO_RATE (&self->in_info));
  return TRUE;
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

  g_clear_pointer (&self->wavelet, g_free);
  g_clear_pointer (&self->history, g_free);
  self->taps = 0;
  return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-latentsink
 * @title: latentsink
 *
 * Reports the scored beats of vaescore.  #GstLatentSink:location gets one
 * row per beat: beat start time, R-peak time and RR interval (seconds), the
 * latent mean and log-variance, the reconstruction error, the outlier
 * score and the outlier flag; as CSV, or as JSON lines when the name ends
 * in .json, .jsonl or .ndjson.
 *
 * #GstLatentSink:plot-location gets a PNG picture: the latent means of the
 * beats coloured by score, outliers circled, next to ECG strips of the
 * highest-scoring beats.  It is rewritten every #GstLatentSink:plot-interval
 * seconds of stream time and at end of stream.  The scatter keeps at most
 * 20000 beats (a uniform random sample of the stream, plus up to 5000
 * outliers), so memory stays bounded on recordings of any length.
 *
 * Every #GstLatentSink:summary-interval seconds of stream time, and at end
 * of stream, the element posts an element message named `ecg-summary` with
 * the fields `beats` and `outliers` (guint, in the interval),
 * `heart-rate` (gdouble, beats per minute from the mean RR interval of the
 * interval, 0 if unknown), `gaps` (guint, RR intervals over 2 s: lost,
 * flat or unreadable signal), `total-beats` and `total-outliers` (guint64),
 * and `stream-time` (guint64 nanoseconds, the end of the interval).
 *
 * #GstLatentSink:backend and #GstLatentSink:cuda-device-id: with CUDA,
 * scores in memory:CUDAMemory are copied to the host on the element's own
 * stream (on the CPU backend they are mapped, a counted staging copy).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=119.csv column=MLII rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv ! nmsgate ! beatembed ! vaescore ! latentsink location=beats.csv plot-location=latent.png
 * ]| Scores every beat of a record; writes a table and a picture.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>

#include "gstlatentsink.h"
#include "gstecgutils.h"
#include "cudadev.h"

GST_DEBUG_CATEGORY_STATIC (gst_latent_sink_debug);
#define GST_CAT_DEFAULT gst_latent_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_PLOT_LOCATION NULL
#define DEFAULT_PLOT_INTERVAL 10.0
#define DEFAULT_SUMMARY_INTERVAL 10.0

#define MAX_POINTS 20000
#define MAX_OUTLIER_POINTS 5000
#define N_STRIPS 6
#define GAP_S 2.0

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_PLOT_LOCATION,
  PROP_PLOT_INTERVAL,
  PROP_SUMMARY_INTERVAL,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SINK_CAPS \
  ECG_SCORES_CAPS_NAME ", format = (string) F32LE, " \
  "latent-dims = (int) [ 1, 64 ], rate = (int) [ 1, 100000 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

typedef struct
{
  gfloat x, y, score;
  gboolean outlier;
} Point;

typedef struct
{
  gfloat score;
  gdouble time;
  guint len;
  gfloat *row;
} Strip;

struct _GstLatentSink
{
  GstBaseSink parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *location;
  gchar *plot_location;
  gdouble plot_interval;
  gdouble summary_interval;

  /* negotiated, streaming thread */
  gint dims;
  gint rate;

  /* streaming state, streaming thread */
  gchar *out_path;
  gchar *plot_path;
  FILE *out;
  gboolean json;
  GArray *points;               /* Point: a uniform sample of ordinary beats */
  GArray *outliers;             /* Point: the first outliers */
  guint64 seen;                 /* non-outlier beats offered to the sample */
  guint32 rng;
  Strip strips[N_STRIPS];
  gfloat threshold_seen;        /* lowest score flagged as outlier */
  GstClockTime plot_step;       /* the intervals, copied in start() */
  GstClockTime summary_step;
  GstClockTime next_plot;
  GstClockTime next_summary;
  GstClockTime last_time;       /* start of the last beat */
  GstClockTime last_end;        /* end of the last beat */
  guint iv_beats, iv_outliers, iv_gaps, iv_rr_n;
  gdouble iv_rr_sum;
  guint64 total_beats, total_outliers;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
};

#define gst_latent_sink_parent_class parent_class
G_DEFINE_TYPE (GstLatentSink, gst_latent_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (latentsink, "latentsink", GST_RANK_NONE,
    GST_TYPE_LATENT_SINK);

static void gst_latent_sink_finalize (GObject * object);
static void gst_latent_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_latent_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_latent_sink_start (GstBaseSink * sink);
static gboolean gst_latent_sink_set_caps (GstBaseSink * sink, GstCaps * caps);
static GstFlowReturn gst_latent_sink_render (GstBaseSink * sink,
    GstBuffer * buf);
static gboolean gst_latent_sink_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_latent_sink_stop (GstBaseSink * sink);

static void
gst_latent_sink_class_init (GstLatentSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_latent_sink_finalize;
  gobject_class->set_property = gst_latent_sink_set_property;
  gobject_class->get_property = gst_latent_sink_get_property;

  /**
   * GstLatentSink:location:
   *
   * File for the per-beat table: CSV, or JSON lines when the name ends in
   * .json, .jsonl or .ndjson.  Unset: no table.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Per-beat table to write (CSV, or JSON lines for .json/.jsonl)",
          DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstLatentSink:plot-location:
   *
   * PNG picture of the latent space and the highest-scoring beats.  Unset:
   * no picture.
   */
  g_object_class_install_property (gobject_class, PROP_PLOT_LOCATION,
      g_param_spec_string ("plot-location", "Plot location",
          "PNG file for the latent-space plot", DEFAULT_PLOT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstLatentSink:plot-interval:
   *
   * Seconds of stream time between rewrites of the plot; 0 = only at end
   * of stream.
   */
  g_object_class_install_property (gobject_class, PROP_PLOT_INTERVAL,
      g_param_spec_double ("plot-interval", "Plot interval",
          "Seconds of stream time between plot rewrites (0 = at EOS only)",
          0.0, 86400.0, DEFAULT_PLOT_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstLatentSink:summary-interval:
   *
   * Seconds of stream time between `ecg-summary` messages; 0 = only at
   * end of stream.
   */
  g_object_class_install_property (gobject_class, PROP_SUMMARY_INTERVAL,
      g_param_spec_double ("summary-interval", "Summary interval",
          "Seconds of stream time between summary messages (0 = at EOS only)",
          0.0, 86400.0, DEFAULT_SUMMARY_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstLatentSink:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstLatentSink:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Latent space sink", "Sink/Analyzer",
      "Writes scored beats as a table and a latent-space plot, and posts "
      "periodic summaries", "gst-ecg authors <gst-ecg@example.invalid>");

  sink_class->start = GST_DEBUG_FUNCPTR (gst_latent_sink_start);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_latent_sink_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_latent_sink_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_latent_sink_event);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_latent_sink_stop);

  GST_DEBUG_CATEGORY_INIT (gst_latent_sink_debug, "latentsink", 0,
      "Latent space sink");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_latent_sink_init (GstLatentSink * self)
{
  self->location = NULL;
  self->plot_location = NULL;
  self->plot_interval = DEFAULT_PLOT_INTERVAL;
  self->summary_interval = DEFAULT_SUMMARY_INTERVAL;
  /* scores are reports, not media: render as soon as they come */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
}

static void
gst_latent_sink_clear_strips (GstLatentSink * self)
{
  gint i;

  for (i = 0; i < N_STRIPS; i++) {
    g_clear_pointer (&self->strips[i].row, g_free);
    self->strips[i].score = -G_MAXFLOAT;
  }
}

static void
gst_latent_sink_finalize (GObject * object)
{
  GstLatentSink *self = GST_LATENT_SINK (object);

  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_free (self->location);
  g_free (self->plot_location);
  g_free (self->out_path);
  g_free (self->plot_path);
  if (self->points)
    g_array_unref (self->points);
  if (self->outliers)
    g_array_unref (self->outliers);
  gst_latent_sink_clear_strips (self);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_latent_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstLatentSink *self = GST_LATENT_SINK (object);

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
    case PROP_PLOT_INTERVAL:
      self->plot_interval = g_value_get_double (value);
      break;
    case PROP_SUMMARY_INTERVAL:
      self->summary_interval = g_value_get_double (value);
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
gst_latent_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstLatentSink *self = GST_LATENT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_PLOT_LOCATION:
      g_value_set_string (value, self->plot_location);
      break;
    case PROP_PLOT_INTERVAL:
      g_value_set_double (value, self->plot_interval);
      break;
    case PROP_SUMMARY_INTERVAL:
      g_value_set_double (value, self->summary_interval);
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
gst_latent_sink_start (GstBaseSink * sink)
{
  GstLatentSink *self = GST_LATENT_SINK (sink);
  gdouble plot_iv, sum_iv;

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  GST_OBJECT_LOCK (self);
  g_free (self->out_path);
  g_free (self->plot_path);
  self->out_path = g_strdup (self->location);
  self->plot_path = g_strdup (self->plot_location);
  plot_iv = self->plot_interval;
  sum_iv = self->summary_interval;
  GST_OBJECT_UNLOCK (self);

  if (self->out_path && *self->out_path) {
    self->json = g_str_has_suffix (self->out_path, ".json") ||
        g_str_has_suffix (self->out_path, ".jsonl") ||
        g_str_has_suffix (self->out_path, ".ndjson");
    self->out = fopen (self->out_path, "w");
    if (!self->out)
      goto open_failed;
  }

  if (self->points)
    g_array_unref (self->points);
  if (self->outliers)
    g_array_unref (self->outliers);
  self->points = g_array_new (FALSE, FALSE, sizeof (Point));
  self->outliers = g_array_new (FALSE, FALSE, sizeof (Point));
  self->seen = 0;
  self->rng = 0x9e3779b9u;
  gst_latent_sink_clear_strips (self);
  self->threshold_seen = G_MAXFLOAT;
  self->plot_step = (GstClockTime) (plot_iv * GST_SECOND);
  self->summary_step = (GstClockTime) (sum_iv * GST_SECOND);
  self->next_plot = plot_iv > 0 ? (GstClockTime) (plot_iv * GST_SECOND) :
      GST_CLOCK_TIME_NONE;
  self->next_summary = sum_iv > 0 ? (GstClockTime) (sum_iv * GST_SECOND) :
      GST_CLOCK_TIME_NONE;
  self->last_time = 0;
  self->last_end = 0;
  self->iv_beats = self->iv_outliers = self->iv_gaps = self->iv_rr_n = 0;
  self->iv_rr_sum = 0.0;
  self->total_beats = self->total_outliers = 0;
  self->dims = 0;
  return TRUE;

  /* ERRORS */
open_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open file \"%s\" for writing.", self->out_path),
        GST_ERROR_SYSTEM);
    return FALSE;
  }
}

static gboolean
gst_latent_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstLatentSink *self = GST_LATENT_SINK (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint dims, rate;

  if (!gst_structure_get_int (s, "latent-dims", &dims) ||
      !gst_structure_get_int (s, "rate", &rate)) {
    GST_ERROR_OBJECT (self, "incomplete caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (self->dims != 0 && dims != self->dims) {
    GST_ERROR_OBJECT (self, "latent dimensions changed from %d to %d",
        self->dims, dims);
    return FALSE;
  }
  if (self->dims == 0 && self->out) {
    gint d;

    if (!self->json) {
      fputs ("time,rpeak_time,rr", self->out);
      for (d = 0; d < dims; d++)
        fprintf (self->out, ",mu%d", d);
      for (d = 0; d < dims; d++)
        fprintf (self->out, ",logvar%d", d);
      fputs (",recon_error,score,outlier\n", self->out);
    }
  }
  self->dims = dims;
  self->rate = rate;
  return TRUE;
}

static guint32
gst_latent_sink_random (GstLatentSink * self)
{
  /* xorshift32: only for sampling the scatter */
  guint32 x = self->rng;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return self->rng = x;
}

/* Reservoir sample of the ordinary beats, plus the outliers up to a cap. */
static void
gst_latent_sink_add_point (GstLatentSink * self, const Point * p)
{
  guint max_plain = MAX_POINTS - MAX_OUTLIER_POINTS;

  if (p->outlier) {
    if (self->outliers->len < MAX_OUTLIER_POINTS)
      g_array_append_val (self->outliers, *p);
    return;
  }
  self->seen++;
  if (self->points->len < max_plain) {
    g_array_append_val (self->points, *p);
  } else {
    guint64 j = gst_latent_sink_random (self) % self->seen;

    if (j < max_plain)
      g_array_index (self->points, Point, j) = *p;
  }
}

static void
gst_latent_sink_add_strip (GstLatentSink * self, gfloat score, gdouble time,
    const gfloat * row, guint len)
{
  gint i, lowest = 0;

  for (i = 1; i < N_STRIPS; i++)
    if (self->strips[i].score < self->strips[lowest].score)
      lowest = i;
  if (score <= self->strips[lowest].score || !row)
    return;
  g_free (self->strips[lowest].row);
  self->strips[lowest].row = g_memdup2 (row, len * sizeof (gfloat));
  self->strips[lowest].len = len;
  self->strips[lowest].score = score;
  self->strips[lowest].time = time;
}

static void
gst_latent_sink_color (gdouble t, gdouble * r, gdouble * g, gdouble * b)
{
  /* blue (low score) through yellow to red (high) */
  t = CLAMP (t, 0.0, 1.0);
  if (t < 0.5) {
    *r = 2 * t;
    *g = 0.4 + 1.0 * t;
    *b = 1.0 - 2 * t;
  } else {
    *r = 1.0;
    *g = 0.9 - 1.8 * (t - 0.5);
    *b = 0.0;
  }
}

/* Point i of the ordinary sample followed by the outliers (drawn last, on
 * top). */
static const Point *
gst_latent_sink_point (GstLatentSink * self, guint i)
{
  if (i < self->points->len)
    return &g_array_index (self->points, Point, i);
  return &g_array_index (self->outliers, Point, i - self->points->len);
}

/* Writes the PNG: latent scatter on the left, strips on the right. */
static gboolean
gst_latent_sink_plot (GstLatentSink * self)
{
  const gint W = 1200, H = 700, PW = 640;
  cairo_surface_t *surf;
  cairo_t *cr;
  cairo_status_t st;
  gdouble xmin = -1, xmax = 1, ymin = -1, ymax = 1, smax = 0;
  guint i;
  gint k, order[N_STRIPS], n_strips = 0;
  gchar text[128];

  if (!self->plot_path || !*self->plot_path)
    return TRUE;

  for (i = 0; i < self->points->len + self->outliers->len; i++) {
    const Point *p = gst_latent_sink_point (self, i);

    if (i == 0) {
      xmin = xmax = p->x;
      ymin = ymax = p->y;
    }
    xmin = MIN (xmin, p->x);
    xmax = MAX (xmax, p->x);
    ymin = MIN (ymin, p->y);
    ymax = MAX (ymax, p->y);
    smax = MAX (smax, p->score);
  }
  if (xmax - xmin < 1e-6) {
    xmin -= 1;
    xmax += 1;
  }
  if (ymax - ymin < 1e-6) {
    ymin -= 1;
    ymax += 1;
  }
  if (self->threshold_seen < G_MAXFLOAT)
    smax = MIN (smax, 2.0 * self->threshold_seen);
  if (smax <= 0)
    smax = 1;

  surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cr = cairo_create (surf);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  /* latent scatter */
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
      CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 14);
  g_snprintf (text, sizeof (text), "latent means (mu0, mu1): %" G_GUINT64_FORMAT
      " beats, %" G_GUINT64_FORMAT " outliers", self->total_beats,
      self->total_outliers);
  cairo_move_to (cr, 20, 24);
  cairo_show_text (cr, text);
  cairo_rectangle (cr, 40, 40, PW - 60, H - 80);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  for (i = 0; i < self->points->len + self->outliers->len; i++) {
    const Point *p = gst_latent_sink_point (self, i);
    gdouble px = 50 + (p->x - xmin) / (xmax - xmin) * (PW - 80);
    gdouble py = H - 50 - (p->y - ymin) / (ymax - ymin) * (H - 100);
    gdouble r, g, b;

    gst_latent_sink_color (p->score / smax, &r, &g, &b);
    cairo_set_source_rgb (cr, r, g, b);
    cairo_arc (cr, px, py, 2.0, 0, 2 * G_PI);
    cairo_fill (cr);
    if (p->outlier) {
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_arc (cr, px, py, 5.0, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
  }
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_font_size (cr, 11);
  g_snprintf (text, sizeof (text), "mu0 %.2f .. %.2f", xmin, xmax);
  cairo_move_to (cr, 40, H - 22);
  cairo_show_text (cr, text);
  g_snprintf (text, sizeof (text), "mu1 %.2f .. %.2f (circled: outlier)",
      ymin, ymax);
  cairo_move_to (cr, 260, H - 22);
  cairo_show_text (cr, text);

  /* strips, highest score first */
  for (k = 0; k < N_STRIPS; k++)
    if (self->strips[k].row)
      order[n_strips++] = k;
  for (k = 1; k < n_strips; k++) {
    gint j = k, v = order[k];

    while (j > 0 && self->strips[order[j - 1]].score < self->strips[v].score) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = v;
  }
  cairo_set_font_size (cr, 14);
  cairo_move_to (cr, PW + 20, 24);
  cairo_show_text (cr, "highest-scoring beats");
  for (k = 0; k < n_strips; k++) {
    const Strip *s = &self->strips[order[k]];
    gdouble top = 40 + k * (H - 60) / N_STRIPS, h = (H - 60) / N_STRIPS - 10;
    gdouble lo = s->row[0], hi = s->row[0];
    guint j;

    for (j = 1; j < s->len; j++) {
      lo = MIN (lo, s->row[j]);
      hi = MAX (hi, s->row[j]);
    }
    if (hi - lo < 1e-6)
      hi = lo + 1;
    cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
    cairo_rectangle (cr, PW + 20, top, W - PW - 40, h);
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0.8, 0, 0);
    for (j = 0; j < s->len; j++) {
      gdouble px = PW + 20 + (gdouble) j / MAX (1, s->len - 1) * (W - PW - 40);
      gdouble py = top + h - (s->row[j] - lo) / (hi - lo) * (h - 16) - 2;

      if (j == 0)
        cairo_move_to (cr, px, py);
      else
        cairo_line_to (cr, px, py);
    }
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    cairo_set_font_size (cr, 11);
    g_snprintf (text, sizeof (text), "t = %.2f s   score %.2f", s->time,
        s->score);
    cairo_move_to (cr, PW + 26, top + 12);
    cairo_show_text (cr, text);
  }

  cairo_destroy (cr);
  st = cairo_surface_write_to_png (surf, self->plot_path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    goto write_failed;
  GST_DEBUG_OBJECT (self, "wrote %s", self->plot_path);
  return TRUE;

  /* ERRORS */
write_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the plot \"%s\".", self->plot_path),
        ("cairo: %s", cairo_status_to_string (st)));
    return FALSE;
  }
}

static void
gst_latent_sink_post_summary (GstLatentSink * self, GstClockTime end)
{
  GstStructure *s;

  s = gst_structure_new ("ecg-summary",
      "beats", G_TYPE_UINT, self->iv_beats,
      "outliers", G_TYPE_UINT, self->iv_outliers,
      "heart-rate", G_TYPE_DOUBLE, self->iv_rr_n ?
      60.0 * self->iv_rr_n / self->iv_rr_sum : 0.0,
      "gaps", G_TYPE_UINT, self->iv_gaps,
      "total-beats", G_TYPE_UINT64, self->total_beats,
      "total-outliers", G_TYPE_UINT64, self->total_outliers,
      "stream-time", G_TYPE_UINT64, (guint64) end, NULL);
  GST_DEBUG_OBJECT (self, "summary %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  self->iv_beats = self->iv_outliers = self->iv_gaps = self->iv_rr_n = 0;
  self->iv_rr_sum = 0.0;
}

/* %g is locale-dependent; g_ascii_formatd is not.  JSON has no NaN or
 * infinity (vaescore scores a row with a non-finite sample NaN): null. */
static const gchar *
gst_latent_sink_num (GstLatentSink * self, gchar * buf, gsize size, gdouble v)
{
  if (self->json && !isfinite (v))
    return "null";
  return g_ascii_formatd (buf, size, "%.7g", v);
}

static gboolean
gst_latent_sink_write_row (GstLatentSink * self, const EcgBeat * b,
    const gfloat * rec)
{
  gint d, D = self->dims;
  gdouble t = (gdouble) b->start / self->rate;
  gdouble tr = (gdouble) b->rpeak / self->rate;
  gdouble rr = (gdouble) b->rr / self->rate;
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

#define NUM(v) gst_latent_sink_num (self, buf, sizeof (buf), (gdouble) (v))
  if (self->json) {
    fprintf (self->out, "{\"time\": %s", NUM (t));
    fprintf (self->out, ", \"rpeak_time\": %s", NUM (tr));
    fprintf (self->out, ", \"rr\": %s, \"mu\": [", NUM (rr));
    for (d = 0; d < D; d++)
      fprintf (self->out, "%s%s", d ? ", " : "", NUM (rec[d]));
    fputs ("], \"logvar\": [", self->out);
    for (d = 0; d < D; d++)
      fprintf (self->out, "%s%s", d ? ", " : "", NUM (rec[D + d]));
    fprintf (self->out, "], \"recon_error\": %s",
        NUM (rec[ECG_SCORE_ERROR (D)]));
    fprintf (self->out, ", \"score\": %s", NUM (rec[ECG_SCORE_SCORE (D)]));
    fprintf (self->out, ", \"outlier\": %s}\n",
        rec[ECG_SCORE_OUTLIER (D)] != 0.0f ? "true" : "false");
  } else {
    fprintf (self->out, "%s", NUM (t));
    fprintf (self->out, ",%s", NUM (tr));
    fprintf (self->out, ",%s", NUM (rr));
    for (d = 0; d < 2 * D + 2; d++)
      fprintf (self->out, ",%s", NUM (rec[d]));
    fprintf (self->out, ",%d\n", rec[ECG_SCORE_OUTLIER (D)] != 0.0f);
  }
#undef NUM
  return !ferror (self->out);
}

static GstFlowReturn
gst_latent_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstLatentSink *self = GST_LATENT_SINK (sink);
  EcgBeatMeta *meta = ecg_buffer_get_beat_meta (buf);
  GstParentBufferMeta *rows_meta = gst_buffer_get_parent_buffer_meta (buf);
  EcgHostView map, rows_map;
  gint status = ECG_CUDA_OK;
  gboolean have_rows = FALSE;
  gsize rec_floats, n, i, row_len = 0;
  const gfloat *recs;

  if (self->dims == 0)
    goto not_negotiated;
  rec_floats = ECG_SCORE_RECORD_FLOATS (self->dims);

  if (!ecg_host_view_map (&map, buf, &self->cuda, &status))
    goto map_failed;
  n = map.size / (rec_floats * sizeof (gfloat));
  if (map.size != n * rec_floats * sizeof (gfloat) || !meta ||
      meta->n_beats != n) {
    ecg_host_view_unmap (&map);
    goto bad_shape;
  }
  recs = (const gfloat *) map.data;

  /* vaescore keeps the beat rows as the parent buffer; they serve only
   * the plot's strips */
  if (rows_meta && n > 0 && self->plot_path && *self->plot_path &&
      ecg_host_view_map (&rows_map, rows_meta->buffer, &self->cuda, NULL)) {
    row_len = rows_map.size / sizeof (gfloat) / n;
    have_rows = row_len * n * sizeof (gfloat) == rows_map.size;
    if (!have_rows)
      ecg_host_view_unmap (&rows_map);
  }

  for (i = 0; i < n; i++) {
    const gfloat *rec = recs + i * rec_floats;
    const EcgBeat *b = &meta->beats[i];
    gboolean outlier = rec[ECG_SCORE_OUTLIER (self->dims)] != 0.0f;
    gfloat score = rec[ECG_SCORE_SCORE (self->dims)];
    GstClockTime t = gst_util_uint64_scale_int (b->start, GST_SECOND,
        self->rate);
    Point p;

    if (self->out && !gst_latent_sink_write_row (self, b, rec)) {
      if (have_rows)
        ecg_host_view_unmap (&rows_map);
      ecg_host_view_unmap (&map);
      goto write_failed;
    }

    p.x = rec[0];
    p.y = self->dims > 1 ? rec[1] : 0.0f;
    p.score = score;
    p.outlier = outlier;
    gst_latent_sink_add_point (self, &p);
    gst_latent_sink_add_strip (self, score, (gdouble) b->start / self->rate,
        have_rows ? (const gfloat *) rows_map.data + i * row_len : NULL,
        MIN (row_len, MAX (b->length, 1)));
    if (outlier)
      self->threshold_seen = MIN (self->threshold_seen, score);

    /* the summary interval closes before this beat if it starts later */
    while (GST_CLOCK_TIME_IS_VALID (self->next_summary) &&
        t >= self->next_summary) {
      gst_latent_sink_post_summary (self, self->next_summary);
      self->next_summary += self->summary_step;
    }
    self->iv_beats++;
    self->total_beats++;
    if (outlier) {
      self->iv_outliers++;
      self->total_outliers++;
    }
    if (b->rr > 0) {
      gdouble rr = (gdouble) b->rr / self->rate;

      if (rr > GAP_S) {
        self->iv_gaps++;
      } else {
        self->iv_rr_sum += rr;
        self->iv_rr_n++;
      }
    }
    self->last_time = t;
    self->last_end = gst_util_uint64_scale_int (b->start + b->length,
        GST_SECOND, self->rate);
  }
  if (have_rows)
    ecg_host_view_unmap (&rows_map);
  ecg_host_view_unmap (&map);

  if (GST_CLOCK_TIME_IS_VALID (self->next_plot) &&
      self->last_time >= self->next_plot) {
    while (self->next_plot <= self->last_time)
      self->next_plot += self->plot_step;
    if (!gst_latent_sink_plot (self))
      return GST_FLOW_ERROR;
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
    if (status != ECG_CUDA_OK)
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
          ("downloading the scores on device %d: %s", self->cuda.device,
              ecg_cuda_strerror (status)));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
          ("could not map a buffer"));
    return GST_FLOW_ERROR;
  }
bad_shape:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("a buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of "
            "%" G_GSIZE_FORMAT "-float score records matching its beat meta",
            gst_buffer_get_size (buf), rec_floats));
    return GST_FLOW_ERROR;
  }
write_failed:
  {
    if (errno == ENOSPC)
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, (NULL),
          ("writing %s: %s", self->out_path, g_strerror (errno)));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Could not write to file \"%s\".", self->out_path),
          GST_ERROR_SYSTEM);
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_latent_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstLatentSink *self = GST_LATENT_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->points) {
    /* one error at most: the table first, then the plot */
    if (self->out && fflush (self->out) != 0) {
      if (errno == ENOSPC)
        GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, (NULL),
            ("writing %s: %s", self->out_path, g_strerror (errno)));
      else
        GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
            ("Could not write to file \"%s\".", self->out_path),
            GST_ERROR_SYSTEM);
      gst_event_unref (event);
      return FALSE;
    }
    if (!gst_latent_sink_plot (self)) {
      gst_event_unref (event);
      return FALSE;
    }
    gst_latent_sink_post_summary (self, self->last_end);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_latent_sink_stop (GstBaseSink * sink)
{
  GstLatentSink *self = GST_LATENT_SINK (sink);
  gboolean ok = TRUE;

  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  if (self->out) {
    if (fclose (self->out) != 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
          ("Could not close file \"%s\".", self->out_path), GST_ERROR_SYSTEM);
      ok = FALSE;
    }
    self->out = NULL;
  }
  g_clear_pointer (&self->points, g_array_unref);
  g_clear_pointer (&self->outliers, g_array_unref);
  gst_latent_sink_clear_strips (self);
  return ok;
}

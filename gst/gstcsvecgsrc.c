/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
/**
 * SECTION:element-csvecgsrc
 * @title: csvecgsrc
 *
 * Reads one column of a CSV recording or live CSV feed and outputs it as
 * `audio/x-raw, format=F32LE, channels=1, rate=R` samples, where R is
 * #GstCsvEcgSrc:rate (CSV files do not say their rate).  The text comes from
 * #GstCsvEcgSrc:location (a file, FIFO or character device) or from the
 * file descriptor #GstCsvEcgSrc:fd (0 for standard input).
 *
 * A first line with any non-numeric field is a header; #GstCsvEcgSrc:column
 * names the column by header name or 0-based index (default: the first).
 * Each value equals the C library's strtod of the same text rounded to
 * float, whatever the locale.  Lines may end in LF or CRLF; blank lines are
 * skipped.
 *
 * Timestamps are sample-exact: a buffer's OFFSET is the index of its first
 * sample and its PTS is OFFSET / rate.  Bad rows (a non-numeric or
 * non-finite cell, a missing column, a wrong number of fields, a line longer
 * than 1 MiB) keep the timeline: the last good value is repeated (0 before
 * the first good one), a warning names the line (the first ten are reported
 * one by one, later ones are counted in #GstCsvEcgSrc:bad-rows and
 * summarised at the end), and #GstCsvEcgSrc:max-errors turns them into an
 * error.  Binary data (a NUL byte), a file with no samples, a missing column
 * and an unusable rate are errors.
 *
 * With #GstCsvEcgSrc:is-live the element is a live source that releases
 * each buffer when the clock reaches its end, for real-time replay of a
 * recording or a feed that arrives in real time.
 *
 * #GstCsvEcgSrc:backend chooses the CPU or CUDA (auto: CUDA when a device
 * is present) and #GstCsvEcgSrc:cuda-device-id the device.  On CUDA the
 * text is still parsed on the CPU, into pinned memory, and each buffer is
 * copied to the device: the samples leave in memory:CUDAMemory when
 * downstream takes it.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 csvecgsrc location=119.csv column=MLII rate=360 ! audioresample ! audio/x-raw,rate=250 ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Finds the beats of an MIT-BIH record at 250 Hz.
 * |[
 * gst-launch-1.0 csvecgsrc location=119.csv rate=360 ! progressreport update-freq=1 ! fakesink
 * ]| Reports progress through a file.
 * |[
 * sensor-reader | gst-launch-1.0 csvecgsrc fd=0 is-live=true ! rickerconv ! nmsgate ! beatembed ! fakesink
 * ]| Reads a live feed from standard input.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gst/gst.h>

#include "gstcsvecgsrc.h"
#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "cudadev.h"
#include "csvparse.h"

GST_DEBUG_CATEGORY_STATIC (gst_csv_ecg_src_debug);
#define GST_CAT_DEFAULT gst_csv_ecg_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FD -1
#define DEFAULT_COLUMN NULL
#define DEFAULT_RATE 250
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_BUFFER_TIME 1000000
#define DEFAULT_MAX_ERRORS -1

/* the read window, which is also the longest line accepted */
#define READ_SIZE (1024 * 1024)
#define MAX_LINE READ_SIZE
/* bad rows reported one by one before they are only counted */
#define REPORTED_BAD_ROWS 10

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_FD,
  PROP_COLUMN,
  PROP_RATE,
  PROP_IS_LIVE,
  PROP_BUFFER_TIME,
  PROP_MAX_ERRORS,
  PROP_BAD_ROWS,
  PROP_BACKEND,
  PROP_CUDA_DEVICE_ID,
};

#define SRC_CAPS \
  "audio/x-raw, format = (string) F32LE, rate = (int) [ 1, 100000 ], " \
  "channels = (int) 1, layout = (string) interleaved"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

struct _GstCsvEcgSrc
{
  GstPushSrc parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *location;
  gint fd_prop;
  gchar *column;
  gint rate;
  gboolean is_live;
  guint64 buffer_time;
  gint max_errors;
  guint64 bad_rows;             /* statistic, also written while streaming */

  /* set in start(), streaming thread */
  gint fd;
  gboolean own_fd;
  gboolean seekable_file;
  guint64 file_size;
  GstPoll *poll;
  GstPollFD pollfd;
  gchar *col_req;               /* the column property, as given */
  gint col;
  gint n_cols;
  gint out_rate;
  guint spb;                    /* samples per buffer */
  gint max_err;

  /* streaming state, streaming thread */
  gchar *rbuf;
  gint parse_threads;
  gpointer parse_ws;            /* csv_parse_block_mt () workspace */
  gdouble line_bytes;           /* mean bytes per line parsed so far */
  gsize rcap, rpos, rlen;
  gboolean eof;
  gboolean header_done;
  gboolean skip_line;           /* inside an over-long line */
  guint64 line_no;              /* 1-based number of the line at rpos */
  guint64 bytes_read;
  guint64 samples;              /* samples output so far */
  gfloat last_good;
  gboolean done;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
  gboolean out_cuda;            /* negotiated memory:CUDAMemory */
  gpointer pinned;              /* spb floats of pinned host memory */
};

#define gst_csv_ecg_src_parent_class parent_class
G_DEFINE_TYPE (GstCsvEcgSrc, gst_csv_ecg_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (csvecgsrc, "csvecgsrc", GST_RANK_NONE,
    GST_TYPE_CSV_ECG_SRC);

static void gst_csv_ecg_src_finalize (GObject * object);
static void gst_csv_ecg_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_csv_ecg_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_csv_ecg_src_start (GstBaseSrc * src);
static GstCaps *gst_csv_ecg_src_get_caps (GstBaseSrc * src, GstCaps * filter);
static gboolean gst_csv_ecg_src_query (GstBaseSrc * src, GstQuery * query);
static void gst_csv_ecg_src_get_times (GstBaseSrc * src, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end);
static GstFlowReturn gst_csv_ecg_src_create (GstPushSrc * src,
    GstBuffer ** buf);
static gboolean gst_csv_ecg_src_set_caps (GstBaseSrc * src, GstCaps * caps);
static GstFlowReturn gst_csv_ecg_src_create_cuda (GstCsvEcgSrc * self,
    GstBuffer ** buf);
static GstFlowReturn gst_csv_ecg_src_at_end (GstCsvEcgSrc * self);
static GstFlowReturn gst_csv_ecg_src_finish_buffer (GstCsvEcgSrc * self,
    GstBuffer * out, guint got, GstBuffer ** buf);
static gboolean gst_csv_ecg_src_unlock (GstBaseSrc * src);
static gboolean gst_csv_ecg_src_unlock_stop (GstBaseSrc * src);
static gboolean gst_csv_ecg_src_stop (GstBaseSrc * src);

static void
gst_csv_ecg_src_class_init (GstCsvEcgSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_csv_ecg_src_finalize;
  gobject_class->set_property = gst_csv_ecg_src_set_property;
  gobject_class->get_property = gst_csv_ecg_src_get_property;

  /**
   * GstCsvEcgSrc:location:
   *
   * Path of a CSV file, FIFO or character device.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Path of the CSV file, FIFO or character device to read",
          DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:fd:
   *
   * Open file descriptor to read when #GstCsvEcgSrc:location is unset
   * (0 = standard input); it is not closed.  -1 = none.
   */
  g_object_class_install_property (gobject_class, PROP_FD,
      g_param_spec_int ("fd", "File descriptor",
          "Open file descriptor to read when location is unset (-1 = none)",
          -1, G_MAXINT, DEFAULT_FD, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:column:
   *
   * Column to read: a header name, or a 0-based index.  Unset: the first.
   */
  g_object_class_install_property (gobject_class, PROP_COLUMN,
      g_param_spec_string ("column", "Column",
          "Column to read: header name or 0-based index (default: the first)",
          DEFAULT_COLUMN, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:rate:
   *
   * Sample rate of the recording in Hz, 1 to 100000.
   */
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_int ("rate", "Rate",
          "Sample rate of the recording in Hz (1 to 100000; other values "
          "fail at start with a bus error)", 0, G_MAXINT,
          DEFAULT_RATE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:is-live:
   *
   * Act as a live source: each buffer leaves when the clock reaches its end.
   */
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Pace the output at the sample rate, as a live source",
          DEFAULT_IS_LIVE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:buffer-time:
   *
   * Duration of one output buffer in microseconds.
   */
  g_object_class_install_property (gobject_class, PROP_BUFFER_TIME,
      g_param_spec_uint64 ("buffer-time", "Buffer time",
          "Duration of one output buffer in microseconds", 1000,
          G_GUINT64_CONSTANT (3600000000), DEFAULT_BUFFER_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:max-errors:
   *
   * Bad rows tolerated before the element fails with an error; -1 = no
   * limit, 0 = the first bad row is an error.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_ERRORS,
      g_param_spec_int ("max-errors", "Max errors",
          "Bad rows tolerated before failing (-1 = no limit)", -1, G_MAXINT,
          DEFAULT_MAX_ERRORS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCsvEcgSrc:bad-rows:
   *
   * Bad rows met since the element started (each replaced by the last
   * good value).
   */
  g_object_class_install_property (gobject_class, PROP_BAD_ROWS,
      g_param_spec_uint64 ("bad-rows", "Bad rows",
          "Bad rows replaced by the last good value since start", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCsvEcgSrc:backend:
   *
   * Where to compute: auto (CUDA when a device is present, else the CPU),
   * cpu, or cuda (starting fails with RESOURCE/NOT_FOUND without a device).
   */
  /**
   * GstCsvEcgSrc:cuda-device-id:
   *
   * CUDA device to use with the cuda or auto backend; -1 = automatic
   * (device 0).
   */
  ecg_install_backend_properties (gobject_class, PROP_BACKEND,
      PROP_CUDA_DEVICE_ID);

  ecg_element_class_add_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "CSV ECG source", "Source/File",
      "Reads an ECG column from a CSV file, FIFO or file descriptor",
      "gst-ecg authors <gst-ecg@example.invalid>");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_start);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_get_caps);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_set_caps);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_query);
  basesrc_class->get_times = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_get_times);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_unlock_stop);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_csv_ecg_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_csv_ecg_src_debug, "csvecgsrc", 0,
      "CSV ECG source");
  gst_type_mark_as_plugin_api (GST_TYPE_ECG_BACKEND, 0);
}

static void
gst_csv_ecg_src_init (GstCsvEcgSrc * self)
{
  self->location = NULL;
  self->fd_prop = DEFAULT_FD;
  self->column = NULL;
  self->rate = DEFAULT_RATE;
  self->is_live = DEFAULT_IS_LIVE;
  self->buffer_time = DEFAULT_BUFFER_TIME;
  self->max_errors = DEFAULT_MAX_ERRORS;
  self->fd = -1;
  self->poll = gst_poll_new (TRUE);
  gst_poll_fd_init (&self->pollfd);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->out_cuda = FALSE;
  self->pinned = NULL;
}

static void
gst_csv_ecg_src_finalize (GObject * object)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (object);

  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_free (self->location);
  g_free (self->column);
  g_free (self->rbuf);
  g_free (self->parse_ws);
  g_free (self->col_req);
  if (self->poll)
    gst_poll_free (self->poll);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_csv_ecg_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_FD:
      self->fd_prop = g_value_get_int (value);
      break;
    case PROP_COLUMN:
      g_free (self->column);
      self->column = g_value_dup_string (value);
      break;
    case PROP_RATE:
      self->rate = g_value_get_int (value);
      break;
    case PROP_IS_LIVE:
      self->is_live = g_value_get_boolean (value);
      break;
    case PROP_BUFFER_TIME:
      self->buffer_time = g_value_get_uint64 (value);
      break;
    case PROP_MAX_ERRORS:
      self->max_errors = g_value_get_int (value);
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

  /* set now, not in start(): the base class decides on preroll before it;
   * it takes the object lock itself */
  if (prop_id == PROP_IS_LIVE)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
}

static void
gst_csv_ecg_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_FD:
      g_value_set_int (value, self->fd_prop);
      break;
    case PROP_COLUMN:
      g_value_set_string (value, self->column);
      break;
    case PROP_RATE:
      g_value_set_int (value, self->rate);
      break;
    case PROP_IS_LIVE:
      g_value_set_boolean (value, self->is_live);
      break;
    case PROP_BUFFER_TIME:
      g_value_set_uint64 (value, self->buffer_time);
      break;
    case PROP_MAX_ERRORS:
      g_value_set_int (value, self->max_errors);
      break;
    case PROP_BAD_ROWS:
      g_value_set_uint64 (value, self->bad_rows);
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
gst_csv_ecg_src_start (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);
  gchar *location, *column;
  gint fd_prop, rate;
  guint64 buffer_time;
  struct stat st;

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  column = g_strdup (self->column);
  fd_prop = self->fd_prop;
  rate = self->rate;
  buffer_time = self->buffer_time;
  self->max_err = self->max_errors;
  self->bad_rows = 0;
  GST_OBJECT_UNLOCK (self);

  if (rate < 1 || rate > ECG_MAX_RATE)
    goto bad_rate;

  if (location && *location) {
    self->fd = open (location, O_RDONLY | O_CLOEXEC);
    if (self->fd < 0)
      goto open_failed;
    self->own_fd = TRUE;
  } else if (fd_prop >= 0) {
    self->fd = fd_prop;
    self->own_fd = FALSE;
  } else {
    goto no_location;
  }

  if (fstat (self->fd, &st) < 0)
    goto open_failed;
  if (S_ISDIR (st.st_mode)) {
    errno = EISDIR;
    goto open_failed;
  }
  self->seekable_file = S_ISREG (st.st_mode);
  self->file_size = self->seekable_file ? (guint64) st.st_size : 0;

  self->pollfd.fd = self->fd;
  gst_poll_add_fd (self->poll, &self->pollfd);
  gst_poll_fd_ctl_read (self->poll, &self->pollfd, TRUE);

  self->out_rate = rate;
  self->spb = (guint) MAX (1, gst_util_uint64_scale_round (buffer_time, rate,
          G_USEC_PER_SEC));
  self->col = 0;
  self->n_cols = -1;
  /* the column is resolved once the header is known */
  g_free (self->col_req);
  self->col_req = column;

  self->rcap = READ_SIZE;
  self->rbuf = g_malloc (self->rcap);
  /* parsing threads: the cores, at most 8 */
  self->parse_threads = MIN (8, (gint) g_get_num_processors ());
  self->parse_ws = g_malloc (csv_parse_block_mt_workspace_size (self->rcap,
          self->parse_threads));
  self->line_bytes = 0.0;
  self->rpos = self->rlen = 0;
  self->eof = FALSE;
  self->header_done = FALSE;
  self->skip_line = FALSE;
  self->line_no = 1;
  self->bytes_read = 0;
  self->samples = 0;
  self->last_good = 0.0f;
  self->done = FALSE;

  GST_DEBUG_OBJECT (self, "reading %s at %d Hz, %u samples per buffer",
      location ? location : "a file descriptor", rate, self->spb);
  g_free (location);
  return TRUE;

  /* ERRORS */
bad_rate:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The sample rate must be between 1 and %d Hz.", ECG_MAX_RATE),
        ("rate=%d", rate));
    g_free (location);
    g_free (column);
    return FALSE;
  }
no_location:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for reading."),
        ("set location, or fd to read an open file descriptor"));
    g_free (location);
    g_free (column);
    return FALSE;
  }
open_failed:
  {
    if (errno == ENOENT)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("File \"%s\" does not exist.", location), GST_ERROR_SYSTEM);
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not open \"%s\" for reading.",
              location ? location : "the file descriptor"), GST_ERROR_SYSTEM);
    if (self->own_fd && self->fd >= 0)
      close (self->fd);
    self->fd = -1;
    g_free (location);
    g_free (column);
    return FALSE;
  }
}

static GstCaps *
gst_csv_ecg_src_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);
  GstCaps *caps;
  gint rate;

  GST_OBJECT_LOCK (self);
  rate = self->rate;
  GST_OBJECT_UNLOCK (self);

  caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (src));
  if (rate >= 1 && rate <= ECG_MAX_RATE) {
    caps = gst_caps_make_writable (caps);
    gst_caps_set_simple (caps, "rate", G_TYPE_INT, rate, NULL);
  }
  /* on CUDA, device memory first; on the CPU, system memory only */
  if (ecg_cuda_context_wants_cuda (&self->cuda, GST_ELEMENT (self),
          &self->backend))
    caps = ecg_caps_with_cuda (caps, TRUE);
  else
    caps = ecg_caps_without_cuda (caps);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static gboolean
gst_csv_ecg_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);
  GstFormat format;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_POSITION:
      gst_query_parse_position (query, &format, NULL);
      if (self->out_rate <= 0)
        break;
      switch (format) {
        case GST_FORMAT_BYTES:
          gst_query_set_position (query, format, self->bytes_read -
              (self->rlen - self->rpos));
          return TRUE;
        case GST_FORMAT_DEFAULT:
          gst_query_set_position (query, format, self->samples);
          return TRUE;
        case GST_FORMAT_TIME:
          gst_query_set_position (query, format,
              gst_util_uint64_scale_int (self->samples, GST_SECOND,
                  self->out_rate));
          return TRUE;
        default:
          break;
      }
      break;
    case GST_QUERY_DURATION:
      gst_query_parse_duration (query, &format, NULL);
      if (self->out_rate <= 0)
        break;
      /* The length in samples is known only at the end; the length in
       * bytes is known for regular files, which is what progressreport
       * falls back to. */
      if (self->done && format == GST_FORMAT_TIME) {
        gst_query_set_duration (query, format,
            gst_util_uint64_scale_int (self->samples, GST_SECOND,
                self->out_rate));
        return TRUE;
      }
      if (self->done && format == GST_FORMAT_DEFAULT) {
        gst_query_set_duration (query, format, self->samples);
        return TRUE;
      }
      if (format == GST_FORMAT_BYTES && self->seekable_file) {
        gst_query_set_duration (query, format, self->file_size);
        return TRUE;
      }
      if (format == GST_FORMAT_TIME || format == GST_FORMAT_DEFAULT ||
          format == GST_FORMAT_BYTES)
        return FALSE;
      break;
    case GST_QUERY_LATENCY:
      if (self->out_rate > 0) {
        GstClockTime lat = gst_util_uint64_scale_int (self->spb, GST_SECOND,
            self->out_rate);
        gboolean live = gst_base_src_is_live (src);

        /* a live buffer leaves when the clock reaches its last sample */
        gst_query_set_latency (query, live, live ? lat : 0, live ? lat : 0);
        return TRUE;
      }
      break;
    default:
      break;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

static void
gst_csv_ecg_src_get_times (GstBaseSrc * src, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  /* live: wait until the clock reaches the end of the buffer, as a capture
   * device would deliver it */
  if (gst_base_src_is_live (src) && GST_BUFFER_PTS_IS_VALID (buffer) &&
      GST_BUFFER_DURATION_IS_VALID (buffer)) {
    *start = GST_BUFFER_PTS (buffer) + GST_BUFFER_DURATION (buffer);
    *end = GST_CLOCK_TIME_NONE;
  } else {
    *start = GST_CLOCK_TIME_NONE;
    *end = GST_CLOCK_TIME_NONE;
  }
}

/* Reads more text after the unconsumed bytes.  Returns FALSE on error (an
 * error is posted) or flushing (*flow says which). */
static gboolean
gst_csv_ecg_src_fill (GstCsvEcgSrc * self, GstFlowReturn * flow)
{
  gssize r;

  if (self->rpos > 0) {
    memmove (self->rbuf, self->rbuf + self->rpos, self->rlen - self->rpos);
    self->rlen -= self->rpos;
    self->rpos = 0;
  }

  if (!self->seekable_file) {
    gint pr;

    do {
      pr = gst_poll_wait (self->poll, GST_CLOCK_TIME_NONE);
    } while (pr < 0 && (errno == EINTR || errno == EAGAIN));
    if (pr < 0 && errno == EBUSY) {
      *flow = GST_FLOW_FLUSHING;
      return FALSE;
    }
  }

  do {
    r = read (self->fd, self->rbuf + self->rlen,
        MIN (READ_SIZE, self->rcap - self->rlen));
  } while (r < 0 && errno == EINTR);
  if (r < 0)
    goto read_failed;
  if (r == 0)
    self->eof = TRUE;
  else if (memchr (self->rbuf + self->rlen, 0, r))
    goto binary;
  self->rlen += r;
  self->bytes_read += r;
  return TRUE;

  /* ERRORS */
read_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL), GST_ERROR_SYSTEM);
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
binary:
  {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("The input is not CSV text."),
        ("a NUL byte after line %" G_GUINT64_FORMAT, self->line_no));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* The length of the complete line at rpos, terminator included, or 0 if it
 * is not complete yet. */
static gsize
gst_csv_ecg_src_line_length (GstCsvEcgSrc * self)
{
  const gchar *start = self->rbuf + self->rpos;
  const gchar *nl = memchr (start, '\n', self->rlen - self->rpos);

  if (nl)
    return nl - start + 1;
  if (self->eof)
    return self->rlen - self->rpos;
  return 0;
}

/* Reads lines until the header question is settled and the column known.
 * Returns FALSE with *flow set on error, EOS or flushing. */
static gboolean
gst_csv_ecg_src_read_header (GstCsvEcgSrc * self, GstFlowReturn * flow)
{
  const gchar *req = self->col_req;
  const gchar *line;
  gsize len;
  gchar *endp;
  gint64 idx = -1;

  if (req && *req) {
    idx = g_ascii_strtoll (req, &endp, 10);
    if (*endp != '\0' || idx < 0 || idx > G_MAXINT)
      idx = -1;
  }

  for (;;) {
    len = gst_csv_ecg_src_line_length (self);
    if (len == 0) {
      if (self->rlen - self->rpos >= MAX_LINE)
        goto line_too_long;
      if (self->eof)
        goto no_samples;
      if (!gst_csv_ecg_src_fill (self, flow))
        return FALSE;
      if (self->line_no == 1 && self->rpos == 0)
        self->rpos = csv_bom_length (self->rbuf, self->rlen);
      continue;
    }
    line = self->rbuf + self->rpos;
    if (csv_line_count_fields (line, len) == 0) {
      /* leading blank lines */
      self->rpos += len;
      self->line_no++;
      continue;
    }
    break;
  }

  self->n_cols = csv_line_count_fields (line, len);
  if (csv_line_is_header (line, len)) {
    if (req && *req && idx < 0) {
      idx = csv_header_find_column (line, len, req);
      if (idx < 0)
        goto no_column;
    }
    GST_DEBUG_OBJECT (self, "header with %d fields, reading column %"
        G_GINT64_FORMAT, self->n_cols, MAX (idx, 0));
    self->rpos += len;
    self->line_no++;
  } else if (req && *req && idx < 0) {
    goto no_header;
  }
  if (idx < 0)
    idx = 0;
  if (idx >= self->n_cols)
    goto no_column;
  self->col = (gint) idx;
  self->header_done = TRUE;
  return TRUE;

  /* ERRORS */
line_too_long:
  {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("The input is not CSV text."),
        ("the first line is longer than %d bytes", MAX_LINE));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
no_samples:
  {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("The input holds no samples."),
        ("%s after %" G_GUINT64_FORMAT " lines",
            self->bytes_read ? "no data rows" : "empty input",
            self->line_no - 1));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
no_column:
  {
    gchar *hdr = g_strndup (line, len);

    g_strchomp (hdr);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The input has no column \"%s\".", req ? req : "0"),
        ("first line: \"%.200s\" (%d fields)", hdr, self->n_cols));
    g_free (hdr);
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
no_header:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The input has no header, so column \"%s\" cannot be found.", req),
        ("give the column as a 0-based index"));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* A bad row: hold the last good value, warn, count; fail past max-errors. */
static gboolean
gst_csv_ecg_src_bad_row (GstCsvEcgSrc * self, const gchar * what, gfloat * out)
{
  guint64 n;

  GST_OBJECT_LOCK (self);
  n = ++self->bad_rows;
  GST_OBJECT_UNLOCK (self);

  if (self->max_err >= 0 && n > (guint64) self->max_err) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("Too many bad rows in the input."),
        ("line %" G_GUINT64_FORMAT ": %s (bad row %" G_GUINT64_FORMAT
            ", max-errors=%d)", self->line_no, what, n, self->max_err));
    return FALSE;
  }
  if (n <= REPORTED_BAD_ROWS)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Bad row in the input; the previous value is repeated."),
        ("line %" G_GUINT64_FORMAT ": %s%s", self->line_no, what,
            n == REPORTED_BAD_ROWS ?
            " (further bad rows are only counted, see bad-rows)" : ""));
  else
    GST_DEBUG_OBJECT (self, "line %" G_GUINT64_FORMAT ": %s", self->line_no,
        what);
  *out = self->last_good;
  return TRUE;
}

/* Fills out[0..max) with samples; returns how many, 0 at end of input.
 * Returns FALSE with *flow set on error or flushing. */
static gboolean
gst_csv_ecg_src_parse (GstCsvEcgSrc * self, gfloat * out, guint max,
    guint * got, GstFlowReturn * flow)
{
  guint n = 0;

  while (n < max) {
    CsvBlockResult res;
    gint st;
    gchar what[96];
    gsize avail, span;

    if (self->skip_line) {
      const gchar *nl = memchr (self->rbuf + self->rpos, '\n',
          self->rlen - self->rpos);

      if (nl) {
        self->rpos = nl - self->rbuf + 1;
        self->skip_line = FALSE;
        self->line_no++;
        continue;
      }
      self->rpos = self->rlen;
      if (self->eof) {
        self->skip_line = FALSE;
        break;
      }
      if (!gst_csv_ecg_src_fill (self, flow))
        return FALSE;
      continue;
    }

    /* Several threads parse at once, over about as many bytes as the
     * values still wanted take (from the bytes per line so far), cut at a
     * line end; what stays is parsed by the next round. */
    avail = self->rlen - self->rpos;
    span = avail;
    if (self->parse_threads > 1 && self->line_bytes > 0.0) {
      /* a little short of the estimate: a span holding more lines than
       * wanted would make the last part parse twice */
      gsize want = (gsize) (0.97 * (max - n) * self->line_bytes) + 1;

      if (want < avail) {
        const gchar *nl = memchr (self->rbuf + self->rpos + want, '\n',
            avail - want);

        span = nl ? (gsize) (nl - (self->rbuf + self->rpos)) + 1 : avail;
      }
    }
    st = csv_parse_block_mt (self->rbuf + self->rpos, span,
        span == avail ? self->eof : TRUE, self->col, self->n_cols, out + n,
        max - n, &res, self->parse_threads, self->parse_ws);
    if (res.n_values && res.consumed)
      self->line_bytes = (gdouble) res.consumed / res.n_values;
    if (st == CSV_OK && span < avail) {
      /* the span is done; the rest of the buffer is next */
      n += res.n_values;
      if (res.n_values)
        self->last_good = out[n - 1];
      self->rpos += res.consumed;
      self->line_no += res.n_values;
      continue;
    }
    if (res.n_values) {
      n += res.n_values;
      self->last_good = out[n - 1];
    }
    self->rpos += res.consumed;
    self->line_no += res.n_values;

    switch (st) {
      case CSV_FULL:
        continue;
      case CSV_OK:
        if (self->eof)
          goto done;
        if (self->rlen - self->rpos >= MAX_LINE) {
          /* an over-long line: a bad row, skipped to its end */
          g_snprintf (what, sizeof (what), "line longer than %d bytes",
              MAX_LINE);
          if (!gst_csv_ecg_src_bad_row (self, what, out + n))
            goto error;
          n++;
          self->skip_line = TRUE;
          continue;
        }
        if (!gst_csv_ecg_src_fill (self, flow))
          return FALSE;
        continue;
      case CSV_ERR_EMPTY_LINE:
        GST_LOG_OBJECT (self, "skipping blank line %" G_GUINT64_FORMAT,
            self->line_no);
        self->rpos += res.line_len;
        self->line_no++;
        continue;
      case CSV_ERR_RAGGED:
        g_snprintf (what, sizeof (what), "%d fields where %d were expected",
            res.n_fields, self->n_cols);
        break;
      case CSV_ERR_NOT_NUMERIC:
        g_snprintf (what, sizeof (what), "column %d is not a number",
            self->col);
        break;
      case CSV_ERR_NOT_FINITE:
        g_snprintf (what, sizeof (what), "column %d is %g", self->col,
            (gdouble) res.value);
        break;
      default:
        g_snprintf (what, sizeof (what), "%s", csv_strerror (st));
        break;
    }
    if (!gst_csv_ecg_src_bad_row (self, what, out + n))
      goto error;
    n++;
    self->rpos += res.line_len;
    self->line_no++;
  }
done:
  *got = n;
  return TRUE;

error:
  *flow = GST_FLOW_ERROR;
  return FALSE;
}

static gboolean
gst_csv_ecg_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  self->out_cuda = ecg_caps_is_cuda (caps);
  if (self->out_cuda && !ecg_cuda_context_active (&self->cuda)) {
    GST_ERROR_OBJECT (self, "CUDA caps but no CUDA device: %" GST_PTR_FORMAT,
        caps);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "samples in %s memory", self->out_cuda ? "CUDA" :
      "system");
  return TRUE;
}

static GstFlowReturn
gst_csv_ecg_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);
  GstFlowReturn flow = GST_FLOW_OK;
  GstBuffer *out;
  GstMapInfo map;
  guint got = 0;

  if (self->done)
    return GST_FLOW_EOS;

  if (!self->header_done && !gst_csv_ecg_src_read_header (self, &flow))
    return flow;

  if (self->out_cuda)
    return gst_csv_ecg_src_create_cuda (self, buf);

  out = gst_buffer_new_allocate (NULL, (gsize) self->spb * sizeof (gfloat),
      NULL);
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  if (!gst_csv_ecg_src_parse (self, (gfloat *) map.data, self->spb, &got,
          &flow)) {
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
    return flow;
  }
  gst_buffer_unmap (out, &map);

  if (got == 0) {
    gst_buffer_unref (out);
    return gst_csv_ecg_src_at_end (self);
  }
  return gst_csv_ecg_src_finish_buffer (self, out, got, buf);
}

/* The input ended: EOS, or an error when it held no sample at all */
static GstFlowReturn
gst_csv_ecg_src_at_end (GstCsvEcgSrc * self)
{
  self->done = TRUE;
  if (self->samples == 0)
    goto no_samples;
  if (self->bad_rows > REPORTED_BAD_ROWS)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("%" G_GUINT64_FORMAT " bad rows in the input were replaced by the "
            "previous value.", self->bad_rows),
        ("%" G_GUINT64_FORMAT " samples in all", self->samples));
  GST_DEBUG_OBJECT (self, "end of input after %" G_GUINT64_FORMAT
      " samples", self->samples);
  return GST_FLOW_EOS;

  /* ERRORS */
no_samples:
  {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("The input holds no samples."),
        ("only a header or blank lines (%" G_GUINT64_FORMAT " lines)",
            self->line_no - 1));
    return GST_FLOW_ERROR;
  }
}

/* CUDA caps: parse into pinned host memory as on the CPU path, then copy
 * it into CUDA memory on the element's stream */
static GstFlowReturn
gst_csv_ecg_src_create_cuda (GstCsvEcgSrc * self, GstBuffer ** buf)
{
  GstFlowReturn flow = GST_FLOW_OK;
  gsize size = (gsize) self->spb * sizeof (gfloat);
  const gchar *what = "cudaMallocHost";
  GstBuffer *out;
  GstMapInfo map;
  guint got = 0;
  gint ret = ECG_CUDA_ERR_RUNTIME;

  if (!self->pinned &&
      (ret = ecg_cuda_host_alloc (size, &self->pinned)) != ECG_CUDA_OK)
    goto cuda_failed;
  if (!gst_csv_ecg_src_parse (self, (gfloat *) self->pinned, self->spb, &got,
          &flow))
    return flow;
  if (got == 0)
    return gst_csv_ecg_src_at_end (self);

  what = "cudaMalloc";
  ret = ECG_CUDA_ERR_RUNTIME;
  out = gst_buffer_new_allocate (self->cuda.allocator, size, NULL);
  if (!out)
    goto cuda_failed;
  if (!gst_buffer_map (out, &map, GST_MAP_WRITE | ECG_MAP_CUDA)) {
    gst_buffer_unref (out);
    goto cuda_failed;
  }
  what = "uploading the samples";
  ret = ecg_cuda_memcpy_h2d (map.data, self->pinned,
      (gsize) got * sizeof (gfloat), self->cuda.stream);
  /* the samples must be on the device before the buffer leaves, and the
   * pinned block is refilled for the next one */
  if (ret == ECG_CUDA_OK)
    ret = ecg_cuda_stream_sync (self->cuda.stream);
  gst_buffer_unmap (out, &map);
  if (ret != ECG_CUDA_OK) {
    gst_buffer_unref (out);
    goto cuda_failed;
  }
  return gst_csv_ecg_src_finish_buffer (self, out, got, buf);

  /* ERRORS */
cuda_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->cuda.device,
            ecg_cuda_strerror (ret)));
    return GST_FLOW_ERROR;
  }
}

/* Stamps @out, which holds @got samples, and hands it out */
static GstFlowReturn
gst_csv_ecg_src_finish_buffer (GstCsvEcgSrc * self, GstBuffer * out,
    guint got, GstBuffer ** buf)
{
  GstClockTime pts, end;

  gst_buffer_set_size (out, (gsize) got * sizeof (gfloat));
  pts = gst_util_uint64_scale_int (self->samples, GST_SECOND, self->out_rate);
  end = gst_util_uint64_scale_int (self->samples + got, GST_SECOND,
      self->out_rate);
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DTS (out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (out) = end - pts;
  GST_BUFFER_OFFSET (out) = self->samples;
  GST_BUFFER_OFFSET_END (out) = self->samples + got;
  if (self->samples == 0)
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
  self->samples += got;
  *buf = out;
  return GST_FLOW_OK;
}

static gboolean
gst_csv_ecg_src_unlock (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  gst_poll_set_flushing (self->poll, TRUE);
  return TRUE;
}

static gboolean
gst_csv_ecg_src_unlock_stop (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  gst_poll_set_flushing (self->poll, FALSE);
  return TRUE;
}

static gboolean
gst_csv_ecg_src_stop (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  if (self->pinned && ecg_cuda_host_free (self->pinned) != ECG_CUDA_OK)
    GST_WARNING_OBJECT (self, "could not free the pinned buffer");
  self->pinned = NULL;
  self->out_cuda = FALSE;
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  if (self->fd >= 0) {
    gst_poll_remove_fd (self->poll, &self->pollfd);
    gst_poll_fd_init (&self->pollfd);
    if (self->own_fd)
      close (self->fd);
  }
  self->fd = -1;
  self->out_rate = 0;
  g_clear_pointer (&self->rbuf, g_free);
  g_clear_pointer (&self->parse_ws, g_free);
  g_clear_pointer (&self->col_req, g_free);
  return TRUE;
}

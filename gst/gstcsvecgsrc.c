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
 * The text is parsed by a pool of threads (one per core, at most 16).  A
 * regular file is read and parsed ahead on a thread of its own while
 * downstream works on the buffers already out, into at most three batches
 * of samples (a batch is the buffers that fit in 4 MiB of floats, or one
 * buffer if it is larger; two batches then), beside a 16 MiB text window.
 * Warnings and errors are posted just before the buffer they concern
 * leaves, as if the text were parsed then; #GstCsvEcgSrc:bad-rows counts
 * the rows parsed so far.  Other inputs (FIFOs, character devices, pipes)
 * are read when a buffer is wanted, 1 MiB at a time.
 *
 * With #GstCsvEcgSrc:is-live the element is a live source that releases
 * each buffer when the clock reaches its end, for real-time replay of a
 * recording or a feed that arrives in real time.
 *
 * #GstCsvEcgSrc:backend chooses the CPU or CUDA (auto: CUDA when a device
 * is present) and #GstCsvEcgSrc:cuda-device-id the device.  On CUDA, when
 * downstream takes memory:CUDAMemory, a regular file is parsed on the GPU:
 * its text window is copied to the device and the samples are parsed
 * straight into device memory, with the same values; the lines the GPU
 * leaves to the CPU (bad rows, quoted or unusual numbers, a line too long,
 * the text after a NUL byte) are parsed on the CPU threads and copied to
 * their place, so warnings, errors and timestamps are the same.  Other
 * inputs are parsed on the CPU threads into pinned memory and each buffer
 * is copied to the device.
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
#include "gstecgcudakernels.h"

GST_DEBUG_CATEGORY_STATIC (gst_csv_ecg_src_debug);
#define GST_CAT_DEFAULT gst_csv_ecg_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FD -1
#define DEFAULT_COLUMN NULL
#define DEFAULT_RATE 250
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_BUFFER_TIME 1000000
#define DEFAULT_MAX_ERRORS -1

/* The longest line accepted: one with no "\n" in its first MAX_LINE bytes
 * is a bad row.  It is also the read size for FIFOs and descriptors. */
#define MAX_LINE (1024 * 1024)
#define READ_SIZE MAX_LINE
/* the text window of a regular file, read in pieces of READ_PIECE by the
 * parsing threads at once */
#define READ_WINDOW (16 * 1024 * 1024)
#define READ_PIECE (1024 * 1024)
/* the window's alignment: whole pages of any size up to 64 KiB */
#define RBUF_ALIGN (64 * 1024)
/* read-ahead: a batch holds the buffers that fit in BATCH_SAMPLES floats
 * (at least one); at most MAX_BATCHES batches exist, two when a batch is
 * one buffer */
#define BATCH_SAMPLES (1024 * 1024)
#define MAX_BATCHES 3
/* the GPU parse: what the CPU parses is copied to the device in pieces of
 * at most CPU_PIECE samples */
#define CPU_PIECE (1024 * 1024)
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

/* A warning or error found while parsing, posted by create () just before
 * the buffer holding @sample leaves (errors and the end-of-input summary
 * have G_MAXUINT64: after the last buffer).  What GST_ELEMENT_ERROR and
 * GST_ELEMENT_WARNING would have posted, file and line included. */
typedef struct
{
  guint64 sample;
  GstMessageType type;
  GQuark domain;
  gint code;
  gchar *text;
  gchar *debug;
  const gchar *file;
  const gchar *function;
  gint line;
} CsvMessage;

typedef enum
{
  CSV_BATCH_FREE,
  CSV_BATCH_FILLING,            /* the parsing thread's */
  CSV_BATCH_READY,              /* create ()'s */
} CsvBatchState;

/* Where the samples of a batch are */
typedef enum
{
  CSV_MEM_SYSTEM,               /* host memory */
  CSV_MEM_PINNED,               /* CUDA pinned host memory */
  CSV_MEM_DEVICE,               /* CUDA device memory: the GPU parse */
} CsvMem;

/* Consecutive samples on their way out, one or more buffers' worth */
typedef struct
{
  CsvBatchState state;
  gfloat *data;                 /* cap floats, where kind says (a device
                                 * pointer for CSV_MEM_DEVICE) */
  guint cap;
  GstMemory *mem;               /* data is this memory, mapped: handed out
                                 * whole when the batch is one buffer */
  GstMapInfo map;
  CsvMem kind;
  guint64 start;                /* index of data[0] in the stream */
  guint n;                      /* samples parsed */
  guint taken;                  /* samples handed out */
  guint64 bytes_start;          /* input consumed before and after */
  guint64 bytes_end;
  GPtrArray *msgs;              /* CsvMessage, in order */
  guint next_msg;
  gboolean last;                /* the input ended or failed after these */
  GstFlowReturn flow;           /* then: EOS or ERROR */
} CsvBatch;

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
  guint64 bad_rows;             /* statistic, written by the parsing thread */

  /* set in start(), read-only while streaming */
  gint fd;
  gboolean own_fd;
  gboolean seekable_file;
  gboolean use_pread;           /* regular file: pread () from file_off */
  guint64 file_off;             /* the descriptor's offset at start */
  guint64 file_size;
  GstPoll *poll;
  GstPollFD pollfd;
  gchar *col_req;               /* the column property, as given */
  gint out_rate;
  guint spb;                    /* samples per buffer */
  guint batch_blocks;           /* buffers per full batch */
  gint max_err;
  CsvPool *pool;

  /* parse state: only the parsing thread (the read-ahead thread of a
   * regular file, else the streaming thread) touches it */
  gchar *rbuf;
  gsize rcap, rpos, rlen;
  guint64 win_off;              /* input offset of rbuf[0] */
  gboolean eof;
  gboolean header_done;
  gboolean skip_line;           /* inside an over-long line */
  gint col;
  gint n_cols;
  guint64 line_no;              /* 1-based number of the line at rpos */
  guint64 bytes_read;
  guint64 parsed;               /* samples parsed into finished batches */
  guint64 batch_start;          /* index of out[0] of the current parse */
  gfloat last_good;
  gdouble line_bytes;           /* mean bytes per line parsed so far */
  GPtrArray *msgs;              /* the messages of the batch being filled */
  gboolean cuda_thread_set;     /* the device is current on this thread */
  /* NUL bytes: see gst_csv_ecg_src_track_reads () */
  gint64 nul_at;                /* input offset of the first NUL, or -1 */
  gint64 nul_stop;              /* where the parse stops to report it */
  guint64 sim_start, sim_end, sim_scan;
  gint64 sim_last_nl;
  gboolean sim_skip;

  /* batches and the read-ahead thread: qlock */
  CsvBatch batches[MAX_BATCHES];
  guint n_batches;
  GMutex qlock;
  GCond ready_cond;             /* a batch was queued, or flushing */
  GCond free_cond;              /* a batch was freed, or quit */
  GQueue ready;                 /* filled batches, in order */
  GQueue free;
  gboolean flushing;
  gint quit;                    /* atomic too: stop the read-ahead */
  GThread *reader;
  gboolean read_ahead;          /* regular file: a thread parses ahead */
  gboolean whole_batches;       /* a batch is one buffer */
  CsvMem batch_mem;             /* the memory of the batches (pinned or
                                 * device for CUDA output): set before the
                                 * parsing thread reads it */

  /* the GPU parse (CUDA output, regular file): made by the read-ahead
   * thread with its first device batch, freed in release () */
  gboolean gpu_ready;           /* all of these are made */
  gint gpu_device;
  gpointer gpu_stream;          /* the read-ahead thread's cudaStream_t */
  gboolean rbuf_registered;     /* rbuf page-locked */
  gpointer gpu_text;            /* device: a span of rbuf, rcap bytes */
  CsvCuda *gpu_csv;
  gfloat *gpu_cpu_out;          /* pinned: CPU_PIECE samples parsed on the
                                 * CPU, on their way to the device */

  /* output, streaming thread (the queries read them) */
  guint64 samples;              /* samples output so far */
  guint64 out_bytes;            /* input consumed by them */
  gboolean done;
  GstFlowReturn done_flow;

  /* GPU: the backend properties (GST_OBJECT_LOCK); the device, stream and
   * allocator made in start () and freed in stop () (streaming thread) */
  GstEcgBackend backend;
  gint cuda_device_id;
  EcgCudaContext cuda;
  gboolean out_cuda;            /* negotiated memory:CUDAMemory */
};

#define gst_csv_ecg_src_parent_class parent_class
G_DEFINE_TYPE (GstCsvEcgSrc, gst_csv_ecg_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (csvecgsrc, "csvecgsrc", GST_RANK_NONE,
    GST_TYPE_CSV_ECG_SRC);

/* GST_ELEMENT_ERROR and GST_ELEMENT_WARNING for the parsing thread: the
 * message is kept with the samples and posted by create () */
#define CSV_MESSAGE(el, sample, type, domain, code, text, debug)        \
G_STMT_START {                                                          \
  gchar *__txt = _gst_element_error_printf text;                        \
  gchar *__dbg = _gst_element_error_printf debug;                       \
  gst_csv_ecg_src_defer (el, sample, type, GST_ ## domain ## _ERROR,    \
      GST_ ## domain ## _ERROR_ ## code, __txt, __dbg, __FILE__,        \
      GST_FUNCTION, __LINE__);                                          \
} G_STMT_END
#define CSV_ERROR(el, domain, code, text, debug)                        \
  CSV_MESSAGE (el, G_MAXUINT64, GST_MESSAGE_ERROR, domain, code, text, debug)
#define CSV_WARNING(el, sample, domain, code, text, debug)              \
  CSV_MESSAGE (el, sample, GST_MESSAGE_WARNING, domain, code, text, debug)

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
static GstFlowReturn gst_csv_ecg_src_take (GstCsvEcgSrc * self,
    CsvBatch * b, GstBuffer ** buf);
static GstFlowReturn gst_csv_ecg_src_copy_out (GstCsvEcgSrc * self,
    const gfloat * data, gboolean on_device, guint count, GstBuffer ** out);
static GstFlowReturn gst_csv_ecg_src_take_device (GstCsvEcgSrc * self,
    CsvBatch * b, guint count, GstBuffer ** out);
static GstFlowReturn gst_csv_ecg_src_finish_buffer (GstCsvEcgSrc * self,
    GstBuffer * out, guint got, GstBuffer ** buf);
static gboolean gst_csv_ecg_src_unlock (GstBaseSrc * src);
static gboolean gst_csv_ecg_src_unlock_stop (GstBaseSrc * src);
static gboolean gst_csv_ecg_src_stop (GstBaseSrc * src);
static void gst_csv_ecg_src_release (GstCsvEcgSrc * self);
static void gst_csv_ecg_src_gpu_close (GstCsvEcgSrc * self);
static void csv_message_free (gpointer data);
static void gst_csv_ecg_src_defer (GstCsvEcgSrc * self, guint64 sample,
    GstMessageType type, GQuark domain, gint code, gchar * text,
    gchar * debug, const gchar * file, const gchar * function, gint line);

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
  g_mutex_init (&self->qlock);
  g_cond_init (&self->ready_cond);
  g_cond_init (&self->free_cond);
  g_queue_init (&self->ready);
  g_queue_init (&self->free);
  self->backend = ECG_DEFAULT_BACKEND;
  self->cuda_device_id = ECG_DEFAULT_CUDA_DEVICE_ID;
  ecg_cuda_context_init (&self->cuda);
  self->out_cuda = FALSE;
}

static void
gst_csv_ecg_src_finalize (GObject * object)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (object);

  /* as stop () does: what used the stream first */
  gst_csv_ecg_src_release (self);
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  g_free (self->location);
  g_free (self->column);
  g_free (self->col_req);
  if (self->poll)
    gst_poll_free (self->poll);
  g_mutex_clear (&self->qlock);
  g_cond_clear (&self->ready_cond);
  g_cond_clear (&self->free_cond);

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
  off_t off;
  guint i;

  /* first, so that backend=cuda without a device is the one error */
  if (!ecg_cuda_context_start (&self->cuda, GST_ELEMENT (self),
          &self->backend, &self->cuda_device_id))
    return FALSE;

  /* what a start that failed later left (stop () is not called then) */
  gst_csv_ecg_src_release (self);

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
  /* a regular file is read with pread () from where its descriptor is */
  off = self->seekable_file ? lseek (self->fd, 0, SEEK_CUR) : -1;
  self->use_pread = off >= 0;
  self->file_off = off >= 0 ? (guint64) off : 0;

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

  /* parsing threads: the cores, at most CSV_POOL_MAX_THREADS */
  self->pool = csv_pool_new (MIN ((gint) g_get_num_processors (),
          CSV_POOL_MAX_THREADS));
  self->rcap = self->use_pread ? READ_WINDOW : READ_SIZE;
  /* whole pages: the GPU parse page-locks it */
  self->rbuf = g_aligned_alloc (self->rcap, 1, RBUF_ALIGN);
  self->rpos = self->rlen = 0;
  self->win_off = 0;
  self->eof = FALSE;
  self->header_done = FALSE;
  self->skip_line = FALSE;
  self->line_no = 1;
  self->bytes_read = 0;
  self->parsed = 0;
  self->batch_start = 0;
  self->last_good = 0.0f;
  self->line_bytes = 0.0;
  self->msgs = NULL;
  self->cuda_thread_set = FALSE;
  self->nul_at = -1;
  self->nul_stop = -1;
  self->sim_start = self->sim_scan = 0;
  self->sim_end = MAX_LINE;
  self->sim_last_nl = -1;
  self->sim_skip = FALSE;

  /* read-ahead for regular files: bounded by the batches */
  self->read_ahead = self->use_pread;
  self->batch_blocks = MAX (1, BATCH_SAMPLES / self->spb);
  self->whole_batches = !self->read_ahead || self->batch_blocks == 1;
  self->n_batches = !self->read_ahead ? 1 : self->whole_batches ? 2 :
      MAX_BATCHES;
  g_queue_clear (&self->ready);
  g_queue_clear (&self->free);
  for (i = 0; i < self->n_batches; i++) {
    CsvBatch *b = &self->batches[i];

    memset (b, 0, sizeof (*b));
    b->state = CSV_BATCH_FREE;
    b->cap = self->read_ahead ? self->batch_blocks * self->spb : self->spb;
    b->msgs = g_ptr_array_new_with_free_func (csv_message_free);
    g_queue_push_tail (&self->free, b);
  }
  self->flushing = FALSE;
  g_atomic_int_set (&self->quit, 0);
  self->reader = NULL;
  self->batch_mem = CSV_MEM_SYSTEM;

  self->samples = 0;
  self->out_bytes = 0;
  self->done = FALSE;
  self->done_flow = GST_FLOW_EOS;

  GST_DEBUG_OBJECT (self, "reading %s at %d Hz, %u samples per buffer, %d "
      "threads%s", location ? location : "a file descriptor", rate,
      self->spb, csv_pool_threads (self->pool),
      self->read_ahead ? ", reading ahead" : "");
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
          gst_query_set_position (query, format, self->out_bytes);
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

/* ---- messages kept with the samples ---- */

static void
csv_message_free (gpointer data)
{
  CsvMessage *m = data;

  g_free (m->text);
  g_free (m->debug);
  g_free (m);
}

/* Keeps a message (taking @text and @debug) for create () to post; logs it
 * now, as GST_ELEMENT_ERROR would */
static void
gst_csv_ecg_src_defer (GstCsvEcgSrc * self, guint64 sample,
    GstMessageType type, GQuark domain, gint code, gchar * text,
    gchar * debug, const gchar * file, const gchar * function, gint line)
{
  const gchar *kind = type == GST_MESSAGE_ERROR ? "error" : "warning";
  CsvMessage *m = g_new (CsvMessage, 1);

  if (text)
    GST_WARNING_OBJECT (self, "%s: %s", kind, text);
  if (debug)
    GST_WARNING_OBJECT (self, "%s: %s", kind, debug);
  m->sample = sample;
  m->type = type;
  m->domain = domain;
  m->code = code;
  m->text = text;
  m->debug = debug;
  m->file = file;
  m->function = function;
  m->line = line;
  g_ptr_array_add (self->msgs, m);
}

/* Posts @b's messages about the samples before @limit (all of them for
 * G_MAXUINT64) */
static void
gst_csv_ecg_src_post (GstCsvEcgSrc * self, CsvBatch * b, guint64 limit)
{
  while (b->next_msg < b->msgs->len) {
    CsvMessage *m = g_ptr_array_index (b->msgs, b->next_msg);

    if (limit != G_MAXUINT64 && m->sample >= limit)
      break;
    b->next_msg++;
    gst_element_message_full (GST_ELEMENT (self), m->type, m->domain,
        m->code, m->text, m->debug, m->file, m->function, m->line);
    m->text = NULL;
    m->debug = NULL;
  }
}

/* ---- batches ---- */

/* Empties @b for the next fill; its memory is kept */
static void
gst_csv_ecg_src_batch_clear (CsvBatch * b)
{
  g_ptr_array_set_size (b->msgs, 0);
  b->next_msg = 0;
  b->n = 0;
  b->taken = 0;
  b->last = FALSE;
  b->flow = GST_FLOW_OK;
  b->state = CSV_BATCH_FREE;
}

static void
gst_csv_ecg_src_batch_free_data (GstCsvEcgSrc * self, CsvBatch * b)
{
  if (b->mem) {
    /* system or device memory */
    gst_memory_unmap (b->mem, &b->map);
    gst_memory_unref (b->mem);
  } else if (b->kind == CSV_MEM_PINNED) {
    if (ecg_cuda_host_free (b->data) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (self, "could not free a pinned buffer");
  } else if (b->kind == CSV_MEM_SYSTEM) {
    g_free (b->data);
  }
  b->mem = NULL;
  b->data = NULL;
  b->kind = CSV_MEM_SYSTEM;
}

/* Input consumed so far by the parse */
static inline guint64
gst_csv_ecg_src_consumed (GstCsvEcgSrc * self)
{
  return self->win_off + self->rpos;
}

/* The GPU parse's state, on the read-ahead thread (the device is
 * current): rbuf page-locked, a device copy of it, the parser, a stream
 * and the pinned samples of the CPU parse.  Returns FALSE with *what and
 * *ret on failure; release () frees what was made. */
static gboolean
gst_csv_ecg_src_gpu_open (GstCsvEcgSrc * self, const gchar ** what, gint * ret)
{
  gpointer p = NULL;

  self->gpu_device = self->cuda.device;
  *what = "cudaHostRegister";
  if ((*ret = ecg_cuda_host_register (self->rbuf, self->rcap)) != ECG_CUDA_OK)
    return FALSE;
  self->rbuf_registered = TRUE;
  *what = "cudaStreamCreate";
  if ((*ret = ecg_cuda_stream_create (self->gpu_device,
              &self->gpu_stream)) != ECG_CUDA_OK)
    return FALSE;
  *what = "cudaMalloc";
  if ((*ret = ecg_cuda_malloc (self->gpu_device, self->rcap,
              &self->gpu_text)) != ECG_CUDA_OK)
    return FALSE;
  *what = "csv_cuda_new";
  if ((*ret = csv_cuda_new (self->rcap, &self->gpu_csv)) != ECG_CUDA_OK)
    return FALSE;
  *what = "cudaMallocHost";
  if ((*ret = ecg_cuda_host_alloc (CPU_PIECE * sizeof (gfloat),
              &p)) != ECG_CUDA_OK)
    return FALSE;
  self->gpu_cpu_out = p;
  self->gpu_ready = TRUE;
  GST_DEBUG_OBJECT (self, "parsing on CUDA device %d", self->gpu_device);
  return TRUE;
}

/* The parsing thread starts filling @b: pinned memory for CUDA output of a
 * pipe, device memory for the GPU parse, a memory to hand out whole when a
 * batch is one buffer, else plain memory.  Returns FALSE if that failed
 * (@b then holds the error). */
static gboolean
gst_csv_ecg_src_batch_begin (GstCsvEcgSrc * self, CsvBatch * b, CsvMem kind)
{
  gsize size = (gsize) b->cap * sizeof (gfloat);
  const gchar *what = "cudaSetDevice";
  gpointer p = NULL;
  gint ret = ECG_CUDA_ERR_RUNTIME;

  b->state = CSV_BATCH_FILLING;
  b->start = self->parsed;
  b->bytes_start = b->bytes_end = gst_csv_ecg_src_consumed (self);
  self->msgs = b->msgs;

  if (b->data && b->kind != kind)
    gst_csv_ecg_src_batch_free_data (self, b);
  if (b->data)
    return TRUE;
  if (kind != CSV_MEM_SYSTEM && !self->cuda_thread_set) {
    /* on the device of the element's stream: this thread may be new */
    if ((ret = ecg_cuda_set_device (self->cuda.device)) != ECG_CUDA_OK)
      goto cuda_failed;
    self->cuda_thread_set = TRUE;
  }
  if (kind == CSV_MEM_PINNED) {
    what = "cudaMallocHost";
    if ((ret = ecg_cuda_host_alloc (size, &p)) != ECG_CUDA_OK)
      goto cuda_failed;
    b->data = p;
  } else if (kind == CSV_MEM_DEVICE) {
    if (!self->gpu_ready && !gst_csv_ecg_src_gpu_open (self, &what, &ret))
      goto cuda_failed;
    what = "cudaMalloc";
    ret = ECG_CUDA_ERR_RUNTIME;
    b->mem = gst_allocator_alloc (self->cuda.allocator, size, NULL);
    if (!b->mem)
      goto cuda_failed;
    if (!gst_memory_map (b->mem, &b->map, GST_MAP_WRITE | ECG_MAP_CUDA)) {
      g_clear_pointer (&b->mem, gst_memory_unref);
      goto cuda_failed;
    }
    b->data = (gfloat *) b->map.data;
  } else if (self->whole_batches) {
    b->mem = gst_allocator_alloc (NULL, size, NULL);
    gst_memory_map (b->mem, &b->map, GST_MAP_WRITE);
    b->data = (gfloat *) b->map.data;
  } else {
    b->data = g_malloc (size);
  }
  b->kind = kind;
  return TRUE;

  /* ERRORS */
cuda_failed:
  {
    CSV_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->cuda.device,
            ecg_cuda_strerror (ret)));
    b->last = TRUE;
    b->flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* ---- reading ---- */

/* The NUL byte error comes where the reader of 1 MiB windows this element
 * had before would meet it, with the same samples before it and the same
 * line number.  That reader refilled its window once it had parsed every
 * complete line in it, keeping the incomplete last one, so a window ends 1
 * MiB after the start of the line at which it was read (after a line too
 * long for it, at the end of the last window), and the error came at the
 * refill that read the first NUL.  Where that is depends on every window
 * before, so the windows are followed as the text is read: the one ending
 * at sim_end was read at the line starting at sim_start; sim_last_nl is the
 * last "\n" before sim_scan.  Until the window holding the first NUL is
 * known (nul_stop, where parsing stops to report it), the parse may not
 * pass the start of the first window whose text is not all read yet. */
static const gchar *
csv_last_newline (const gchar * p, gsize n)
{
  while (n > 0) {
    if (p[--n] == '\n')
      return p + n;
  }
  return NULL;
}

static void
gst_csv_ecg_src_track_reads (GstCsvEcgSrc * self)
{
  guint64 have = self->win_off + self->rlen;

  /* the header reader skipped a byte order mark after the first read */
  if (self->sim_scan == 0 && self->win_off == 0)
    self->sim_start = csv_bom_length (self->rbuf, self->rlen);
  while (self->nul_stop < 0) {
    guint64 upto = MIN (self->sim_end, have);

    if (self->sim_scan < upto) {
      const gchar *nl = csv_last_newline (self->rbuf + (self->sim_scan -
              self->win_off), upto - self->sim_scan);

      if (nl)
        self->sim_last_nl = self->win_off + (nl - self->rbuf);
      self->sim_scan = upto;
    }
    if (self->nul_at >= 0 && (guint64) self->nul_at < self->sim_end) {
      self->nul_stop = self->sim_start;
      GST_DEBUG_OBJECT (self, "NUL byte at %" G_GINT64_FORMAT ", reported "
          "at %" G_GINT64_FORMAT, self->nul_at, self->nul_stop);
      break;
    }
    if (self->sim_scan < self->sim_end)
      break;
    /* that window is parsed: the next is read at the incomplete line */
    if (self->sim_last_nl >= (gint64) self->sim_start) {
      self->sim_start = self->sim_last_nl + 1;
      self->sim_skip = FALSE;
    } else if (self->sim_skip || self->sim_end - self->sim_start >= MAX_LINE) {
      /* in a line too long for a window, skipped to its end */
      self->sim_start = self->sim_end;
      self->sim_skip = TRUE;
    }
    self->sim_end = self->sim_start + MAX_LINE;
  }
}

/* Where the parse must stop in rbuf for now (see above) */
static gsize
gst_csv_ecg_src_data_end (GstCsvEcgSrc * self)
{
  guint64 stop;

  if (self->nul_stop >= 0)
    stop = (guint64) self->nul_stop;
  else if (self->use_pread && !self->eof)
    stop = self->sim_start;
  else
    return self->rlen;
  if (stop >= self->win_off + self->rlen)
    return self->rlen;
  /* the parse never passes it */
  g_assert (stop >= self->win_off + self->rpos);
  return (gsize) (stop - self->win_off);
}

typedef struct
{
  gint fd;
  gchar *dst;
  guint64 off;
  gsize want;
  gsize got;
  gint err;
  gboolean check_nul;
  gssize nul;
} CsvReadPiece;

static void
gst_csv_ecg_src_read_piece (gpointer data, gint index)
{
  CsvReadPiece *p = &((CsvReadPiece *) data)[index];

  while (p->got < p->want) {
    gssize r = pread (p->fd, p->dst + p->got, p->want - p->got,
        (off_t) (p->off + p->got));

    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      p->err = errno;
      break;
    }
    if (r == 0)
      break;
    p->got += r;
  }
  if (p->check_nul) {
    const gchar *z = memchr (p->dst, 0, p->got);

    p->nul = z ? z - p->dst : -1;
  }
}

/* A regular file: fills the window with pieces read by the parsing threads
 * at once (copying 400 MB out of the page cache takes one thread 50 ms) */
static gboolean
gst_csv_ecg_src_fill_pread (GstCsvEcgSrc * self, GstFlowReturn * flow)
{
  CsvReadPiece pieces[CSV_POOL_MAX_THREADS];
  gsize want = self->rcap - self->rlen, total = 0;
  guint64 at = self->file_off + self->bytes_read;
  gint n, i;

  if (g_atomic_int_get (&self->quit)) {
    *flow = GST_FLOW_FLUSHING;
    return FALSE;
  }
  /* what is kept is less than 2 MiB: the line at the parse (< MAX_LINE)
   * and the text after data_end (< MAX_LINE) */
  g_assert (want > 0);
  n = (gint) MIN ((gsize) csv_pool_threads (self->pool),
      MAX (1, want / READ_PIECE));
  for (i = 0; i < n; i++) {
    gsize a = want * i / n;

    pieces[i].fd = self->fd;
    pieces[i].dst = self->rbuf + self->rlen + a;
    pieces[i].off = at + a;
    pieces[i].want = want * (i + 1) / n - a;
    pieces[i].got = 0;
    pieces[i].err = 0;
    pieces[i].check_nul = self->nul_at < 0;
    pieces[i].nul = -1;
  }
  csv_pool_run (self->pool, n, gst_csv_ecg_src_read_piece, pieces);

  /* the text read is the pieces up to the first short one */
  for (i = 0; i < n; i++) {
    CsvReadPiece *p = &pieces[i];

    if (p->nul >= 0 && self->nul_at < 0)
      self->nul_at = (gint64) (self->bytes_read + total + p->nul);
    total += p->got;
    if (p->got < p->want) {
      if (p->err && total == 0) {
        errno = p->err;
        goto read_failed;
      }
      break;
    }
  }
  if (total == 0)
    self->eof = TRUE;
  self->rlen += total;
  self->bytes_read += total;
  gst_csv_ecg_src_track_reads (self);
  return TRUE;

  /* ERRORS */
read_failed:
  {
    CSV_ERROR (self, RESOURCE, READ, (NULL), GST_ERROR_SYSTEM);
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* Reads more text after the unconsumed bytes.  Returns FALSE on error (an
 * error is kept) or when interrupted (flushing, or stopping the
 * read-ahead; *flow says which). */
static gboolean
gst_csv_ecg_src_fill (GstCsvEcgSrc * self, GstFlowReturn * flow)
{
  gssize r;

  if (self->nul_stop >= 0 &&
      gst_csv_ecg_src_consumed (self) >= (guint64) self->nul_stop)
    goto binary;

  if (self->rpos > 0) {
    memmove (self->rbuf, self->rbuf + self->rpos, self->rlen - self->rpos);
    self->rlen -= self->rpos;
    self->win_off += self->rpos;
    self->rpos = 0;
  }
  if (self->use_pread)
    return gst_csv_ecg_src_fill_pread (self, flow);

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
    CSV_ERROR (self, RESOURCE, READ, (NULL), GST_ERROR_SYSTEM);
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
binary:
  {
    CSV_ERROR (self, STREAM, DECODE, ("The input is not CSV text."),
        ("a NUL byte after line %" G_GUINT64_FORMAT, self->line_no));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* The length of the complete line at rpos before @end, terminator
 * included; 0 if it is not complete yet, or if it has no "\n" in MAX_LINE
 * bytes (*too_long). */
static gsize
gst_csv_ecg_src_line_length (GstCsvEcgSrc * self, gsize end,
    gboolean at_eof, gboolean * too_long)
{
  const gchar *start = self->rbuf + self->rpos;
  gsize avail = end - self->rpos;
  const gchar *nl = memchr (start, '\n', MIN (avail, MAX_LINE));

  *too_long = FALSE;
  if (nl)
    return nl - start + 1;
  if (avail >= MAX_LINE)
    *too_long = TRUE;
  else if (at_eof)
    return avail;
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
    gsize end = gst_csv_ecg_src_data_end (self);
    gboolean at_eof = self->eof && end == self->rlen, too_long;

    len = gst_csv_ecg_src_line_length (self, end, at_eof, &too_long);
    if (len == 0) {
      if (too_long)
        goto line_too_long;
      if (at_eof)
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
    CSV_ERROR (self, STREAM, DECODE, ("The input is not CSV text."),
        ("the first line is longer than %d bytes", MAX_LINE));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
no_samples:
  {
    CSV_ERROR (self, STREAM, DECODE, ("The input holds no samples."),
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
    CSV_ERROR (self, STREAM, FORMAT,
        ("The input has no column \"%s\".", req ? req : "0"),
        ("first line: \"%.200s\" (%d fields)", hdr, self->n_cols));
    g_free (hdr);
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
no_header:
  {
    CSV_ERROR (self, STREAM, FORMAT,
        ("The input has no header, so column \"%s\" cannot be found.", req),
        ("give the column as a 0-based index"));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* A bad row, sample @sample: hold the last good value, warn, count; fail
 * past max-errors. */
static gboolean
gst_csv_ecg_src_bad_row (GstCsvEcgSrc * self, const gchar * what,
    gfloat * out, guint64 sample)
{
  guint64 n;

  GST_OBJECT_LOCK (self);
  n = ++self->bad_rows;
  GST_OBJECT_UNLOCK (self);

  if (self->max_err >= 0 && n > (guint64) self->max_err) {
    CSV_ERROR (self, STREAM, DECODE, ("Too many bad rows in the input."),
        ("line %" G_GUINT64_FORMAT ": %s (bad row %" G_GUINT64_FORMAT
            ", max-errors=%d)", self->line_no, what, n, self->max_err));
    return FALSE;
  }
  if (n <= REPORTED_BAD_ROWS)
    CSV_WARNING (self, sample, STREAM, DECODE,
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

/* The end of the next span to parse at once: about the bytes that the
 * @want values take (from the bytes per line so far), cut at a line end,
 * since the threads count the lines of all they are given; and ending
 * where a line too long could start to fit in it.  Such a line has no "\n"
 * in MAX_LINE bytes, so it holds one of the blocks of MAX_LINE / 2 bytes
 * from rpos whole: the span ends at the first block without "\n", and the
 * line through that point is judged on its own. */
static gsize
gst_csv_ecg_src_span_end (GstCsvEcgSrc * self, gsize end, guint want)
{
  const gsize half = MAX_LINE / 2;
  gsize span_end = end, room = end - self->rpos, w, b;

  if (self->line_bytes > 0.0)
    w = (gsize) (1.05 * want * self->line_bytes) + 4096;
  else
    w = 32 * (gsize) want + 65536;
  if (w < room) {
    const gchar *nl = memchr (self->rbuf + self->rpos + w, '\n', room - w);

    span_end = nl ? (gsize) (nl - self->rbuf) + 1 : end;
  }
  for (b = self->rpos; b + half <= span_end; b += half) {
    if (!memchr (self->rbuf + b, '\n', half))
      return b;
  }
  return span_end;
}

/* Parses samples into out[*got .. max) and moves *got on; stops early only
 * at the end of input.  Returns FALSE with *flow set on error (kept for
 * create ()) or when interrupted. */
static gboolean
gst_csv_ecg_src_parse (GstCsvEcgSrc * self, gfloat * out, guint max,
    guint * got, GstFlowReturn * flow)
{
  guint n = *got;
  gsize line_end = 0;           /* a line known to be short, parsed alone */

  while (n < max) {
    gsize end = gst_csv_ecg_src_data_end (self), span_end, left;
    gboolean at_eof = self->eof && end == self->rlen;
    CsvBlockResult res;
    const gchar *nl;
    gchar what[96];
    gint st;

    if (self->skip_line) {
      nl = memchr (self->rbuf + self->rpos, '\n', end - self->rpos);
      if (nl) {
        self->rpos = nl - self->rbuf + 1;
        self->skip_line = FALSE;
        self->line_no++;
        continue;
      }
      self->rpos = end;
      if (at_eof) {
        self->skip_line = FALSE;
        break;
      }
      if (!gst_csv_ecg_src_fill (self, flow))
        goto stopped;
      continue;
    }

    if (line_end) {
      span_end = line_end;
      line_end = 0;
    } else {
      span_end = gst_csv_ecg_src_span_end (self, end, max - n);
    }
    st = csv_parse_block_pool (self->pool, self->rbuf + self->rpos,
        span_end - self->rpos, at_eof && span_end == end, self->col,
        self->n_cols, out + n, max - n, &res);
    if (res.n_values && res.consumed)
      self->line_bytes = (gdouble) res.consumed / res.n_values;
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
        if (res.consumed && self->rpos == span_end && span_end < end)
          continue;             /* the span ended at a line end */
        /* at rpos: an incomplete line, or nothing */
        left = end - self->rpos;
        nl = memchr (self->rbuf + self->rpos, '\n', MIN (left, MAX_LINE));
        if (nl) {
          line_end = nl - self->rbuf + 1;
          continue;
        }
        if (left >= MAX_LINE) {
          /* an over-long line: a bad row, skipped to its end */
          g_snprintf (what, sizeof (what), "line longer than %d bytes",
              MAX_LINE);
          if (!gst_csv_ecg_src_bad_row (self, what, out + n,
                  self->batch_start + n))
            goto error;
          n++;
          self->skip_line = TRUE;
          continue;
        }
        if (at_eof) {
          if (left == 0)
            goto done;
          line_end = end;
          continue;
        }
        if (!gst_csv_ecg_src_fill (self, flow))
          goto stopped;
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
    if (!gst_csv_ecg_src_bad_row (self, what, out + n, self->batch_start + n))
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
stopped:
  *got = n;
  return FALSE;
}

/* ---- the GPU parse ---- */

/* Whether the line at @p, @n bytes without its "\n", is blank for the GPU
 * parse (csvparse_cuda.h): spaces and tabs, and a "\r" at its end */
static gboolean
csv_gpu_blank_line (const gchar * p, gsize n)
{
  gsize i;

  if (n > 0 && p[n - 1] == '\r')
    n--;
  for (i = 0; i < n; i++) {
    if (p[i] != ' ' && p[i] != '\t')
      return FALSE;
  }
  return TRUE;
}

typedef enum
{
  CSV_GPU_DONE,                 /* samples parsed, the parse moved on */
  CSV_GPU_NO_SPAN,              /* no complete line at rpos to give it */
  CSV_GPU_TO_CPU,               /* it left a line to the CPU: nothing done */
  CSV_GPU_FAILED,               /* a CUDA error (kept) */
} CsvGpuStep;

/* Parses the complete lines of the next span (as gst_csv_ecg_src_parse ()
 * would cut it) on the GPU into @b's device floats, up to @want samples in
 * @b.  The samples are taken only when the GPU parsed every value line up
 * to the last one taken: those are csv_parse_block ()'s values with the
 * blank lines skipped, so the parse moves on as the CPU parse would: to
 * the end of the span, or, when @want is reached, just after the last
 * value line taken (csv_parse_block () stops there when out is full). */
static CsvGpuStep
gst_csv_ecg_src_gpu_span (GstCsvEcgSrc * self, CsvBatch * b, guint want)
{
  const gchar *rbuf = self->rbuf, *what = "copying the text to the device";
  gsize end = gst_csv_ecg_src_data_end (self), span_end, len, p, q, ls;
  gboolean at_eof = self->eof && end == self->rlen;
  guint wanted = want - b->n;
  guint64 keep, excess, lines;
  const gchar *nl;
  CsvCudaResult res;
  gint ret;

  if (end == self->rpos)
    return CSV_GPU_NO_SPAN;
  /* lines too long never reach past span_end: it ends before the first
   * half of MAX_LINE without "\n" */
  span_end = gst_csv_ecg_src_span_end (self, end, wanted);
  if (!at_eof || span_end < end) {
    /* complete lines only: to the last "\n" (a last line without one is
     * complete at the end of input only) */
    nl = csv_last_newline (rbuf + self->rpos, span_end - self->rpos);
    if (!nl)
      return CSV_GPU_NO_SPAN;
    span_end = (gsize) (nl - rbuf) + 1;
  }
  len = span_end - self->rpos;

  /* the stream is idle: rbuf may change once this returns */
  ret = ecg_cuda_memcpy_h2d (self->gpu_text, rbuf + self->rpos, len,
      self->gpu_stream);
  if (ret == ECG_CUDA_OK) {
    what = "csv_parse_block_cuda";
    ret = csv_parse_block_cuda (self->gpu_csv, self->gpu_text, len,
        self->col, self->n_cols, b->data + b->n, wanted, &res,
        self->gpu_stream);
  }
  if (ret != ECG_CUDA_OK)
    goto cuda_failed;
  keep = MIN (res.n_values, (guint64) wanted);
  if (res.first_cpu < keep) {
    GST_LOG_OBJECT (self, "line %" G_GUINT64_FORMAT " and later: %"
        G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " lines left to the CPU",
        self->line_no, res.n_cpu, res.n_values);
    return CSV_GPU_TO_CPU;
  }

  /* where the parse stops: walk back over the value lines after the last
   * one taken and the blank lines after it, and their "\n" */
  p = span_end;
  lines = res.n_newlines;
  if (res.n_values >= wanted) {
    excess = res.n_values - wanted;
    for (;;) {
      if (p == self->rpos)
        return CSV_GPU_TO_CPU;  /* cannot happen: the GPU counted more */
      q = rbuf[p - 1] == '\n' ? p - 1 : p;
      nl = csv_last_newline (rbuf + self->rpos, q - self->rpos);
      ls = nl ? (gsize) (nl - rbuf) + 1 : self->rpos;
      if (!csv_gpu_blank_line (rbuf + ls, q - ls)) {
        if (excess == 0)
          break;
        excess--;
      }
      if (q < p)
        lines--;
      p = ls;
    }
  }
  /* a last line without "\n" (at the end of input) is a line too */
  if (p > self->rpos && rbuf[p - 1] != '\n')
    lines++;

  if (keep > 0) {
    what = "copying a sample to the host";
    ret = ecg_cuda_memcpy_d2h (&self->last_good, b->data + b->n + keep - 1,
        sizeof (gfloat), self->gpu_stream);
    if (ret == ECG_CUDA_OK)
      ret = ecg_cuda_stream_sync (self->gpu_stream);
    if (ret != ECG_CUDA_OK)
      goto cuda_failed;
    self->line_bytes = (gdouble) (p - self->rpos) / keep;
  }
  GST_LOG_OBJECT (self, "GPU: %" G_GUINT64_FORMAT " samples from %"
      G_GSIZE_FORMAT " bytes, lines %" G_GUINT64_FORMAT " to %"
      G_GUINT64_FORMAT, keep, p - self->rpos, self->line_no,
      self->line_no + lines);
  self->rpos = p;
  self->line_no += lines;
  b->n += (guint) keep;
  return CSV_GPU_DONE;

  /* ERRORS */
cuda_failed:
  {
    CSV_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->gpu_device,
            ecg_cuda_strerror (ret)));
    return CSV_GPU_FAILED;
  }
}

/* gst_csv_ecg_src_parse () into @b's device floats, up to @want samples:
 * spans of complete lines on the GPU (gst_csv_ecg_src_gpu_span ()); the
 * rest on the CPU into pinned memory, copied to its place on the device.
 * The CPU parses the text at rpos that is no span of complete lines (a
 * window to refill, a line too long, the end of input) one sample at a
 * time, and, once a NUL byte was read or the GPU left a line to it, the
 * rest of the batch: so warnings, errors and line numbers are its own.
 * Returns as gst_csv_ecg_src_parse (), with @b->n moved on. */
static gboolean
gst_csv_ecg_src_parse_gpu (GstCsvEcgSrc * self, CsvBatch * b, guint want,
    GstFlowReturn * flow)
{
  gboolean cpu_rest = FALSE, ok;
  gsize size;
  guint max, got;
  gint ret;

  while (b->n < want) {
    if (!cpu_rest && self->nul_at < 0 && !self->skip_line) {
      switch (gst_csv_ecg_src_gpu_span (self, b, want)) {
        case CSV_GPU_DONE:
          continue;
        case CSV_GPU_FAILED:
          *flow = GST_FLOW_ERROR;
          return FALSE;
        case CSV_GPU_TO_CPU:
          cpu_rest = TRUE;
          break;
        case CSV_GPU_NO_SPAN:
          break;
      }
    }
    max = cpu_rest || self->nul_at >= 0 ? MIN (want - b->n, CPU_PIECE) : 1;
    got = 0;
    /* bad rows are numbered from out[0] = sample b->start + b->n */
    self->batch_start = b->start + b->n;
    ok = gst_csv_ecg_src_parse (self, self->gpu_cpu_out, max, &got, flow);
    size = sizeof (gfloat) * got;
    ret = ecg_cuda_memcpy_h2d (b->data + b->n, self->gpu_cpu_out, size,
        self->gpu_stream);
    if (ret == ECG_CUDA_OK)
      ret = ecg_cuda_stream_sync (self->gpu_stream);
    if (ret != ECG_CUDA_OK)
      goto cuda_failed;
    b->n += got;
    if (!ok)
      return FALSE;
    if (got < max)
      break;                    /* the end of input */
  }
  return TRUE;

  /* ERRORS */
cuda_failed:
  {
    CSV_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("copying samples to the device on device %d: %s", self->gpu_device,
            ecg_cuda_strerror (ret)));
    *flow = GST_FLOW_ERROR;
    return FALSE;
  }
}

/* The input ended after @total samples: EOS, or an error when it held no
 * sample at all */
static GstFlowReturn
gst_csv_ecg_src_at_end (GstCsvEcgSrc * self, guint64 total)
{
  if (total == 0)
    goto no_samples;
  if (self->bad_rows > REPORTED_BAD_ROWS)
    CSV_WARNING (self, G_MAXUINT64, STREAM, DECODE,
        ("%" G_GUINT64_FORMAT " bad rows in the input were replaced by the "
            "previous value.", self->bad_rows),
        ("%" G_GUINT64_FORMAT " samples in all", total));
  GST_DEBUG_OBJECT (self, "end of input after %" G_GUINT64_FORMAT
      " samples", total);
  return GST_FLOW_EOS;

  /* ERRORS */
no_samples:
  {
    CSV_ERROR (self, STREAM, DECODE, ("The input holds no samples."),
        ("only a header or blank lines (%" G_GUINT64_FORMAT " lines)",
            self->line_no - 1));
    return GST_FLOW_ERROR;
  }
}

/* Parses into @b until it holds @want samples, or the input ended or
 * failed (then @b is the last batch).  Returns FALSE when interrupted: @b
 * keeps what it has and the next call goes on. */
static gboolean
gst_csv_ecg_src_produce (GstCsvEcgSrc * self, CsvBatch * b, guint want)
{
  GstFlowReturn flow = GST_FLOW_OK;

  self->msgs = b->msgs;
  self->batch_start = b->start;
  if (!self->header_done && !gst_csv_ecg_src_read_header (self, &flow))
    goto stopped;
  if (b->kind == CSV_MEM_DEVICE) {
    if (!gst_csv_ecg_src_parse_gpu (self, b, want, &flow))
      goto stopped;
  } else if (!gst_csv_ecg_src_parse (self, b->data, want, &b->n, &flow)) {
    goto stopped;
  }
  b->bytes_end = gst_csv_ecg_src_consumed (self);
  self->parsed = b->start + b->n;
  if (b->n < want) {
    b->last = TRUE;
    b->flow = gst_csv_ecg_src_at_end (self, self->parsed);
  }
  return TRUE;

stopped:
  b->bytes_end = gst_csv_ecg_src_consumed (self);
  if (flow == GST_FLOW_FLUSHING)
    return FALSE;
  /* an error, posted after the buffers before it: the buffer it falls in
   * never leaves (batches start at a buffer boundary) */
  b->n -= b->n % self->spb;
  self->parsed = b->start + b->n;
  b->last = TRUE;
  b->flow = flow;
  return TRUE;
}

/* The read-ahead thread: parses batches as long as one is free.  The first
 * batches are smaller, so the first buffers leave soon. */
static gpointer
gst_csv_ecg_src_read_ahead (gpointer data)
{
  GstCsvEcgSrc *self = data;
  guint blocks = 1;

  GST_DEBUG_OBJECT (self, "read-ahead started");
  for (;;) {
    CsvBatch *b;
    gboolean last;

    g_mutex_lock (&self->qlock);
    while (g_queue_is_empty (&self->free) && !g_atomic_int_get (&self->quit))
      g_cond_wait (&self->free_cond, &self->qlock);
    b = g_atomic_int_get (&self->quit) ? NULL : g_queue_pop_head (&self->free);
    g_mutex_unlock (&self->qlock);
    if (!b)
      break;

    if (gst_csv_ecg_src_batch_begin (self, b, self->batch_mem) &&
        !gst_csv_ecg_src_produce (self, b, blocks * self->spb))
      break;                    /* stopping; stop () frees b */
    blocks = MIN (blocks * 2, self->batch_blocks);

    g_mutex_lock (&self->qlock);
    last = b->last;
    b->state = CSV_BATCH_READY;
    g_queue_push_tail (&self->ready, b);
    g_cond_signal (&self->ready_cond);
    g_mutex_unlock (&self->qlock);
    if (last)
      break;
  }
  GST_DEBUG_OBJECT (self, "read-ahead done");
  return NULL;
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
  GError *err = NULL;
  CsvBatch *b;

  if (self->done)
    return self->done_flow;

  if (!self->read_ahead) {
    /* parse one buffer's worth now, in this thread */
    b = &self->batches[0];
    if (b->state == CSV_BATCH_FREE) {
      self->batch_mem = self->out_cuda ? CSV_MEM_PINNED : CSV_MEM_SYSTEM;
      gst_csv_ecg_src_batch_begin (self, b, self->batch_mem);
    }
    if (b->state == CSV_BATCH_FILLING && !b->last) {
      if (!gst_csv_ecg_src_produce (self, b, self->spb))
        return GST_FLOW_FLUSHING;
    }
    b->state = CSV_BATCH_READY;
    return gst_csv_ecg_src_take (self, b, buf);
  }

  if (!self->reader) {
    /* the memory of the batches follows the caps of the first buffer: on
     * CUDA the text is parsed on the GPU, into device memory */
    self->batch_mem = self->out_cuda ? CSV_MEM_DEVICE : CSV_MEM_SYSTEM;
    self->reader = g_thread_try_new ("csvecgsrc-read",
        gst_csv_ecg_src_read_ahead, self, &err);
    if (!self->reader)
      goto no_thread;
  }
  g_mutex_lock (&self->qlock);
  while (g_queue_is_empty (&self->ready) && !self->flushing)
    g_cond_wait (&self->ready_cond, &self->qlock);
  b = self->flushing ? NULL : g_queue_peek_head (&self->ready);
  g_mutex_unlock (&self->qlock);
  if (!b)
    return GST_FLOW_FLUSHING;
  /* the reader does not touch a ready batch */
  return gst_csv_ecg_src_take (self, b, buf);

  /* ERRORS */
no_thread:
  {
    GST_ELEMENT_ERROR (self, CORE, THREAD, (NULL),
        ("could not start the read-ahead thread: %s", err->message));
    g_clear_error (&err);
    return GST_FLOW_ERROR;
  }
}

/* Hands out the next buffer of @b, with the messages before it; at the end
 * of the last batch, its messages and its flow */
static GstFlowReturn
gst_csv_ecg_src_take (GstCsvEcgSrc * self, CsvBatch * b, GstBuffer ** buf)
{
  GstFlowReturn ret;
  GstBuffer *out;
  guint count;

  if (b->taken == b->n) {
    self->out_bytes = b->bytes_end;
    self->done = TRUE;
    self->done_flow = b->flow;
    /* the bad rows of a buffer that never left, then the error or the
     * summary */
    gst_csv_ecg_src_post (self, b, G_MAXUINT64);
    return b->flow;
  }

  count = MIN (self->spb, b->n - b->taken);
  gst_csv_ecg_src_post (self, b, b->start + b->taken + count);
  if (b->kind == CSV_MEM_DEVICE) {
    ret = gst_csv_ecg_src_take_device (self, b, count, &out);
    if (ret != GST_FLOW_OK) {
      self->done = TRUE;
      self->done_flow = ret;
      return ret;
    }
  } else if (self->out_cuda) {
    ret = gst_csv_ecg_src_copy_out (self, b->data + b->taken, FALSE, count,
        &out);
    if (ret != GST_FLOW_OK) {
      self->done = TRUE;
      self->done_flow = ret;
      return ret;
    }
  } else if (b->mem && b->taken == 0 && count == b->n) {
    /* a batch of one buffer: its memory leaves */
    gst_memory_unmap (b->mem, &b->map);
    out = gst_buffer_new ();
    gst_buffer_append_memory (out, b->mem);
    b->mem = NULL;
    b->data = NULL;
  } else {
    out = gst_buffer_new_allocate (NULL, (gsize) count * sizeof (gfloat), NULL);
    gst_buffer_fill (out, 0, b->data + b->taken,
        (gsize) count * sizeof (gfloat));
  }
  b->taken += count;
  self->out_bytes = b->bytes_start + gst_util_uint64_scale (b->bytes_end -
      b->bytes_start, b->taken, b->n);

  if (b->taken == b->n && !b->last) {
    /* done with it: back to the parsing thread */
    if (self->read_ahead) {
      g_mutex_lock (&self->qlock);
      g_assert (g_queue_peek_head (&self->ready) == b);
      g_queue_pop_head (&self->ready);
      gst_csv_ecg_src_batch_clear (b);
      g_queue_push_tail (&self->free, b);
      g_cond_signal (&self->free_cond);
      g_mutex_unlock (&self->qlock);
    } else {
      gst_csv_ecg_src_batch_clear (b);
    }
  }
  return gst_csv_ecg_src_finish_buffer (self, out, count, buf);
}

/* Copies @count samples at @data into a new buffer on the element's
 * stream: device memory (@on_device: @data is device memory, else pinned
 * host memory) into CUDA memory, or into system memory if the caps changed
 * to it since a device batch was parsed.  The samples must be in place
 * before the buffer leaves, and @data is refilled afterwards: the stream
 * is synchronised. */
static GstFlowReturn
gst_csv_ecg_src_copy_out (GstCsvEcgSrc * self, const gfloat * data,
    gboolean on_device, guint count, GstBuffer ** out)
{
  gsize size = (gsize) count * sizeof (gfloat);
  const gchar *what = "cudaMalloc";
  GstMapInfo map;
  gint ret = ECG_CUDA_ERR_RUNTIME;

  *out = gst_buffer_new_allocate (self->out_cuda ? self->cuda.allocator :
      NULL, size, NULL);
  if (!*out)
    goto cuda_failed;
  if (!gst_buffer_map (*out, &map, self->out_cuda ?
          GST_MAP_WRITE | ECG_MAP_CUDA : GST_MAP_WRITE)) {
    gst_clear_buffer (out);
    goto cuda_failed;
  }
  what = "copying the samples";
  if (!on_device)
    ret = ecg_cuda_memcpy_h2d (map.data, data, size, self->cuda.stream);
  else if (self->out_cuda)
    ret = ecg_cuda_memcpy_d2d (map.data, data, size, self->cuda.stream);
  else
    ret = ecg_cuda_memcpy_d2h (map.data, data, size, self->cuda.stream);
  if (ret == ECG_CUDA_OK)
    ret = ecg_cuda_stream_sync (self->cuda.stream);
  gst_buffer_unmap (*out, &map);
  if (ret != ECG_CUDA_OK) {
    gst_clear_buffer (out);
    goto cuda_failed;
  }
  return GST_FLOW_OK;

  /* ERRORS */
cuda_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("CUDA processing failed."),
        ("%s on device %d: %s", what, self->cuda.device,
            ecg_cuda_strerror (ret)));
    return GST_FLOW_ERROR;
  }
}

/* A batch parsed on the GPU: when it is one buffer, its memory leaves
 * whole; else @count samples from @b->taken are copied out
 * (gst_csv_ecg_src_copy_out).  The read-ahead thread synchronised its
 * stream before it queued @b. */
static GstFlowReturn
gst_csv_ecg_src_take_device (GstCsvEcgSrc * self, CsvBatch * b, guint count,
    GstBuffer ** out)
{
  if (self->out_cuda && self->whole_batches && b->taken == 0 && count == b->n) {
    gst_memory_unmap (b->mem, &b->map);
    *out = gst_buffer_new ();
    gst_buffer_append_memory (*out, b->mem);
    b->mem = NULL;
    b->data = NULL;
    return GST_FLOW_OK;
  }
  return gst_csv_ecg_src_copy_out (self, b->data + b->taken, TRUE, count, out);
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
  g_mutex_lock (&self->qlock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->ready_cond);
  g_mutex_unlock (&self->qlock);
  return TRUE;
}

static gboolean
gst_csv_ecg_src_unlock_stop (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  gst_poll_set_flushing (self->poll, FALSE);
  g_mutex_lock (&self->qlock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->qlock);
  return TRUE;
}

/* Frees the GPU parse's state (after the read-ahead thread is joined),
 * once its stream is idle */
static void
gst_csv_ecg_src_gpu_close (GstCsvEcgSrc * self)
{
  if (self->gpu_stream) {
    ecg_cuda_drain (GST_ELEMENT (self), self->gpu_stream);
    if (ecg_cuda_stream_destroy (self->gpu_stream) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (self, "could not destroy the parsing stream");
    self->gpu_stream = NULL;
  }
  if (self->gpu_csv) {
    if (ecg_cuda_set_device (self->gpu_device) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (self, "could not select device %d", self->gpu_device);
    csv_cuda_free (self->gpu_csv);
    self->gpu_csv = NULL;
  }
  ecg_cuda_release (GST_ELEMENT (self), self->gpu_device, &self->gpu_text);
  if (self->gpu_cpu_out) {
    if (ecg_cuda_host_free (self->gpu_cpu_out) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (self, "could not free a pinned buffer");
    self->gpu_cpu_out = NULL;
  }
  if (self->rbuf_registered) {
    if (ecg_cuda_host_unregister (self->rbuf) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (self, "could not unregister the text window");
    self->rbuf_registered = FALSE;
  }
  self->gpu_ready = FALSE;
}

/* Joins the read-ahead thread and frees what streaming made */
static void
gst_csv_ecg_src_release (GstCsvEcgSrc * self)
{
  guint i;

  if (self->reader) {
    g_mutex_lock (&self->qlock);
    g_atomic_int_set (&self->quit, 1);
    g_cond_broadcast (&self->free_cond);
    g_mutex_unlock (&self->qlock);
    g_thread_join (self->reader);
    self->reader = NULL;
  }
  /* first: the batches' device memory is idle then */
  gst_csv_ecg_src_gpu_close (self);
  for (i = 0; i < self->n_batches; i++) {
    CsvBatch *b = &self->batches[i];

    gst_csv_ecg_src_batch_free_data (self, b);
    if (b->msgs) {
      gst_csv_ecg_src_batch_clear (b);
      g_ptr_array_unref (b->msgs);
      b->msgs = NULL;
    }
  }
  self->n_batches = 0;
  g_queue_clear (&self->ready);
  g_queue_clear (&self->free);
  self->msgs = NULL;
  g_clear_pointer (&self->pool, csv_pool_free);
  g_clear_pointer (&self->rbuf, g_aligned_free);
}

static gboolean
gst_csv_ecg_src_stop (GstBaseSrc * src)
{
  GstCsvEcgSrc *self = GST_CSV_ECG_SRC (src);

  gst_csv_ecg_src_release (self);
  self->out_cuda = FALSE;
  ecg_cuda_context_close (&self->cuda, GST_ELEMENT (self));
  if (self->fd >= 0) {
    gst_poll_remove_fd (self->poll, &self->pollfd);
    gst_poll_fd_init (&self->pollfd);
    if (self->own_fd)
      close (self->fd);
    else if (self->use_pread)
      /* where reading it would have left it */
      lseek (self->fd, (off_t) (self->file_off + self->bytes_read), SEEK_SET);
  }
  self->fd = -1;
  self->out_rate = 0;
  g_clear_pointer (&self->col_req, g_free);
  return TRUE;
}

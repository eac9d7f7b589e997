/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * csvecgsrc parsing on the GPU against the CPU (suite "cuda"):
 *
 *   csvecgsrc backend=cuda ! audio/x-raw(memory:CUDAMemory) ! fakesink
 *   csvecgsrc backend=cpu ! fakesink
 *
 * on files written to a temporary folder: ~44 MB of 17-digit values
 * (many buffers and 16 MiB windows, at three buffer sizes, one of them
 * larger than a batch); CRLF text with three columns, blank lines and bad
 * rows of every kind spread through it (text, nan, inf, overflow, ragged,
 * quoted values, too many digits, a stray "\r"), each column selected, and
 * with max-errors; a line over 1 MiB and a long legal line; a NUL byte
 * late and early in a file; last lines without "\n" (a value, blanks, a
 * "\r"); a file of blank lines only; a BOM and no header.  The CUDA run
 * must give the CPU run's buffers exactly (OFFSET, OFFSET_END, PTS,
 * DURATION, flags, size and bytes), every buffer in CUDA memory, the same
 * warnings and errors in the same order relative to the buffers (the log
 * ends at the first error or EOS), and the same bad-rows.  The CUDA
 * buffers are read with ecg_cuda_memcpy_d2h on the ECG_MAP_CUDA pointer.
 *
 * Prints one "ok"/"not ok" line per check; exit 0 all passed, 1 a check
 * failed, 77 (meson: SKIP) built without CUDA or no device.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "gstecgcudamemory.h"   /* ECG_MAP_CUDA and the names only */
#include "cudadev.h"
#include "tap.h"

/* ---- one run ---- */

typedef struct
{
  GMutex lock;
  GString *log;                 /* buffers and messages, in order */
  gboolean ended;               /* an error or EOS was logged */
  guint buffers, cuda_buffers;
  gboolean copy_failed;
  guint64 bad_rows;
} Run;

static void
run_log (Run * run, const gchar * line)
{
  g_mutex_lock (&run->lock);
  if (!run->ended) {
    g_string_append (run->log, line);
    g_string_append_c (run->log, '\n');
  }
  g_mutex_unlock (&run->lock);
}

static gboolean
is_cuda_memory (GstMemory * mem)
{
  return mem && mem->allocator && mem->allocator->mem_type &&
      !strcmp (mem->allocator->mem_type, ECG_CUDA_MEMORY_TYPE);
}

/* @buf's bytes: CUDA memory through a copy from the device pointer (not a
 * staging copy), system memory through a map */
static guint8 *
buffer_bytes (Run * run, GstBuffer * buf, gsize * size)
{
  GstMemory *mem;
  GstMapInfo map;
  guint8 *data;

  *size = gst_buffer_get_size (buf);
  data = g_malloc (*size + 1);
  mem = gst_buffer_n_memory (buf) == 1 ? gst_buffer_peek_memory (buf, 0) : NULL;
  if (is_cuda_memory (mem)) {
    run->cuda_buffers++;
    if (!gst_memory_map (mem, &map, GST_MAP_READ | ECG_MAP_CUDA)) {
      run->copy_failed = TRUE;
      return data;
    }
    if (ecg_cuda_memcpy_d2h (data, map.data, *size, NULL) != ECG_CUDA_OK)
      run->copy_failed = TRUE;
    gst_memory_unmap (mem, &map);
  } else {
    if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
      run->copy_failed = TRUE;
      return data;
    }
    memcpy (data, map.data, *size);
    gst_buffer_unmap (buf, &map);
  }
  return data;
}

static GstPadProbeReturn
probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gsize size;
  guint8 *data = buffer_bytes (run, buf, &size);
  gchar *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, data, size);
  gchar *line = g_strdup_printf ("buffer offset %" G_GUINT64_FORMAT
      " end %" G_GUINT64_FORMAT " pts %" G_GUINT64_FORMAT " duration %"
      G_GUINT64_FORMAT " flags 0x%x size %" G_GSIZE_FORMAT " sha1 %s",
      GST_BUFFER_OFFSET (buf), GST_BUFFER_OFFSET_END (buf),
      GST_BUFFER_PTS (buf), GST_BUFFER_DURATION (buf),
      (guint) GST_BUFFER_FLAGS (buf), size, sum);

  run->buffers++;
  run_log (run, line);
  g_free (line);
  g_free (sum);
  g_free (data);
  return GST_PAD_PROBE_OK;
}

/* Logs warnings, errors and EOS as they are posted (in the streaming
 * thread, so in order with the buffers); the log ends at the first error
 * or EOS (the base class posts a second error after the element's own) */
static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Run *run = user_data;
  GError *err = NULL;
  gchar *debug = NULL, *line;
  const gchar *kind;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      kind = "warning";
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      kind = "error";
      break;
    case GST_MESSAGE_EOS:
      run_log (run, "eos");
      g_mutex_lock (&run->lock);
      run->ended = TRUE;
      g_mutex_unlock (&run->lock);
      return GST_BUS_PASS;
    default:
      return GST_BUS_PASS;
  }
  /* one log line: the debug text has the call site on a line of its own */
  if (debug)
    g_strdelimit (debug, "\n", ' ');
  line = g_strdup_printf ("%s from %s: %s %d: %s | %s", kind,
      GST_MESSAGE_SRC_NAME (msg), g_quark_to_string (err->domain),
      err->code, err->message, debug ? debug : "");
  run_log (run, line);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_mutex_lock (&run->lock);
    run->ended = TRUE;
    g_mutex_unlock (&run->lock);
  }
  g_free (line);
  g_free (debug);
  g_error_free (err);
  return GST_BUS_PASS;
}

/* Runs csvecgsrc on @path with @props to EOS or an error */
static void
run_source (Run * run, const gchar * path, const gchar * props, gboolean cuda)
{
  gchar *desc = g_strdup_printf ("csvecgsrc name=s location=\"%s\" "
      "backend=%s %s ! %s fakesink sync=false", path, cuda ? "cuda" : "cpu",
      props, cuda ? "capsfilter caps=\"audio/x-raw(memory:CUDAMemory)\" !" :
      "");
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err), *s;
  GstBus *bus;
  GstPad *pad;
  GstMessage *msg;

  g_mutex_init (&run->lock);
  run->log = g_string_new (NULL);
  if (!p) {
    g_string_append_printf (run->log, "parse error: %s\n",
        err ? err->message : "?");
    g_clear_error (&err);
    g_free (desc);
    return;
  }
  /* the same element paths in the messages of both runs */
  gst_object_set_name (GST_OBJECT (p), "p");
  s = gst_bin_get_by_name (GST_BIN (p), "s");
  pad = gst_element_get_static_pad (s, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, probe, run, NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (p);
  gst_bus_set_sync_handler (bus, bus_sync, run, NULL);

  if (gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
    msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!msg)
      run_log (run, "timed out");
    gst_clear_message (&msg);
  } else {
    run_log (run, "start failed");
  }
  g_object_get (s, "bad-rows", &run->bad_rows, NULL);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (s);
  gst_object_unref (p);
  g_free (desc);
}

static void
run_clear (Run * run)
{
  if (run->log)
    g_string_free (run->log, TRUE);
  g_mutex_clear (&run->lock);
}

/* The first line where @a and @b differ, for the report */
static void
print_first_difference (const gchar * a, const gchar * b)
{
  gchar **la = g_strsplit (a, "\n", -1), **lb = g_strsplit (b, "\n", -1);
  guint i;

  for (i = 0; la[i] && lb[i]; i++) {
    if (strcmp (la[i], lb[i]) != 0)
      break;
  }
  printf ("# first difference at log line %u:\n#   cuda: %s\n#   cpu:  %s\n",
      i + 1, la[i] ? la[i] : "(end)", lb[i] ? lb[i] : "(end)");
  g_strfreev (la);
  g_strfreev (lb);
}

static gchar *
last_line (const gchar * log)
{
  gchar **l = g_strsplit (log, "\n", -1);
  guint n = g_strv_length (l);
  gchar *last = g_strdup (n >= 2 ? l[n - 2] : "(empty)");

  g_strfreev (l);
  return last;
}

static guint
count_lines (const gchar * log, const gchar * prefix)
{
  gchar **l = g_strsplit (log, "\n", -1);
  guint i, n = 0;

  for (i = 0; l[i]; i++)
    n += g_str_has_prefix (l[i], prefix);
  g_strfreev (l);
  return n;
}

/* Samples the GPU parsed: csvecgsrc logs "GPU: N samples ..." at LOG level
 * for every span csv_parse_block_cuda took (read-ahead thread) */
static gint64 gpu_samples;
static GMutex gpu_lock;

static void
count_gpu_samples (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *text;

  if (level != GST_LEVEL_LOG ||
      strcmp (gst_debug_category_get_name (category), "csvecgsrc") != 0)
    return;
  text = gst_debug_message_get (message);
  if (text && g_str_has_prefix (text, "GPU: ")) {
    g_mutex_lock (&gpu_lock);
    gpu_samples += g_ascii_strtoll (text + 5, NULL, 10);
    g_mutex_unlock (&gpu_lock);
  }
}

/* the cases whose text the GPU must take (plain numbers, no bad row) */
static gboolean
expects_gpu (const gchar * name)
{
  return !strcmp (name, "big") || !strcmp (name, "big-1k") ||
      !strcmp (name, "two-0") || !strcmp (name, "two-1");
}

/* Both runs of one case; @expect: the start of the log's last line
 * ("eos", "error") and a piece of it */
static void
compare (const gchar * name, const gchar * path, const gchar * props,
    const gchar * expect, const gchar * expect_text, guint min_warnings)
{
  Run gpu = { 0 }, cpu = { 0 };
  gchar *last;
  gdouble t0, t1, t2;

  printf ("# %s: %s\n", name, props);
  t0 = g_get_monotonic_time () / 1e6;
  g_mutex_lock (&gpu_lock);
  gpu_samples = 0;
  g_mutex_unlock (&gpu_lock);
  run_source (&gpu, path, props, TRUE);
  t1 = g_get_monotonic_time () / 1e6;
  /* the source is stopped: the read-ahead thread has ended */
  printf ("# %s: %" G_GINT64_FORMAT " samples parsed on the GPU\n", name,
      gpu_samples);
  if (expects_gpu (name))
    check (gpu_samples > 0, "%s: the GPU parsed the text (%" G_GINT64_FORMAT
        " samples)", name, gpu_samples);
  run_source (&cpu, path, props, FALSE);
  t2 = g_get_monotonic_time () / 1e6;
  last = last_line (cpu.log->str);
  printf ("# %s: %u buffers, %" G_GUINT64_FORMAT " bad rows, %u warnings, "
      "cuda %.3f s, cpu %.3f s; last: %.300s\n", name, cpu.buffers,
      cpu.bad_rows, count_lines (cpu.log->str, "warning"), t1 - t0, t2 - t1,
      last);

  check (g_str_has_prefix (last, expect) && strstr (last, expect_text),
      "%s: the CPU run ends with %s (%s)", name, expect, expect_text);
  check (count_lines (cpu.log->str, "warning") >= min_warnings,
      "%s: at least %u warnings", name, min_warnings);
  check (!gpu.copy_failed && !cpu.copy_failed, "%s: buffers read", name);
  check (gpu.cuda_buffers == gpu.buffers && cpu.cuda_buffers == 0,
      "%s: the CUDA run's %u buffers are all CUDA memory (%u)", name,
      gpu.buffers, gpu.cuda_buffers);
  check (strcmp (gpu.log->str, cpu.log->str) == 0,
      "%s: same buffers, bytes and messages, in the same order", name);
  if (strcmp (gpu.log->str, cpu.log->str) != 0)
    print_first_difference (gpu.log->str, cpu.log->str);
  check (gpu.bad_rows == cpu.bad_rows, "%s: bad-rows %" G_GUINT64_FORMAT
      " and %" G_GUINT64_FORMAT, name, gpu.bad_rows, cpu.bad_rows);
  g_free (last);
  run_clear (&gpu);
  run_clear (&cpu);
}

/* ---- the files ---- */

static gchar *tmp_dir;
static GPtrArray *tmp_files;

static gchar *
write_file (const gchar * name, GString * text)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  GError *err = NULL;

  if (!g_file_set_contents (path, text->str, text->len, &err)) {
    printf ("# cannot write %s: %s\n", path, err->message);
    exit (1);
  }
  g_ptr_array_add (tmp_files, path);
  return path;
}

/* A value of 17 significant digits in one of a few spellings */
static void
append_value (GString * s, GRand * r)
{
  gdouble v = g_rand_double_range (r, -5.0, 5.0);
  gchar num[64];

  switch (g_rand_int_range (r, 0, 4)) {
    case 0:
      g_ascii_formatd (num, sizeof (num), "%.16e", v);
      break;
    case 1:
      g_ascii_formatd (num, sizeof (num), "%.17g", v / 1000.0);
      break;
    default:
      g_ascii_formatd (num, sizeof (num), "%.17g", v);
      break;
  }
  g_string_append (s, num);
}

/* One column of @n values after header @header (NULL: none), LF */
static GString *
values_text (GRand * r, const gchar * header, guint n)
{
  GString *s = g_string_sized_new ((gsize) n * 24 + 64);
  guint i;

  if (header)
    g_string_append_printf (s, "%s\n", header);
  for (i = 0; i < n; i++) {
    append_value (s, r);
    g_string_append_c (s, '\n');
  }
  return s;
}

static const gchar *bad_cells[] = {
  "abc", "nan", "inf", "-Infinity", "1e39", "\"1.5\"", "\"x\"",
  "1.2345678901234567890123", "0x1p3", "1.5.2", "", "+", "1e", "--1",
};

/* CRLF, three columns, blank lines and bad rows spread through */
static GString *
mixed_text (GRand * r, guint n)
{
  GString *s = g_string_sized_new ((gsize) n * 64);
  guint i, k;

  g_string_append (s, "a, \"b\" ,c\r\n");
  for (i = 0; i < n; i++) {
    if (g_rand_int_range (r, 0, 4000) == 0) {
      /* blank lines */
      const gchar *blank[] = { "\r\n", "  \r\n", "\t\r\n", "\n", " \t \n" };

      g_string_append (s, blank[g_rand_int_range (r, 0, 5)]);
      continue;
    }
    if (g_rand_int_range (r, 0, 6000) == 0) {
      /* a bad row, or an unusual one that is fine */
      switch (g_rand_int_range (r, 0, 6)) {
        case 0:
          g_string_append (s, "1,2\r\n");       /* ragged */
          break;
        case 1:
          g_string_append (s, "1,2,3,4\r\n");   /* ragged */
          break;
        case 2:
          g_string_append (s, "1\r2,3,4\r\n");  /* a stray "\r" */
          break;
        case 3:
          g_string_append (s, " 1.25 ,\t-2e-3\t, \"3\"\r\n");
          break;
        default:
          for (k = 0; k < 3; k++) {
            if (k)
              g_string_append_c (s, ',');
            g_string_append (s,
                bad_cells[g_rand_int_range (r, 0, G_N_ELEMENTS (bad_cells))]);
          }
          g_string_append (s, "\r\n");
          break;
      }
      continue;
    }
    for (k = 0; k < 3; k++) {
      if (k)
        g_string_append_c (s, ',');
      append_value (s, r);
    }
    g_string_append (s, "\r\n");
  }
  return s;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  GRand *r;
  GString *t;
  gchar *big, *mixed, *longl, *nul_late, *nul_early, *noeol, *noeol_blank,
      *noeol_cr, *blank_only, *bom, *two;
  gsize at;
  guint i;

  gst_init (&argc, &argv);
  /* csvecgsrc's LOG lines say what the GPU parsed; printed only when
   * GST_DEBUG asks for them */
  if (!g_getenv ("GST_DEBUG"))
    gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (count_gpu_samples, NULL, NULL);
  gst_debug_set_threshold_for_name ("csvecgsrc", GST_LEVEL_LOG);
  if (!ecg_cuda_built ()) {
    printf ("SKIP: built without CUDA\n");
    return 77;
  }
  if (ecg_cuda_device_count () < 1) {
    printf ("SKIP: no CUDA device (cudaGetDeviceCount found none or "
        "failed: no GPU or no driver)\n");
    return 77;
  }

  tmp_dir = g_dir_make_tmp ("cuda-csvecgsrc-XXXXXX", &err);
  if (!tmp_dir) {
    printf ("# no temporary folder: %s\n", err->message);
    return 1;
  }
  tmp_files = g_ptr_array_new_with_free_func (g_free);
  r = g_rand_new_with_seed (20260101);

  /* ~44 MB of 17-digit values: many windows and batches */
  t = values_text (r, "ecg", 2000000);
  big = write_file ("big.csv", t);
  g_string_free (t, TRUE);

  t = mixed_text (r, 400000);
  mixed = write_file ("mixed.csv", t);
  g_string_free (t, TRUE);

  /* an over-long line (a bad row) and a long legal one */
  t = values_text (r, NULL, 100000);
  g_string_append (t, "7");
  for (i = 0; i < 900 * 1024; i++)
    g_string_append_c (t, ' ');
  g_string_append (t, "\n");
  for (i = 0; i < 100000; i++) {
    append_value (t, r);
    g_string_append_c (t, '\n');
  }
  for (i = 0; i < 1536 * 1024; i++)
    g_string_append_c (t, '1');
  g_string_append (t, "\n");
  for (i = 0; i < 300000; i++) {
    append_value (t, r);
    g_string_append_c (t, '\n');
  }
  longl = write_file ("long.csv", t);
  g_string_free (t, TRUE);

  /* a NUL byte late (after two windows) and early */
  t = values_text (r, "v", 1500000);
  at = t->len - 2 * 1024 * 1024;
  t->str[at] = '\0';
  nul_late = write_file ("nul-late.csv", t);
  t->str[at] = '1';
  t->str[5 * 1024 * 1024 + 3] = '\0';
  nul_early = write_file ("nul-early.csv", t);
  g_string_free (t, TRUE);

  /* last lines without "\n" */
  t = values_text (r, "v", 300000);
  g_string_append (t, "\n  \n1.5");
  noeol = write_file ("noeol.csv", t);
  g_string_truncate (t, t->len - 3);
  g_string_append (t, " \t");
  noeol_blank = write_file ("noeol-blank.csv", t);
  g_string_truncate (t, t->len - 2);
  g_string_append (t, "2.5\r");
  noeol_cr = write_file ("noeol-cr.csv", t);
  g_string_free (t, TRUE);

  t = g_string_new ("v\n\n  \r\n\t\n\n");
  blank_only = write_file ("blank-only.csv", t);
  g_string_free (t, TRUE);

  /* a BOM, no header */
  t = values_text (r, NULL, 200000);
  g_string_prepend (t, "\xef\xbb\xbf");
  bom = write_file ("bom.csv", t);
  g_string_free (t, TRUE);

  /* two columns, no header */
  t = g_string_new (NULL);
  for (i = 0; i < 500000; i++) {
    append_value (t, r);
    g_string_append_c (t, ',');
    append_value (t, r);
    g_string_append (t, i % 1000 == 999 ? "\r\n" : "\n");
  }
  two = write_file ("two.csv", t);
  g_string_free (t, TRUE);

  compare ("big", big, "rate=250", "eos", "eos", 0);
  compare ("big-1k", big, "rate=1000 column=ecg", "eos", "eos", 0);
  compare ("big-whole", big, "rate=100000 buffer-time=20000000", "eos",
      "eos", 0);
  compare ("mixed-0", mixed, "column=0", "eos", "eos", 11);
  compare ("mixed-1", mixed, "column=1 rate=360", "eos", "eos", 11);
  compare ("mixed-c", mixed, "column=c rate=5000", "eos", "eos", 11);
  compare ("mixed-max-errors", mixed, "column=b max-errors=40", "error",
      "Too many bad rows", 10);
  compare ("long", longl, "rate=1000", "eos", "eos", 1);
  compare ("nul-late", nul_late, "rate=500", "error", "not CSV text", 0);
  compare ("nul-early", nul_early, "rate=500", "error", "not CSV text", 0);
  compare ("noeol", noeol, "", "eos", "eos", 0);
  compare ("noeol-blank", noeol_blank, "", "eos", "eos", 0);
  compare ("noeol-cr", noeol_cr, "", "eos", "eos", 0);
  compare ("blank-only", blank_only, "", "error", "no samples", 0);
  compare ("bom", bom, "rate=1000 buffer-time=100000", "eos", "eos", 0);
  compare ("two-0", two, "column=0 rate=2000", "eos", "eos", 0);
  compare ("two-1", two, "column=1 rate=2000", "eos", "eos", 0);

  for (i = 0; i < tmp_files->len; i++)
    g_unlink (g_ptr_array_index (tmp_files, i));
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  g_ptr_array_unref (tmp_files);
  g_rand_free (r);
  return finish ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Parses and runs every pipelines/NAME.pipeline on the test fixture: comment
 * lines are stripped, the recording data/samples/119_5min.csv becomes
 * tests/files/ecg-15s-360hz.csv, sinks other than fakesink become fakesink,
 * and a pipeline reading fd=0 gets the fixture on a pipe dup2'ed onto
 * standard input.  Each must reach EOS without error, with data reaching
 * every sink, within a minute.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include "ecgtest.h"

#define RECORDING "data/samples/119_5min.csv"
#define FIXTURE "ecg-15s-360hz.csv"

static GPtrArray *pipeline_files;

static const gchar *
source_root (void)
{
  const gchar *root = g_getenv ("ECG_SOURCE_ROOT");

  return root ? root : ".";
}

static gchar *
fixture_path (void)
{
  const gchar *files = g_getenv ("ECG_TEST_FILES");

  if (files)
    return g_build_filename (files, FIXTURE, NULL);
  return g_build_filename (source_root (), "tests", "files", FIXTURE, NULL);
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
list_pipelines (void)
{
  gchar *dir = g_build_filename (source_root (), "pipelines", NULL);
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  pipeline_files = g_ptr_array_new_with_free_func (g_free);
  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".pipeline"))
      g_ptr_array_add (pipeline_files, g_build_filename (dir, name, NULL));
  if (d)
    g_dir_close (d);
  g_ptr_array_sort (pipeline_files, compare_paths);
  g_free (dir);
}

/* A sink factory other than fakesink? */
static gboolean
is_other_sink (const gchar * factory_name)
{
  GstElementFactory *f;
  const gchar *klass;
  gboolean res;

  if (g_str_equal (factory_name, "fakesink"))
    return FALSE;
  f = gst_element_factory_find (factory_name);
  if (!f)
    return FALSE;
  klass = gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_KLASS);
  res = klass && strstr (klass, "Sink") != NULL;
  gst_object_unref (f);
  return res;
}

/* The description of @path made runnable here; *reads_stdin set when it reads
 * standard input. */
static gchar *
prepare_description (const gchar * path, gboolean * reads_stdin)
{
  gchar *text = NULL, **lines, **segs, *desc, *fixture = fixture_path ();
  GString *s = g_string_new (NULL);
  GError *err = NULL;
  guint i;

  fail_unless (g_file_get_contents (path, &text, NULL, &err), "%s: %s",
      path, err ? err->message : "?");
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++) {
    if (g_strstrip (lines[i])[0] == '#' || lines[i][0] == '\0')
      continue;
    g_string_append_printf (s, "%s ", lines[i]);
  }
  g_strfreev (lines);
  g_free (text);

  /* the small fixture instead of the five-minute recording */
  desc = g_string_free (s, FALSE);
  {
    gchar **parts = g_strsplit (desc, RECORDING, -1);

    g_free (desc);
    desc = g_strjoinv (fixture, parts);
    g_strfreev (parts);
  }

  /* sinks: fakesink, whatever they were */
  segs = g_strsplit (desc, "!", -1);
  for (i = 0; segs[i]; i++) {
    gchar *seg = g_strstrip (segs[i]);
    gchar **words = g_strsplit_set (seg, " \t", 2);

    if (words[0] && is_other_sink (words[0])) {
      g_free (segs[i]);
      segs[i] = g_strdup ("fakesink");
    }
    g_strfreev (words);
  }
  g_free (desc);
  desc = g_strjoinv (" ! ", segs);
  g_strfreev (segs);

  /* A live feed on standard input: the test writes the fixture into a pipe
   * on fd 0.  Paced live, 15 s of data would take 15 s, so the source runs
   * as fast as it can (is-live=false) and the sinks do not sync. */
  *reads_stdin = strstr (desc, "fd=0") != NULL;
  if (*reads_stdin) {
    const gchar *from[] = { "is-live=true", "sync=true" };
    const gchar *to[] = { "is-live=false", "sync=false" };

    for (i = 0; i < G_N_ELEMENTS (from); i++) {
      gchar **parts = g_strsplit (desc, from[i], -1);

      g_free (desc);
      desc = g_strjoinv (to[i], parts);
      g_strfreev (parts);
    }
  }
  g_free (fixture);
  return desc;
}

typedef struct
{
  gint fd;
  gchar *data;
  gsize len;
} Feeder;

static gpointer
feed_thread (gpointer user_data)
{
  Feeder *f = user_data;

  ecg_test_write_all_and_close (f->fd, f->data, f->len, 0);
  return NULL;
}

static GstPadProbeReturn
count_buffers (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_pipeline)
{
  const gchar *path = g_ptr_array_index (pipeline_files, __i__);
  gboolean reads_stdin = FALSE, done = FALSE;
  gchar *desc = prepare_description (path, &reads_stdin);
  GstElement *pipeline;
  GstBus *bus;
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  GError *err = NULL;
  GThread *feeder = NULL;
  Feeder f = { -1, NULL, 0 };
  gint counts[8] = { 0 };
  guint n_sinks = 0, i;

  GST_INFO ("%s: %s", path, desc);
  /* any other relative path in a description is from the source root */
  fail_unless_equals_int (g_chdir (source_root ()), 0);
  if (reads_stdin) {
    gint fds[2];
    gchar *fixture = fixture_path ();

    fail_unless (g_file_get_contents (fixture, &f.data, &f.len, NULL));
    fail_unless_equals_int (pipe (fds), 0);
    fail_unless (dup2 (fds[0], 0) == 0);
    close (fds[0]);
    f.fd = fds[1];
    feeder = g_thread_new ("feeder", feed_thread, &f);
    g_free (fixture);
  }

  pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
      &err);
  fail_unless (pipeline != NULL && err == NULL, "%s: %s", path,
      err ? err->message : "?");

  /* count the buffers reaching each sink */
  it = gst_bin_iterate_sinks (GST_BIN (pipeline));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *sink = g_value_get_object (&item);
    GstPad *pad = gst_element_get_static_pad (sink, "sink");

    fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory
            (sink)), "fakesink");
    fail_unless (n_sinks < G_N_ELEMENTS (counts));
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffers,
        &counts[n_sinks++], NULL);
    gst_object_unref (pad);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  fail_unless (n_sinks > 0, "%s: no sink", path);

  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE, "%s: cannot start", path);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    fail_unless (msg != NULL, "%s: no EOS within 60 s", path);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      fail ("%s: error from %s: %s (%s)", path,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message, dbg);
    }
    done = TRUE;
    gst_message_unref (msg);
  }
  for (i = 0; i < n_sinks; i++)
    fail_unless (g_atomic_int_get (&counts[i]) > 0, "%s: sink %u got no data",
        path, i);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  if (feeder)
    g_thread_join (feeder);
  g_free (f.data);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

GST_START_TEST (test_found_pipelines)
{
  /* an empty folder must not pass silently */
  fail_unless (pipeline_files->len >= 1, "no pipelines/*.pipeline found");
}

GST_END_TEST;

static Suite *
pipelines_suite (void)
{
  Suite *s = suite_create ("pipelines");
  TCase *tc = tcase_create ("general");

  list_pipelines ();
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_found_pipelines);
  tcase_add_loop_test (tc, test_pipeline, 0, pipeline_files->len);
  return s;
}

GST_CHECK_MAIN (pipelines);

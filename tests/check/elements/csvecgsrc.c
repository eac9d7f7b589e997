/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of csvecgsrc: values and timestamps on small CSV files written to a
 * temporary folder, queries, live pacing on the harness test clock, and one
 * negative test per error the element can report (docs/elements.md).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ecggsttest.h"

/* ---- temporary files ---- */

typedef struct
{
  gchar *dir;
  gchar *path;
} TmpFile;

static void
tmp_file_write (TmpFile * t, const gchar * data, gssize len)
{
  GError *err = NULL;

  t->dir = g_dir_make_tmp ("csvecgsrc-XXXXXX", &err);
  fail_unless (t->dir != NULL, "no temporary folder: %s",
      err ? err->message : "?");
  t->path = g_build_filename (t->dir, "in.csv", NULL);
  if (len < 0)
    len = strlen (data);
  fail_unless (g_file_set_contents (t->path, data, len, &err),
      "cannot write %s", t->path);
}

static void
tmp_file_clear (TmpFile * t)
{
  if (t->path) {
    g_chmod (t->path, 0600);
    g_unlink (t->path);
  }
  if (t->dir)
    g_rmdir (t->dir);
  g_clear_pointer (&t->path, g_free);
  g_clear_pointer (&t->dir, g_free);
}

/* ---- running the source ---- */

typedef struct
{
  GArray *values;               /* gfloat */
  GPtrArray *buffers;           /* GstBuffer */
} Output;

static void
output_clear (Output * o)
{
  g_clear_pointer (&o->values, g_array_unref);
  g_clear_pointer (&o->buffers, g_ptr_array_unref);
}

/* Waits for EOS on the harness, then takes every buffer it received.  EOS
 * also follows a streaming error (basesrc pushes it after posting). */
static void
harness_collect (GstHarness * h, Output * o)
{
  GstEvent *ev;
  GstBuffer *buf;
  gboolean eos = FALSE;

  o->values = g_array_new (FALSE, FALSE, sizeof (gfloat));
  o->buffers = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_buffer_unref);
  while (!eos) {
    ev = gst_harness_pull_event (h);
    fail_unless (ev != NULL, "no EOS within the harness timeout");
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  while ((buf = gst_harness_try_pull (h))) {
    GstMapInfo map;

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    g_array_append_vals (o->values, map.data, map.size / sizeof (gfloat));
    gst_buffer_unmap (buf, &map);
    g_ptr_array_add (o->buffers, buf);
  }
}

static GstElement *
make_src (const gchar * location, const gchar * column, gint rate)
{
  GstElement *src = gst_element_factory_make ("csvecgsrc", NULL);

  fail_unless (src != NULL);
  g_object_set (src, "location", location, "rate", rate, NULL);
  if (column)
    g_object_set (src, "column", column, NULL);
  return src;
}

typedef struct
{
  GstHarness *h;
  GstBus *bus;
} Run;

/* A harness around @src (taken), with a bus, playing. */
static void
run_start (Run * r, GstElement * src)
{
  r->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  r->bus = ecg_test_attach_bus (r->h);
  gst_harness_play (r->h);
}

static void
run_clear (Run * r)
{
  ecg_test_teardown (r->h, r->bus);
}

/* Reads @text with the given settings to the end and returns the samples. */
static void
read_all (const gchar * text, gssize len, const gchar * column, gint rate,
    guint64 buffer_time, Output * o, guint64 * bad_rows)
{
  TmpFile t = { NULL, NULL };
  GstElement *src;
  Run r;
  GstMessage *msg;

  tmp_file_write (&t, text, len);
  src = make_src (t.path, column, rate);
  if (buffer_time)
    g_object_set (src, "buffer-time", buffer_time, NULL);
  run_start (&r, src);
  harness_collect (r.h, o);
  msg = gst_bus_pop_filtered (r.bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail ("unexpected error: %s (%s)", err->message, dbg);
  }
  if (bad_rows)
    g_object_get (r.h->element, "bad-rows", bad_rows, NULL);
  run_clear (&r);
  tmp_file_clear (&t);
}

/* (float) strtod () of each text, in the C locale. */
static GArray *
expected_values (const gchar * const *texts)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gfloat));

  for (; *texts; texts++) {
    gfloat v = (gfloat) g_ascii_strtod (*texts, NULL);

    g_array_append_val (a, v);
  }
  return a;
}

static void
assert_values (const GArray * got, const GArray * want, const gchar * what)
{
  fail_unless_equals_int (got->len, want->len);
  /* exact: the element promises strtod's value rounded to float */
  fail_unless (ecg_test_compare_floats ((const float *) got->data,
          (const float *) want->data, want->len, 0.0, 0.0, what) < 0,
      "%s: values differ", what);
}

/* ---- known values ---- */

typedef struct
{
  const gchar *name;
  const gchar *text;
  gssize len;
  const gchar *column;
  const gchar *values[8];
} ValueCase;

/* *INDENT-OFF* */
static const ValueCase value_cases[] = {
  {"no header", "1.5\n-2.25\n3e-3\n", -1, NULL, {"1.5", "-2.25", "3e-3"}},
  {"header, first column", "MLII,V1\n0.1,9\n0.2,8\n", -1, NULL,
      {"0.1", "0.2"}},
  {"header, column by name", "time,MLII,V1\n0,0.125,9\n1,-0.3,8\n", -1,
      "MLII", {"0.125", "-0.3"}},
  {"header, column by index", "time,MLII,V1\n0,0.125,9\n1,-0.3,8\n", -1,
      "2", {"9", "8"}},
  {"no header, column by index", "0,0.125,9\n1,-0.3,8\n", -1, "1",
      {"0.125", "-0.3"}},
  {"single-quoted header", "'sample #','MLII','V5'\n1,-0.145,-0.065\n"
      "2,-0.150,-0.070\n", -1, "MLII", {"-0.145", "-0.150"}},
  {"double-quoted header", "\"sample #\",\"MLII\",\"V5\"\n1,-0.145,-0.065\n",
      -1, "V5", {"-0.065"}},
  {"CRLF", "MLII,V1\r\n0.5,1\r\n0.25,2\r\n-7,3\r\n", -1, "MLII",
      {"0.5", "0.25", "-7"}},
  {"BOM", "\xEF\xBB\xBFMLII,V1\n1.25,0\n2.5,0\n", -1, "MLII",
      {"1.25", "2.5"}},
  {"BOM, no header", "\xEF\xBB\xBF" "4\n5\n", -1, NULL, {"4", "5"}},
  {"blank lines", "\n\nMLII\n1\n\n  \n2\n", -1, "MLII", {"1", "2"}},
  {"no final newline", "1\n2", -1, NULL, {"1", "2"}},
  {"blanks around fields", "a, b\n 1 ,\t2\n", -1, "b", {"2"}},
  {"exponents and signs", "+1e2\n-0.000001234\n1E-40\n3.4028235e38\n", -1,
      NULL, {"+1e2", "-0.000001234", "1E-40", "3.4028235e38"}},
};
/* *INDENT-ON* */

GST_START_TEST (test_values)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (value_cases); i++) {
    const ValueCase *c = &value_cases[i];
    Output o = { NULL, NULL };
    GArray *want = expected_values (c->values);
    guint64 bad = 1;

    GST_INFO ("case %s", c->name);
    read_all (c->text, c->len, c->column, 250, 0, &o, &bad);
    assert_values (o.values, want, c->name);
    fail_unless_equals_uint64 (bad, 0);
    g_array_unref (want);
    output_clear (&o);
  }
}

GST_END_TEST;

/* Many random decimal texts: the value equals (float) strtod () bit for
 * bit. */
GST_START_TEST (test_values_random)
{
  GString *text = g_string_new ("MLII\n");
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  GRand *rand = g_rand_new_with_seed (1234);
  GArray *want;
  Output o = { NULL, NULL };
  guint i;

  for (i = 0; i < 3000; i++) {
    gdouble v = g_rand_double_range (rand, -5.0, 5.0) *
        pow (10.0, g_rand_int_range (rand, -12, 12));
    gchar *s;

    switch (i % 3) {
      case 0:
        s = g_strdup_printf ("%.*f", g_rand_int_range (rand, 0, 10), v);
        break;
      case 1:
        s = g_strdup_printf ("%.*e", g_rand_int_range (rand, 0, 20), v);
        break;
      default:
        s = g_strdup_printf ("%.*g", g_rand_int_range (rand, 1, 25), v);
        break;
    }
    g_string_append_printf (text, "%s\n", s);
    g_ptr_array_add (texts, s);
  }
  g_ptr_array_add (texts, NULL);
  want = expected_values ((const gchar * const *) texts->pdata);

  read_all (text->str, text->len, "MLII", 360, 0, &o, NULL);
  assert_values (o.values, want, "random texts");

  output_clear (&o);
  g_array_unref (want);
  g_ptr_array_unref (texts);
  g_rand_free (rand);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* ---- timestamps ---- */

typedef struct
{
  gint rate;
  guint64 buffer_time;          /* us */
  guint n;                      /* samples in the file */
  guint spb;                    /* expected samples per buffer */
} TimeCase;

/* *INDENT-OFF* */
static const TimeCase time_cases[] = {
  {360, 25000, 1000, 9},
  {250, 1000000, 1000, 250},
  {250, 4000, 37, 1},
  {360, 1000000, 5000, 360},
  {1000, 333000, 2000, 333},
  {7, 1000000, 30, 7},
};
/* *INDENT-ON* */

GST_START_TEST (test_timestamps)
{
  guint c;

  for (c = 0; c < G_N_ELEMENTS (time_cases); c++) {
    const TimeCase *tc = &time_cases[c];
    GString *text = g_string_new (NULL);
    Output o = { NULL, NULL };
    guint64 off = 0;
    guint i;

    for (i = 0; i < tc->n; i++)
      g_string_append_printf (text, "%u\n", i);
    read_all (text->str, text->len, NULL, tc->rate, tc->buffer_time, &o, NULL);

    fail_unless_equals_int (o.values->len, tc->n);
    for (i = 0; i < tc->n; i++)
      fail_unless_equals_float (g_array_index (o.values, gfloat, i),
          (gfloat) i);
    fail_unless_equals_int (o.buffers->len, (tc->n + tc->spb - 1) / tc->spb);
    for (i = 0; i < o.buffers->len; i++) {
      GstBuffer *b = g_ptr_array_index (o.buffers, i);
      guint64 n = gst_buffer_get_size (b) / sizeof (gfloat);
      GstClockTime pts = gst_util_uint64_scale_int (off, GST_SECOND,
          tc->rate);
      GstClockTime end = gst_util_uint64_scale_int (off + n, GST_SECOND,
          tc->rate);

      fail_unless_equals_uint64 (n, MIN (tc->spb, tc->n - off));
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), off);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (b), off + n);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (b), pts);
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), end - pts);
      fail_unless_equals_int (GST_BUFFER_IS_DISCONT (b), i == 0);
      off += n;
    }
    output_clear (&o);
    g_string_free (text, TRUE);
  }
}

GST_END_TEST;

/* ---- queries ---- */

GST_START_TEST (test_queries)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII,V1\n");
  GstElement *src;
  Output o = { NULL, NULL };
  Run r;
  gint64 pos, dur;
  guint i;

  for (i = 0; i < 720; i++)
    g_string_append_printf (text, "%.3f,%d\n", i / 1000.0, i);
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, "MLII", 360);
  g_object_set (src, "buffer-time", (guint64) 100000, NULL);
  run_start (&r, src);

  /* the byte length of a regular file is known from the start */
  fail_unless (gst_element_query_duration (r.h->element, GST_FORMAT_BYTES,
          &dur));
  fail_unless_equals_int64 (dur, text->len);

  harness_collect (r.h, &o);
  fail_unless_equals_int (o.values->len, 720);

  /* at the end every byte is consumed and the time is 720 / 360 s */
  fail_unless (gst_element_query_position (r.h->element, GST_FORMAT_BYTES,
          &pos));
  fail_unless_equals_int64 (pos, text->len);
  fail_unless (gst_element_query_position (r.h->element, GST_FORMAT_TIME,
          &pos));
  fail_unless_equals_int64 (pos, 2 * GST_SECOND);
  fail_unless (gst_element_query_position (r.h->element, GST_FORMAT_DEFAULT,
          &pos));
  fail_unless_equals_int64 (pos, 720);
  fail_unless (gst_element_query_duration (r.h->element, GST_FORMAT_TIME,
          &dur));
  fail_unless_equals_int64 (dur, 2 * GST_SECOND);

  /* not live: no latency */
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean live;
    GstClockTime min, max;

    fail_unless (gst_element_query (r.h->element, q));
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (!live);
    fail_unless_equals_uint64 (min, 0);
    gst_query_unref (q);
  }

  output_clear (&o);
  run_clear (&r);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* Positions part-way through, as progressreport sees them: byte position
 * grows and stays within the file, time position matches the samples. */
GST_START_TEST (test_progressreport)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII\n");
  GstElement *pipe;
  GstBus *bus;
  GstMessage *msg;
  gchar *desc;
  gboolean eos = FALSE;
  gint reports = 0;
  gdouble last_percent = -1.0;
  guint i;

  for (i = 0; i < 3600; i++)
    g_string_append_printf (text, "%.4f\n", sin (i / 20.0));
  tmp_file_write (&t, text->str, text->len);
  desc = g_strdup_printf ("csvecgsrc location=\"%s\" rate=360 "
      "buffer-time=100000 ! progressreport update-freq=1 silent=true ! "
      "fakesink", t.path);
  pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  bus = gst_element_get_bus (pipe);
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);
  while (!eos) {
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL, "no EOS within 30 s");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:{
        GError *err = NULL;
        gchar *dbg = NULL;

        gst_message_parse_error (msg, &err, &dbg);
        fail ("error: %s (%s)", err->message, dbg);
        break;
      }
      case GST_MESSAGE_ELEMENT:{
        const GstStructure *s = gst_message_get_structure (msg);

        if (gst_structure_has_name (s, "progress")) {
          gint percent = -1;

          fail_unless (gst_structure_get_int (s, "percent", &percent));
          fail_unless (percent >= 0 && percent <= 100, "percent %d", percent);
          last_percent = percent;
          reports++;
        }
        break;
      }
      default:
        eos = TRUE;
        break;
    }
    gst_message_unref (msg);
  }
  /* progressreport reports at EOS at least, with the whole file read */
  fail_unless (reports >= 1);
  fail_unless_equals_float (last_percent, 100.0);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* ---- live ---- */

GST_START_TEST (test_live_testclock)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new (NULL);
  GstElement *src;
  GstTestClock *clock;
  GstClockID id;
  GstBuffer *buf;
  GstEvent *ev;
  Run r;
  guint i;
  /* 120 samples at 250 Hz, 200 ms (50 samples) per buffer: 50, 50, 20 */
  const guint sizes[] = { 50, 50, 20 };
  guint64 off = 0;

  for (i = 0; i < 120; i++)
    g_string_append_printf (text, "%u\n", i);
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, NULL, 250);
  g_object_set (src, "is-live", TRUE, "buffer-time", (guint64) 200000, NULL);
  r.h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  r.bus = ecg_test_attach_bus (r.h);
  gst_harness_use_testclock (r.h);
  clock = gst_harness_get_testclock (r.h);
  gst_harness_play (r.h);

  /* live: min = max = one buffer */
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean live;
    GstClockTime min, max;

    fail_unless (gst_element_query (r.h->element, q));
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (live);
    fail_unless_equals_uint64 (min, 200 * GST_MSECOND);
    fail_unless_equals_uint64 (max, 200 * GST_MSECOND);
    gst_query_unref (q);
  }
  fail_unless_equals_uint64 (gst_harness_query_latency (r.h),
      200 * GST_MSECOND);

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstClockTime end = gst_util_uint64_scale_int (off + sizes[i],
        GST_SECOND, 250);

    /* each buffer waits for the clock to reach its end */
    gst_test_clock_wait_for_next_pending_id (clock, &id);
    fail_unless_equals_uint64 (gst_clock_id_get_time (id), end);
    gst_clock_id_unref (id);
    fail_unless_equals_int (gst_harness_buffers_received (r.h), i);
    fail_unless (gst_harness_crank_single_clock_wait (r.h));
    buf = gst_harness_pull (r.h);
    fail_unless (buf != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), off);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale_int (off, GST_SECOND, 250));
    fail_unless_equals_uint64 (gst_buffer_get_size (buf),
        sizes[i] * sizeof (gfloat));
    gst_buffer_unref (buf);
    off += sizes[i];
  }
  do {
    ev = gst_harness_pull_event (r.h);
    fail_unless (ev != NULL);
    i = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  } while (!i);
  fail_unless (gst_bus_pop_filtered (r.bus, GST_MESSAGE_ERROR) == NULL);

  gst_object_unref (clock);
  run_clear (&r);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* ---- errors at start ---- */

typedef GQuark (*ErrorDomainFunc) (void);

typedef enum
{
  SETUP_MISSING,
  SETUP_DIRECTORY,
  SETUP_UNREADABLE,
  SETUP_NO_LOCATION,
  SETUP_RATE_0,
  SETUP_RATE_HUGE,
} StartSetup;

typedef struct
{
  const gchar *name;
  StartSetup setup;
  ErrorDomainFunc domain;
  gint code;
} StartErrorCase;

/* *INDENT-OFF* */
static const StartErrorCase start_error_cases[] = {
  {"missing file", SETUP_MISSING, gst_resource_error_quark,
      GST_RESOURCE_ERROR_NOT_FOUND},
  {"directory", SETUP_DIRECTORY, gst_resource_error_quark,
      GST_RESOURCE_ERROR_OPEN_READ},
  {"unreadable file", SETUP_UNREADABLE, gst_resource_error_quark,
      GST_RESOURCE_ERROR_OPEN_READ},
  {"no location, no fd", SETUP_NO_LOCATION, gst_resource_error_quark,
      GST_RESOURCE_ERROR_NOT_FOUND},
  {"rate=0", SETUP_RATE_0, gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS},
  {"rate=1000000", SETUP_RATE_HUGE, gst_resource_error_quark,
      GST_RESOURCE_ERROR_SETTINGS},
};
/* *INDENT-ON* */

GST_START_TEST (test_start_errors)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (start_error_cases); i++) {
    const StartErrorCase *c = &start_error_cases[i];
    TmpFile t = { NULL, NULL };
    GstElement *src = gst_element_factory_make ("csvecgsrc", NULL);
    GstHarness *h;
    GstBus *bus;
    GstMessage *msg;
    gchar *missing = NULL;
    GError *err = NULL;

    GST_INFO ("case %s", c->name);
    tmp_file_write (&t, "1\n2\n", -1);
    switch (c->setup) {
      case SETUP_MISSING:
        missing = g_build_filename (t.dir, "does-not-exist.csv", NULL);
        g_object_set (src, "location", missing, NULL);
        break;
      case SETUP_DIRECTORY:
        g_object_set (src, "location", t.dir, NULL);
        break;
      case SETUP_UNREADABLE:
        fail_unless_equals_int (g_chmod (t.path, 0), 0);
        if (access (t.path, R_OK) == 0) {
          /* root reads anything: a directory gives the same error */
          GST_INFO ("running as root, using a directory instead");
          g_object_set (src, "location", t.dir, NULL);
        } else {
          g_object_set (src, "location", t.path, NULL);
        }
        break;
      case SETUP_NO_LOCATION:
        break;
      case SETUP_RATE_0:
        g_object_set (src, "location", t.path, "rate", 0, NULL);
        break;
      case SETUP_RATE_HUGE:
        g_object_set (src, "location", t.path, "rate", 1000000, NULL);
        break;
    }
    h = gst_harness_new_with_element (src, NULL, "src");
    bus = ecg_test_attach_bus (h);

    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "%s: no error message", c->name);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (err->domain == c->domain () && err->code == c->code,
        "%s: got %s %d (%s)", c->name, g_quark_to_string (err->domain),
        err->code, err->message);
    g_clear_error (&err);
    gst_message_unref (msg);
    /* nothing else but basesrc's last-resort CORE STATE_CHANGE */
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      fail_unless_message_error (msg, CORE, STATE_CHANGE);
      gst_message_unref (msg);
    }
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);

    ecg_test_teardown (h, bus);
    gst_object_unref (src);
    g_free (missing);
    tmp_file_clear (&t);
  }
}

GST_END_TEST;

/* ---- errors while streaming ---- */

typedef struct
{
  const gchar *name;
  const gchar *text;
  gssize len;
  const gchar *column;
  gint max_errors;
  ErrorDomainFunc domain;
  gint code;
  const gchar *debug_has;       /* in the debug string */
  guint samples;                /* delivered before the error */
} StreamErrorCase;

/* *INDENT-OFF* */
static const StreamErrorCase stream_error_cases[] = {
  {"empty file", "", 0, NULL, -1, gst_stream_error_quark,
      GST_STREAM_ERROR_DECODE, "empty", 0},
  {"header only", "MLII,V1\n", -1, NULL, -1, gst_stream_error_quark,
      GST_STREAM_ERROR_DECODE, NULL, 0},
  {"header only, no newline", "MLII", -1, NULL, -1, gst_stream_error_quark,
      GST_STREAM_ERROR_DECODE, NULL, 0},
  {"blank lines only", "\n\n  \n", -1, NULL, -1, gst_stream_error_quark,
      GST_STREAM_ERROR_DECODE, NULL, 0},
  {"NUL byte", "1\n2\n\x01\x02\x00\xff\xfe\n3\n", 13, NULL, -1,
      gst_stream_error_quark, GST_STREAM_ERROR_DECODE, NULL, 0},
  {"NUL in header", "ML\x00II\n1\n", 8, NULL, -1, gst_stream_error_quark,
      GST_STREAM_ERROR_DECODE, NULL, 0},
  {"no such column name", "MLII,V1\n1,2\n", -1, "V5", -1,
      gst_stream_error_quark, GST_STREAM_ERROR_FORMAT, "MLII,V1", 0},
  {"column index out of range", "MLII,V1\n1,2\n", -1, "2", -1,
      gst_stream_error_quark, GST_STREAM_ERROR_FORMAT, NULL, 0},
  {"column name without header", "1,2\n3,4\n", -1, "MLII", -1,
      gst_stream_error_quark, GST_STREAM_ERROR_FORMAT, NULL, 0},
  {"max-errors=0, bad number", "MLII\n1\n2\nabc\n4\n", -1, NULL, 0,
      gst_stream_error_quark, GST_STREAM_ERROR_DECODE, "line 4", 0},
  {"max-errors=0, nan", "MLII\n1\nnan\n", -1, NULL, 0,
      gst_stream_error_quark, GST_STREAM_ERROR_DECODE, "line 3", 0},
  {"max-errors=0, ragged", "a,b\n1,2\n3,4\n5\n", -1, "b", 0,
      gst_stream_error_quark, GST_STREAM_ERROR_DECODE, "line 4", 0},
  {"max-errors=1, second bad row", "1\nx\n2\ninf\n3\n", -1, NULL, 1,
      gst_stream_error_quark, GST_STREAM_ERROR_DECODE, "line 4", 0},
};
/* *INDENT-ON* */

GST_START_TEST (test_stream_errors)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (stream_error_cases); i++) {
    const StreamErrorCase *c = &stream_error_cases[i];
    TmpFile t = { NULL, NULL };
    GstElement *src;
    Output o = { NULL, NULL };
    Run r;

    GST_INFO ("case %s", c->name);
    tmp_file_write (&t, c->text, c->len);
    src = make_src (t.path, c->column, 250);
    g_object_set (src, "max-errors", c->max_errors, NULL);
    run_start (&r, src);
    harness_collect (r.h, &o);
    ecg_test_assert_one_error (r.bus, r.h->element, c->domain (), c->code,
        c->debug_has, ECG_TEST_THEN_STREAM_FAILED | ECG_TEST_HAS_IN_DEBUG,
        c->name);
    fail_unless_equals_int (o.values->len, c->samples);
    output_clear (&o);
    run_clear (&r);
    tmp_file_clear (&t);
  }
}

GST_END_TEST;

/* ---- bad rows: warned, held, counted ---- */

typedef struct
{
  const gchar *name;
  const gchar *text;
  const gchar *column;
  const gchar *values[10];      /* expected, as text */
  guint n_bad;
  guint bad_lines[4];
} BadRowCase;

/* *INDENT-OFF* */
static const BadRowCase bad_row_cases[] = {
  {"non-numeric", "MLII\n1\n2\nabc\n4\n", NULL, {"1", "2", "2", "4"}, 1,
      {4}},
  {"nan and inf", "MLII\n1.5\nnan\ninf\n-inf\n2\n", NULL,
      {"1.5", "1.5", "1.5", "1.5", "2"}, 3, {3, 4, 5}},
  {"ragged, short row", "a,b\n1,2\n3\n5,6\n", "b", {"2", "2", "6"}, 1,
      {3}},
  {"ragged, long row", "a,b\n1,2\n3,4,5\n5,6\n", "a", {"1", "1", "5"}, 1,
      {3}},
  {"empty cell", "a,b\n1,2\n,4\n5,6\n", "a", {"1", "1", "5"}, 1, {3}},
  {"first row bad: zero held", "MLII\nx\n7\n", NULL, {"0", "7"}, 1, {2}},
  {"CRLF, bad row", "MLII\r\n1\r\n?\r\n3\r\n", NULL, {"1", "1", "3"}, 1,
      {3}},
  {"hexadecimal", "1\n0x10\n2\n", NULL, {"1", "1", "2"}, 1, {2}},
  {"overflow", "1\n1e39\n2\n", NULL, {"1", "1", "2"}, 1, {2}},
};
/* *INDENT-ON* */

/* Pops every warning, checks each is STREAM DECODE naming the next bad
 * line. */
static void
assert_warnings (GstBus * bus, const guint * lines, guint n, const gchar * what)
{
  GstMessage *msg;
  guint i = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;
    gchar *dbg = NULL, *want;

    gst_message_parse_warning (msg, &err, &dbg);
    fail_unless (i < n, "%s: unexpected warning %s (%s)", what,
        err->message, dbg);
    fail_unless (err->domain == GST_STREAM_ERROR &&
        err->code == GST_STREAM_ERROR_DECODE, "%s: warning %s %d", what,
        g_quark_to_string (err->domain), err->code);
    want = g_strdup_printf ("line %u:", lines[i]);
    fail_unless (dbg && strstr (dbg, want), "%s: \"%s\" lacks \"%s\"", what,
        dbg, want);
    g_free (want);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    i++;
  }
  fail_unless_equals_int (i, n);
}

GST_START_TEST (test_bad_rows)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad_row_cases); i++) {
    const BadRowCase *c = &bad_row_cases[i];
    TmpFile t = { NULL, NULL };
    GstElement *src;
    Output o = { NULL, NULL };
    GArray *want = expected_values (c->values);
    guint64 bad = 0;
    Run r;

    GST_INFO ("case %s", c->name);
    tmp_file_write (&t, c->text, -1);
    src = make_src (t.path, c->column, 250);
    run_start (&r, src);
    harness_collect (r.h, &o);
    assert_values (o.values, want, c->name);
    /* warnings first: popping errors discards the other messages */
    assert_warnings (r.bus, c->bad_lines, c->n_bad, c->name);
    fail_unless (gst_bus_pop (r.bus) == NULL);
    g_object_get (r.h->element, "bad-rows", &bad, NULL);
    fail_unless_equals_uint64 (bad, c->n_bad);
    /* the timeline is kept: one sample per row, sample-exact */
    {
      GstBuffer *last = g_ptr_array_index (o.buffers, o.buffers->len - 1);

      fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (last), want->len);
    }
    g_array_unref (want);
    output_clear (&o);
    run_clear (&r);
    tmp_file_clear (&t);
  }
}

GST_END_TEST;

/* More than ten bad rows: ten warnings one by one, then a summary. */
GST_START_TEST (test_many_bad_rows)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII\n");
  GstElement *src;
  Output o = { NULL, NULL };
  GstMessage *msg;
  guint64 bad = 0;
  guint i, n_warn = 0;
  Run r;

  /* lines 2..41: good rows at even lines, bad ones at odd lines */
  for (i = 0; i < 20; i++)
    g_string_append_printf (text, "%u\nbad%u\n", i, i);
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, NULL, 250);
  run_start (&r, src);
  harness_collect (r.h, &o);
  fail_unless_equals_int (o.values->len, 40);
  for (i = 0; i < 20; i++) {
    fail_unless_equals_float (g_array_index (o.values, gfloat, 2 * i), i);
    fail_unless_equals_float (g_array_index (o.values, gfloat, 2 * i + 1), i);
  }
  while ((msg = gst_bus_pop_filtered (r.bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (err->domain == GST_STREAM_ERROR &&
        err->code == GST_STREAM_ERROR_DECODE);
    g_clear_error (&err);
    gst_message_unref (msg);
    n_warn++;
  }
  fail_unless_equals_int (n_warn, 11);
  fail_unless (gst_bus_pop (r.bus) == NULL);
  g_object_get (r.h->element, "bad-rows", &bad, NULL);
  fail_unless_equals_uint64 (bad, 20);

  output_clear (&o);
  run_clear (&r);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* A 1 MB line: a bad row, skipped to its end; the timeline is kept. */
GST_START_TEST (test_huge_line)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII\n1\n2\n");
  GstElement *src;
  Output o = { NULL, NULL };
  const gchar *vals[] = { "1", "2", "2", "3", "4", NULL };
  const guint lines[] = { 4 };
  GArray *want = expected_values (vals);
  guint64 bad = 0;
  gsize i;
  Run r;

  for (i = 0; i < 1024 * 1024; i++)
    g_string_append_c (text, '9');
  g_string_append (text, "\n3\n4\n");
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, NULL, 250);
  g_object_set (src, "buffer-time", (guint64) 4000, NULL);
  run_start (&r, src);
  harness_collect (r.h, &o);
  assert_values (o.values, want, "huge line");
  assert_warnings (r.bus, lines, 1, "huge line");
  fail_unless (gst_bus_pop (r.bus) == NULL);
  g_object_get (r.h->element, "bad-rows", &bad, NULL);
  fail_unless_equals_uint64 (bad, 1);
  /* one sample per buffer: sample 4 ("4") is at 4 / 250 s */
  {
    GstBuffer *last = g_ptr_array_index (o.buffers, o.buffers->len - 1);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (last), 4);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (last), 16 * GST_MSECOND);
  }

  g_array_unref (want);
  output_clear (&o);
  run_clear (&r);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* A first line with no end in sight (no newline in the first 1.5 MB) is
 * not CSV. */
GST_START_TEST (test_huge_header)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII");
  GstElement *src;
  Output o = { NULL, NULL };
  gsize i;
  Run r;

  for (i = 0; i < 1536 * 1024; i++)
    g_string_append_c (text, 'x');
  g_string_append (text, "\n1\n");
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, NULL, 250);
  run_start (&r, src);
  harness_collect (r.h, &o);
  ecg_test_assert_one_error (r.bus, r.h->element, GST_STREAM_ERROR,
      GST_STREAM_ERROR_DECODE, NULL, ECG_TEST_THEN_STREAM_FAILED,
      "huge header");
  fail_unless_equals_int (o.values->len, 0);
  output_clear (&o);
  run_clear (&r);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* ---- large files: read ahead, in 16 MiB windows ---- */

#define TEST_MAX_LINE (1024 * 1024)

/* A text longer than the element's read window: a header, then a block
 * of lines of varied length (some CRLF) repeated; optionally a bad row
 * every @bad_every lines, a line of exactly TEST_MAX_LINE digits (too
 * long: a bad row) at the first line start after @long_at bytes, and a
 * line of TEST_MAX_LINE - 1 bytes (not too long; its value is 0) after
 * @fine_at bytes. */
typedef struct
{
  GString *text;
  GArray *want;                 /* gfloat, with held values at bad rows */
  GArray *bad_lines;            /* guint64 */
} BigText;

static void
big_text_make (BigText * bt, gsize min_len, guint bad_every, gsize long_at,
    gsize fine_at)
{
  GRand *rand = g_rand_new_with_seed (4321);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  GArray *vals = g_array_new (FALSE, FALSE, sizeof (gfloat));
  guint64 line_no = 2, k = 0;
  gfloat last = 0.0f;
  guint i;

  /* 9973 lines, a prime, so the windows fall at ever other places */
  for (i = 0; i < 9973; i++) {
    gdouble v = g_rand_double_range (rand, -3.0, 3.0);
    gchar *s = g_strdup_printf ("%.*f%s", g_rand_int_range (rand, 0, 12), v,
        i % 7 == 3 ? "\r\n" : "\n");
    gfloat f = (gfloat) g_ascii_strtod (s, NULL);

    g_ptr_array_add (lines, s);
    g_array_append_val (vals, f);
  }
  bt->text = g_string_new ("MLII\n");
  bt->want = g_array_new (FALSE, FALSE, sizeof (gfloat));
  bt->bad_lines = g_array_new (FALSE, FALSE, sizeof (guint64));
  while (bt->text->len < min_len) {
    const gchar *s = g_ptr_array_index (lines, k % 9973);

    if (long_at && bt->text->len >= long_at) {
      gsize at = bt->text->len;

      g_string_set_size (bt->text, at + TEST_MAX_LINE);
      memset (bt->text->str + at, '7', TEST_MAX_LINE);
      g_string_append_c (bt->text, '\n');
      g_array_append_val (bt->want, last);
      g_array_append_val (bt->bad_lines, line_no);
      line_no++;
      long_at = 0;
      continue;
    }
    if (fine_at && bt->text->len >= fine_at) {
      gsize at = bt->text->len;

      /* "0." then zeros then "1": 1e-(TEST_MAX_LINE - 3), which is 0 */
      g_string_append (bt->text, "0.");
      g_string_set_size (bt->text, at + TEST_MAX_LINE - 2);
      memset (bt->text->str + at + 2, '0', TEST_MAX_LINE - 4);
      g_string_append (bt->text, "1\n");
      last = 0.0f;
      g_array_append_val (bt->want, last);
      line_no++;
      fine_at = 0;
      continue;
    }
    if (bad_every && line_no % bad_every == 0) {
      g_string_append (bt->text, "bad\n");
      g_array_append_val (bt->want, last);
      g_array_append_val (bt->bad_lines, line_no);
    } else {
      g_string_append (bt->text, s);
      last = g_array_index (vals, gfloat, k % 9973);
      g_array_append_val (bt->want, last);
      k++;
    }
    line_no++;
  }
  g_array_unref (vals);
  g_ptr_array_unref (lines);
  g_rand_free (rand);
}

static void
big_text_clear (BigText * bt)
{
  g_string_free (bt->text, TRUE);
  g_array_unref (bt->want);
  g_array_unref (bt->bad_lines);
}

/* Buffers hold spb samples (the last one fewer), with no gap */
static void
assert_buffers (const GPtrArray * buffers, guint64 total, guint spb, gint rate)
{
  guint64 off = 0;
  guint i;

  for (i = 0; i < buffers->len; i++) {
    GstBuffer *b = g_ptr_array_index (buffers, i);
    guint64 n = gst_buffer_get_size (b) / sizeof (gfloat);

    fail_unless_equals_uint64 (n, MIN (spb, total - off));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), off);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b),
        gst_util_uint64_scale_int (off, GST_SECOND, rate));
    off += n;
  }
  fail_unless_equals_uint64 (off, total);
}

typedef struct
{
  guint64 buffer_time;          /* us, at 100 kHz */
  guint spb;
} BigCase;

/* *INDENT-OFF* */
static const BigCase big_cases[] = {
  {400000, 40000},              /* many buffers to a batch */
  {12000000, 1200000},          /* a batch is one buffer */
};
/* *INDENT-ON* */

/* Values, bad rows and buffers of a text of several read windows, with
 * lines too long and almost too long across the first window's end */
GST_START_TEST (test_large_file)
{
  BigText bt;
  guint i;

  big_text_make (&bt, 20 * 1024 * 1024, 0, 16 * 1024 * 1024 - 100000,
      3 * 1024 * 1024);
  for (i = 0; i < G_N_ELEMENTS (big_cases); i++) {
    Output o = { NULL, NULL };
    guint64 bad = 0;

    GST_INFO ("%u samples per buffer", big_cases[i].spb);
    read_all (bt.text->str, bt.text->len, NULL, 100000,
        big_cases[i].buffer_time, &o, &bad);
    assert_values (o.values, bt.want, "large file");
    assert_buffers (o.buffers, bt.want->len, big_cases[i].spb, 100000);
    fail_unless_equals_uint64 (bad, 1);
    output_clear (&o);
  }
  big_text_clear (&bt);
}

GST_END_TEST;

/* The line that the element's NUL error names: that of the reader it had
 * before (1 MiB windows, refilled once no complete line is left in them,
 * failing at the refill that reads the first NUL), for a text with no line
 * too long */
static guint64
nul_error_line (const gchar * text, gsize len)
{
  gsize start = 0, end = 0;
  guint64 line = 1;

  for (;;) {
    gsize new_end = MIN (start + TEST_MAX_LINE, len);
    const gchar *nl;

    if (memchr (text + end, 0, new_end - end))
      return line;
    fail_unless (new_end > end, "no NUL");
    end = new_end;
    while ((nl = memchr (text + start, '\n', end - start))) {
      line++;
      start = nl - text + 1;
    }
  }
}

/* A NUL byte past the first read window: the error comes, with the same
 * line and after the same buffers, where the earlier reader of 1 MiB
 * windows reported it */
GST_START_TEST (test_large_nul)
{
  const gsize nul_at[] = { 17 * 1024 * 1024 + 12345, 2 * 1024 * 1024 + 7 };
  BigText bt;
  guint i;

  big_text_make (&bt, 18 * 1024 * 1024, 0, 0, 0);
  for (i = 0; i < G_N_ELEMENTS (nul_at); i++) {
    TmpFile t = { NULL, NULL };
    Output o = { NULL, NULL };
    gchar *want_dbg;
    guint64 line, values;
    gchar keep = bt.text->str[nul_at[i]];
    GstElement *src;
    Run r;

    bt.text->str[nul_at[i]] = '\0';
    line = nul_error_line (bt.text->str, bt.text->len);
    /* every line before it holds a value; the buffer it falls in never
     * leaves */
    values = line - 2;
    tmp_file_write (&t, bt.text->str, bt.text->len);
    bt.text->str[nul_at[i]] = keep;
    src = make_src (t.path, NULL, 100000);
    g_object_set (src, "buffer-time", (guint64) 400000, NULL);
    run_start (&r, src);
    harness_collect (r.h, &o);
    want_dbg = g_strdup_printf ("a NUL byte after line %" G_GUINT64_FORMAT,
        line);
    ecg_test_assert_one_error (r.bus, r.h->element, GST_STREAM_ERROR,
        GST_STREAM_ERROR_DECODE, want_dbg,
        ECG_TEST_THEN_STREAM_FAILED | ECG_TEST_HAS_IN_DEBUG, "NUL");
    fail_unless_equals_uint64 (o.values->len, values - values % 40000);
    fail_unless (memcmp (o.values->data, bt.want->data,
            o.values->len * sizeof (gfloat)) == 0);
    g_free (want_dbg);
    output_clear (&o);
    run_clear (&r);
    tmp_file_clear (&t);
  }
  big_text_clear (&bt);
}

GST_END_TEST;

/* max-errors reached far into a file read ahead: the buffers before the
 * one holding the bad row leave, then the warnings and the error */
GST_START_TEST (test_large_max_errors)
{
  BigText bt;
  TmpFile t = { NULL, NULL };
  Output o = { NULL, NULL };
  GstElement *src;
  guint64 err_line, values;
  gchar *want_dbg;
  Run r;

  big_text_make (&bt, 3 * 1024 * 1024, 30000, 0, 0);
  fail_unless (bt.bad_lines->len > 6);
  tmp_file_write (&t, bt.text->str, bt.text->len);
  src = make_src (t.path, NULL, 100000);
  g_object_set (src, "buffer-time", (guint64) 70000, "max-errors", 5, NULL);
  run_start (&r, src);
  harness_collect (r.h, &o);
  /* the sixth bad row fails: its sample's buffer of 7000 never leaves */
  err_line = g_array_index (bt.bad_lines, guint64, 5);
  values = err_line - 2;
  fail_unless_equals_uint64 (o.values->len, values - values % 7000);
  fail_unless (memcmp (o.values->data, bt.want->data,
          o.values->len * sizeof (gfloat)) == 0);
  want_dbg = g_strdup_printf ("line %" G_GUINT64_FORMAT ":", err_line);
  ecg_test_assert_one_error (r.bus, r.h->element, GST_STREAM_ERROR,
      GST_STREAM_ERROR_DECODE, want_dbg,
      ECG_TEST_THEN_STREAM_FAILED | ECG_TEST_HAS_IN_DEBUG, "max-errors");
  /* popping the error dropped the warnings before it; they are counted */
  {
    guint64 bad = 0;

    g_object_get (r.h->element, "bad-rows", &bad, NULL);
    fail_unless_equals_uint64 (bad, 6);
  }
  g_free (want_dbg);
  output_clear (&o);
  run_clear (&r);
  tmp_file_clear (&t);
  big_text_clear (&bt);
}

GST_END_TEST;

/* Stopping while the read-ahead thread waits for room, or is parsing,
 * neither hangs nor leaks */
GST_START_TEST (test_read_ahead_stop)
{
  BigText bt;
  TmpFile t = { NULL, NULL };
  guint i, round;

  big_text_make (&bt, 3 * 1024 * 1024, 0, 0, 0);
  tmp_file_write (&t, bt.text->str, bt.text->len);
  for (round = 0; round < 3; round++) {
    Run r;

    run_start (&r, make_src (t.path, NULL, 250));
    /* 250 samples a buffer: the thread soon waits for room */
    for (i = 0; i < 3 + round * 40; i++) {
      GstBuffer *b = gst_harness_pull (r.h);
      GstMapInfo map;

      fail_unless (b != NULL);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i * 250);
      gst_buffer_map (b, &map, GST_MAP_READ);
      fail_unless (memcmp (map.data, bt.want->data + i * 250 *
              sizeof (gfloat), map.size) == 0);
      gst_buffer_unmap (b, &map);
      gst_buffer_unref (b);
    }
    run_clear (&r);
  }

  tmp_file_clear (&t);
  big_text_clear (&bt);
}

GST_END_TEST;

/* ---- negotiation ---- */

GST_START_TEST (test_not_negotiated)
{
  TmpFile t = { NULL, NULL };
  GstElement *pipe;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *desc, *dbg = NULL;

  tmp_file_write (&t, "1\n2\n3\n", -1);
  /* link at 8000 Hz, then ask for 250 Hz: linking checks caps too */
  desc = g_strdup_printf ("csvecgsrc name=src location=\"%s\" rate=8000 ! "
      "capsfilter caps=audio/x-raw,rate=8000 ! fakesink", t.path);
  pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");

    g_object_set (src, "rate", 250, NULL);
    gst_object_unref (src);
  }
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, &dbg);
  /* basesrc reports the failed negotiation as a not-negotiated flow */
  fail_unless (err->domain == GST_STREAM_ERROR, "%s", err->message);
  fail_unless (dbg && strstr (dbg, "not-negotiated"), "%s", dbg);
  fail_unless_equals_string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), "src");

  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  tmp_file_clear (&t);
}

GST_END_TEST;

/* The caps carry the rate property. */
GST_START_TEST (test_caps)
{
  const gint rates[] = { 1, 250, 360, 100000 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    TmpFile t = { NULL, NULL };
    GstCaps *caps, *want;
    Output o = { NULL, NULL };
    Run r;

    tmp_file_write (&t, "1\n2\n", -1);
    run_start (&r, make_src (t.path, NULL, rates[i]));
    harness_collect (r.h, &o);
    caps = gst_pad_get_current_caps (r.h->sinkpad);
    want = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
        "F32LE", "rate", G_TYPE_INT, rates[i], "channels", G_TYPE_INT, 1,
        "layout", G_TYPE_STRING, "interleaved", NULL);
    fail_unless (caps != NULL);
    fail_unless (gst_caps_is_equal (caps, want), "%" GST_PTR_FORMAT, caps);
    gst_caps_unref (caps);
    gst_caps_unref (want);
    output_clear (&o);
    run_clear (&r);
    tmp_file_clear (&t);
  }
}

GST_END_TEST;

/* ---- state cycling ---- */

GST_START_TEST (test_state_cycles)
{
  TmpFile t = { NULL, NULL };
  GString *text = g_string_new ("MLII,V1\n");
  GstElement *src;
  GstHarness *h;
  Output ref = { NULL, NULL };
  guint i, cycle;

  for (i = 0; i < 1000; i++)
    g_string_append_printf (text, "%.3f,%u\n", cos (i / 7.0), i);
  g_string_append (text, "bad,1\n0.5,2\n");
  tmp_file_write (&t, text->str, text->len);
  src = make_src (t.path, "MLII", 250);
  g_object_set (src, "buffer-time", (guint64) 300000, NULL);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);

  for (cycle = 0; cycle < 3; cycle++) {
    Output o = { NULL, NULL };
    guint64 bad = 0;

    gst_harness_play (h);
    harness_collect (h, &o);
    g_object_get (h->element, "bad-rows", &bad, NULL);
    fail_unless_equals_uint64 (bad, 1);
    fail_unless_equals_int (o.values->len, 1002);
    if (cycle == 0) {
      ref = o;
    } else {
      fail_unless_equals_int (o.buffers->len, ref.buffers->len);
      fail_unless (memcmp (o.values->data, ref.values->data,
              o.values->len * sizeof (gfloat)) == 0);
      for (i = 0; i < o.buffers->len; i++) {
        GstBuffer *a = g_ptr_array_index (o.buffers, i);
        GstBuffer *b = g_ptr_array_index (ref.buffers, i);

        fail_unless_equals_uint64 (GST_BUFFER_PTS (a), GST_BUFFER_PTS (b));
        fail_unless_equals_uint64 (GST_BUFFER_DURATION (a),
            GST_BUFFER_DURATION (b));
        fail_unless_equals_uint64 (GST_BUFFER_OFFSET (a),
            GST_BUFFER_OFFSET (b));
        fail_unless_equals_int (GST_BUFFER_IS_DISCONT (a),
            GST_BUFFER_IS_DISCONT (b));
      }
      output_clear (&o);
    }
    ecg_test_harness_stop (h);
  }

  output_clear (&ref);
  gst_harness_teardown (h);
  tmp_file_clear (&t);
  g_string_free (text, TRUE);
}

GST_END_TEST;

/* ---- fd ---- */

typedef struct
{
  gint fd;
  const gchar *text;
  gsize len;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  ecg_test_write_all_and_close (w->fd, w->text, w->len, 1000);
  return NULL;
}

/* The fd property reads a pipe (written by a thread, in pieces larger than
 * the pipe buffer), and leaves the descriptor open. */
GST_START_TEST (test_fd_pipe)
{
  GString *text = g_string_new ("MLII,V1\n");
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  GstElement *src = gst_element_factory_make ("csvecgsrc", NULL);
  Output o = { NULL, NULL };
  GArray *want;
  GThread *thread;
  Writer w;
  Run r;
  gint fds[2];
  gint64 dur;
  guint i;

  for (i = 0; i < 20000; i++) {
    gchar *s = g_strdup_printf ("%.5f", sin (i * 0.01));

    g_string_append_printf (text, "%s,%u\n", s, i);
    g_ptr_array_add (texts, s);
  }
  g_ptr_array_add (texts, NULL);
  want = expected_values ((const gchar * const *) texts->pdata);

  fail_unless_equals_int (pipe (fds), 0);
  g_object_set (src, "fd", fds[0], "rate", 250, "column", "MLII", NULL);
  w.fd = fds[1];
  w.text = text->str;
  w.len = text->len;
  thread = g_thread_new ("writer", writer_thread, &w);
  run_start (&r, src);
  /* a pipe has no byte length */
  fail_if (gst_element_query_duration (r.h->element, GST_FORMAT_BYTES, &dur));
  harness_collect (r.h, &o);
  g_thread_join (thread);
  fail_unless (gst_bus_pop_filtered (r.bus, GST_MESSAGE_ERROR) == NULL);
  assert_values (o.values, want, "pipe");
  run_clear (&r);
  /* still open: closing it succeeds */
  fail_unless_equals_int (close (fds[0]), 0);

  output_clear (&o);
  g_array_unref (want);
  g_ptr_array_unref (texts);
  g_string_free (text, TRUE);
}

GST_END_TEST;

static Suite *
csvecgsrc_suite (void)
{
  Suite *s = suite_create ("csvecgsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_values);
  tcase_add_test (tc, test_values_random);
  tcase_add_test (tc, test_timestamps);
  tcase_add_test (tc, test_queries);
  tcase_add_test (tc, test_progressreport);
  tcase_add_test (tc, test_live_testclock);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_start_errors);
  tcase_add_test (tc, test_stream_errors);
  tcase_add_test (tc, test_bad_rows);
  tcase_add_test (tc, test_many_bad_rows);
  tcase_add_test (tc, test_huge_line);
  tcase_add_test (tc, test_huge_header);
  tcase_add_test (tc, test_not_negotiated);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_fd_pipe);
  tcase_add_test (tc, test_large_file);
  tcase_add_test (tc, test_large_nul);
  tcase_add_test (tc, test_large_max_errors);
  tcase_add_test (tc, test_read_ahead_stop);
  return s;
}

GST_CHECK_MAIN (csvecgsrc);

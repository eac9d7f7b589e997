/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of latentsink on score records made by hand: the CSV and JSON-lines
 * tables, the ecg-summary messages (per interval and at EOS), the PNG plot
 * and its refresh, bounded memory over a long stream, state changes, and
 * one negative test per error the element can report (docs/elements.md).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#if defined (__has_include)
#if __has_include (<json-glib/json-glib.h>)
#include <json-glib/json-glib.h>
#define HAVE_JSON_GLIB 1
#endif
#endif

#include "ecggsttest.h"

#define RATE 250
#define D 2
#define REC ECG_SCORE_RECORD_FLOATS (D)
#define ROW_LEN 256
#define SCORES_CAPS ECG_SCORES_CAPS_NAME ", format=(string)F32LE, " \
    "latent-dims=(int)2, rate=(int)250"

/* ---- input ---- */

/* A stream of scored beats: records and beat records side by side */
typedef struct
{
  GArray *recs;                 /* gfloat, REC per beat */
  GArray *beats;                /* EcgBeat */
} Stream;

static void
stream_init (Stream * s)
{
  s->recs = g_array_new (FALSE, FALSE, sizeof (gfloat));
  s->beats = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
}

static void
stream_clear (Stream * s)
{
  g_array_unref (s->recs);
  g_array_unref (s->beats);
}

/* Appends a beat starting @rr samples after the previous R peak's beat
 * start (@rr 0: unknown, 200 samples later), flagged outlier if asked */
static void
stream_add (Stream * s, guint64 rr, gboolean outlier)
{
  guint i = s->beats->len;
  const EcgBeat *prev = i ? &g_array_index (s->beats, EcgBeat, i - 1) : NULL;
  EcgBeat b = { 0, };
  gfloat r[REC];

  b.start = prev ? prev->start + (rr ? rr : 200) : 100;
  b.length = rr ? rr : 200;
  b.rpeak = b.start + 50;
  b.rr = rr;
  b.flags = 0;
  g_array_append_val (s->beats, b);
  r[0] = sinf (i * 0.37f);
  r[1] = 0.5f * cosf (i * 0.11f);
  r[2] = -1.0f - 0.001f * (i % 1000);
  r[3] = -2.5f;
  r[ECG_SCORE_ERROR (D)] = 0.001f * (1 + i % 17);
  r[ECG_SCORE_SCORE (D)] = outlier ? 9.0f + 0.25f * (i % 8) : 0.3f * (i % 13);
  r[ECG_SCORE_OUTLIER (D)] = outlier ? 1.0f : 0.0f;
  g_array_append_vals (s->recs, r, REC);
}

/* A records buffer of beats [i, i + k) of @s, with the beat meta, and the
 * rows as parent buffer if @rows */
static GstBuffer *
make_buffer (const Stream * s, guint i, guint k, GstBuffer * rows)
{
  GstBuffer *buf = gst_buffer_new_memdup (&g_array_index (s->recs, gfloat,
          (gsize) i * REC), (gsize) k * REC * sizeof (gfloat));

  ecg_test_add_beats (buf, &g_array_index (s->beats, EcgBeat, i), k);
  if (rows)
    gst_buffer_add_parent_buffer_meta (buf, rows);
  return buf;
}

/* @k rows of a beat shape */
static GstBuffer *
make_rows (guint k)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL,
      (gsize) k * ROW_LEN * sizeof (gfloat), NULL);
  GstMapInfo map;
  guint i, j;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < k; i++)
    for (j = 0; j < ROW_LEN; j++)
      ((gfloat *) map.data)[i * ROW_LEN + j] =
          expf (-(j - 60.0f) * (j - 60.0f) / (20.0f + i));
  gst_buffer_unmap (buf, &map);
  return buf;
}

typedef struct
{
  const gchar *location;
  const gchar *plot;
  gdouble plot_interval;
  gdouble summary_interval;
} Props;

typedef struct
{
  GstHarness *h;
  GstBus *bus;
} Run;

static void
run_start (Run * r, const Props * p)
{
  GstElement *el = gst_element_factory_make ("latentsink", NULL);

  fail_unless (el != NULL);
  g_object_set (el, "location", p->location, "plot-location", p->plot,
      "plot-interval", p->plot_interval, "summary-interval",
      p->summary_interval, NULL);
  r->h = gst_harness_new_with_element (el, "sink", NULL);
  gst_object_unref (el);
  r->bus = ecg_test_attach_bus (r->h);
  gst_harness_set_src_caps_str (r->h, SCORES_CAPS);
}

static void
run_clear (Run * r)
{
  ecg_test_teardown (r->h, r->bus);
}

/* Pushes beats [from, to) of @s in buffers of @per_buffer, with rows */
static void
push_range (Run * r, const Stream * s, guint from, guint to, guint per_buffer)
{
  guint i;

  for (i = from; i < to; i += per_buffer) {
    guint k = MIN (per_buffer, to - i);
    GstBuffer *rows = make_rows (k);

    fail_unless_equals_int (gst_harness_push (r->h, make_buffer (s, i, k,
                rows)), GST_FLOW_OK);
    gst_buffer_unref (rows);
  }
}

/* ---- messages ---- */

typedef struct
{
  guint beats, outliers, gaps;
  gdouble heart_rate;
  guint64 total_beats, total_outliers, stream_time;
} Summary;

/* The ecg-summary messages on @bus, in order; errors fail; @eos (out,
 * nullable): an EOS message came, after every summary */
static GArray *
pop_summaries (GstBus * bus, gboolean * eos)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Summary));
  GstMessage *msg;

  if (eos)
    *eos = FALSE;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      fail ("error on the bus: %s", err->message);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS && eos)
      *eos = TRUE;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_message_has_name (msg, "ecg-summary")) {
      const GstStructure *st = gst_message_get_structure (msg);
      Summary s;

      fail_if (eos && *eos, "summary after EOS");
      fail_unless_equals_int (gst_structure_n_fields (st), 7);
      fail_unless (gst_structure_get_uint (st, "beats", &s.beats));
      fail_unless (gst_structure_get_uint (st, "outliers", &s.outliers));
      fail_unless (gst_structure_get_uint (st, "gaps", &s.gaps));
      fail_unless (gst_structure_get_double (st, "heart-rate", &s.heart_rate));
      fail_unless (gst_structure_get_uint64 (st, "total-beats",
              &s.total_beats));
      fail_unless (gst_structure_get_uint64 (st, "total-outliers",
              &s.total_outliers));
      fail_unless (gst_structure_get_uint64 (st, "stream-time",
              &s.stream_time));
      g_array_append_val (a, s);
    }
    gst_message_unref (msg);
  }
  return a;
}

/* The summaries the documentation promises for @s: interval k holds the
 * beats starting in [k, k + 1) intervals; then one for the rest at EOS,
 * ending at the last beat's end. */
static GArray *
expected_summaries (const Stream * s, gdouble interval_s)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Summary));
  GstClockTime iv = (GstClockTime) (interval_s * GST_SECOND);
  GstClockTime next = iv > 0 ? iv : GST_CLOCK_TIME_NONE, t = 0;
  Summary cur = { 0, };
  gdouble rr_sum = 0;
  guint rr_n = 0, i;

  for (i = 0; i < s->beats->len; i++) {
    const EcgBeat *b = &g_array_index (s->beats, EcgBeat, i);
    gboolean outlier = g_array_index (s->recs, gfloat,
        i * REC + ECG_SCORE_OUTLIER (D)) != 0.0f;

    t = gst_util_uint64_scale_int (b->start, GST_SECOND, RATE);
    while (t >= next) {
      cur.heart_rate = rr_n ? 60.0 / (rr_sum / rr_n) : 0.0;
      cur.stream_time = next;
      g_array_append_val (a, cur);
      cur.beats = cur.outliers = cur.gaps = 0;
      rr_sum = 0;
      rr_n = 0;
      next += iv;
    }
    cur.beats++;
    cur.total_beats++;
    cur.outliers += outlier;
    cur.total_outliers += outlier;
    if (b->rr > 2 * RATE) {
      cur.gaps++;
    } else if (b->rr > 0) {
      rr_sum += (gdouble) b->rr / RATE;
      rr_n++;
    }
  }
  cur.heart_rate = rr_n ? 60.0 / (rr_sum / rr_n) : 0.0;
  cur.stream_time = t;
  if (s->beats->len > 0) {
    const EcgBeat *b = &g_array_index (s->beats, EcgBeat, s->beats->len - 1);

    cur.stream_time = gst_util_uint64_scale_int (b->start + b->length,
        GST_SECOND, RATE);
  }
  g_array_append_val (a, cur);
  return a;
}

static void
assert_summaries (const GArray * got, const GArray * want)
{
  guint i;

  fail_unless_equals_int (got->len, want->len);
  for (i = 0; i < want->len; i++) {
    const Summary *a = &g_array_index (got, Summary, i);
    const Summary *b = &g_array_index (want, Summary, i);

    GST_INFO ("summary %u: %u beats, %u outliers, %u gaps, %.3f bpm, "
        "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ", %" GST_TIME_FORMAT, i,
        a->beats, a->outliers, a->gaps, a->heart_rate, a->total_beats,
        a->total_outliers, GST_TIME_ARGS (a->stream_time));
    fail_unless_equals_int (a->beats, b->beats);
    fail_unless_equals_int (a->outliers, b->outliers);
    fail_unless_equals_int (a->gaps, b->gaps);
    fail_unless (fabs (a->heart_rate - b->heart_rate) <= 1e-9 *
        b->heart_rate, "summary %u: heart rate %.12g, expected %.12g", i,
        a->heart_rate, b->heart_rate);
    fail_unless_equals_uint64 (a->total_beats, b->total_beats);
    fail_unless_equals_uint64 (a->total_outliers, b->total_outliers);
    fail_unless_equals_uint64 (a->stream_time, b->stream_time);
  }
}

/* ---- the table ---- */

static gdouble
parse_num (const gchar * text)
{
  gchar *end;
  gdouble v = g_ascii_strtod (text, &end);

  fail_unless (end != text && *end == '\0', "not a number: \"%s\"", text);
  return v;
}

/* value written with %.7g against the float it came from */
static void
assert_num (gdouble got, gdouble want, const gchar * what, guint line)
{
  if (isnan (want)) {
    fail_unless (isnan (got), "line %u %s: %g, expected NaN", line, what, got);
    return;
  }
  fail_unless (fabs (got - want) <= 1e-6 * fabs (want) + 1e-12,
      "line %u %s: %.9g, expected %.9g", line, what, got, want);
}

static void
assert_csv (const gchar * text, const Stream * s)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines), i, f;

  /* header, one line per beat, and the empty string after the last \n */
  fail_unless_equals_int (n, s->beats->len + 2);
  fail_unless_equals_string (lines[0], "time,rpeak_time,rr,mu0,mu1,logvar0,"
      "logvar1,recon_error,score,outlier");
  fail_unless_equals_string (lines[n - 1], "");
  for (i = 0; i < s->beats->len; i++) {
    const EcgBeat *b = &g_array_index (s->beats, EcgBeat, i);
    const gfloat *r = &g_array_index (s->recs, gfloat, i * REC);
    gchar **fields = g_strsplit (lines[i + 1], ",", -1);

    fail_unless_equals_int (g_strv_length (fields), 3 + REC);
    assert_num (parse_num (fields[0]), (gdouble) b->start / RATE, "time", i);
    assert_num (parse_num (fields[1]), (gdouble) b->rpeak / RATE,
        "rpeak_time", i);
    assert_num (parse_num (fields[2]), (gdouble) b->rr / RATE, "rr", i);
    for (f = 0; f < REC - 1; f++)
      assert_num (parse_num (fields[3 + f]), r[f], "record", i);
    fail_unless_equals_string (fields[3 + REC - 1],
        r[ECG_SCORE_OUTLIER (D)] != 0.0f ? "1" : "0");
    g_strfreev (fields);
  }
  g_strfreev (lines);
}

#ifdef HAVE_JSON_GLIB
static gdouble
json_num (JsonNode * node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return NAN;
  fail_unless (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_double (node);
}
#endif

static void
assert_json_lines (const gchar * text, const Stream * s)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines), i;

  fail_unless_equals_int (n, s->beats->len + 1);
  fail_unless_equals_string (lines[n - 1], "");
  for (i = 0; i < s->beats->len; i++) {
    const EcgBeat *b = &g_array_index (s->beats, EcgBeat, i);
    const gfloat *r = &g_array_index (s->recs, gfloat, i * REC);
    gboolean outlier = r[ECG_SCORE_OUTLIER (D)] != 0.0f;
#ifdef HAVE_JSON_GLIB
    JsonParser *parser = json_parser_new ();
    GError *err = NULL;
    JsonObject *o;
    JsonArray *mu, *lv;
    guint d;

    fail_unless (json_parser_load_from_data (parser, lines[i], -1, &err),
        "line %u is not JSON: %s: %s", i, err ? err->message : "", lines[i]);
    fail_unless (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
    o = json_node_get_object (json_parser_get_root (parser));
    fail_unless_equals_int (json_object_get_size (o), 8);
    assert_num (json_num (json_object_get_member (o, "time")),
        (gdouble) b->start / RATE, "time", i);
    assert_num (json_num (json_object_get_member (o, "rpeak_time")),
        (gdouble) b->rpeak / RATE, "rpeak_time", i);
    assert_num (json_num (json_object_get_member (o, "rr")),
        (gdouble) b->rr / RATE, "rr", i);
    mu = json_object_get_array_member (o, "mu");
    lv = json_object_get_array_member (o, "logvar");
    fail_unless (mu && lv);
    fail_unless_equals_int (json_array_get_length (mu), D);
    fail_unless_equals_int (json_array_get_length (lv), D);
    for (d = 0; d < D; d++) {
      assert_num (json_num (json_array_get_element (mu, d)), r[d], "mu", i);
      assert_num (json_num (json_array_get_element (lv, d)), r[D + d],
          "logvar", i);
    }
    assert_num (json_num (json_object_get_member (o, "recon_error")),
        r[ECG_SCORE_ERROR (D)], "recon_error", i);
    assert_num (json_num (json_object_get_member (o, "score")),
        r[ECG_SCORE_SCORE (D)], "score", i);
    fail_unless (json_object_get_boolean_member (o, "outlier") == outlier);
    g_object_unref (parser);
#else
    const gchar *keys[] = { "\"time\": ", "\"rpeak_time\": ", "\"rr\": ",
      "\"mu\": [", "\"logvar\": [", "\"recon_error\": ", "\"score\": ",
      "\"outlier\": "
    };
    const gchar *p = lines[i];
    guint k;

    (void) b;
    fail_unless (g_str_has_prefix (p, "{") && g_str_has_suffix (p, "}"));
    for (k = 0; k < G_N_ELEMENTS (keys); k++) {
      p = strstr (p, keys[k]);
      fail_unless (p != NULL, "line %u lacks %s", i, keys[k]);
    }
    fail_unless (strstr (lines[i], outlier ? "\"outlier\": true" :
            "\"outlier\": false"));
    fail_if (strstr (lines[i], "nan") || strstr (lines[i], "inf"));
#endif
  }
  g_strfreev (lines);
}

typedef struct
{
  const gchar *name;
  gboolean json;
} TableCase;

/* *INDENT-OFF* */
static const TableCase table_cases[] = {
  {"beats.csv", FALSE},
  {"beats.txt", FALSE},
  {"beats.jsonl", TRUE},
  {"beats.json", TRUE},
  {"beats.ndjson", TRUE},
};
/* *INDENT-ON* */

/* One row per beat with time = start / rate, R-peak time and RR in
 * seconds, then the record; a NaN score (a beat vaescore could not score)
 * is "nan" in CSV and null in JSON. */
GST_START_TEST (test_table)
{
  guint i, b;

  for (i = 0; i < G_N_ELEMENTS (table_cases); i++) {
    const TableCase *c = &table_cases[i];
    Props p = { NULL, NULL, 0.0, 0.0 };
    gchar *path, *text = NULL;
    Stream s;
    EcgTestTmpDir t;
    Run r;

    GST_INFO ("case %s", c->name);
    ecg_test_tmp_dir_init (&t);
    path = ecg_test_tmp_dir_file (&t, c->name);
    p.location = path;
    stream_init (&s);
    for (b = 0; b < 23; b++)
      stream_add (&s, b == 0 ? 0 : 150 + 10 * (b % 7), b % 6 == 5);
    g_array_index (s.recs, gfloat, 9 * REC + ECG_SCORE_SCORE (D)) = NAN;
    run_start (&r, &p);
    push_range (&r, &s, 0, 23, 5);
    fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
    fail_unless (g_file_get_contents (path, &text, NULL, NULL));
    if (c->json)
      assert_json_lines (text, &s);
    else
      assert_csv (text, &s);
    g_free (text);
    run_clear (&r);
    stream_clear (&s);
    g_free (path);
    ecg_test_tmp_dir_clear (&t);
  }
}

GST_END_TEST;

/* ---- summaries ---- */

typedef struct
{
  const gchar *name;
  gdouble interval;
  guint per_buffer;
} SummaryCase;

/* *INDENT-OFF* */
static const SummaryCase summary_cases[] = {
  {"every 10 s, 5 beats a buffer", 10.0, 5},
  {"every 10 s, 1 beat a buffer", 10.0, 1},
  {"every 2.5 s, 64 beats a buffer", 2.5, 64},
  {"at EOS only", 0.0, 16},
};
/* *INDENT-ON* */

/* ~75 s at 75 bpm with premature beats, outliers, a 3 s pause (a gap) and
 * a 25 s one (a gap, and a 10 s interval with no beat at all). */
static void
summary_stream (Stream * s)
{
  guint i;

  stream_add (s, 0, FALSE);
  for (i = 1; i < 60; i++) {
    guint64 rr = i == 20 ? 750 : i == 40 ? 6250 : i % 9 == 0 ? 130 : 200;

    stream_add (s, rr, i % 9 == 0 || i == 33);
  }
}

GST_START_TEST (test_summary)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (summary_cases); i++) {
    const SummaryCase *c = &summary_cases[i];
    Props p = { NULL, NULL, 0.0, c->interval };
    GArray *got, *want;
    gboolean eos;
    Stream s;
    Run r;

    GST_INFO ("case %s", c->name);
    stream_init (&s);
    summary_stream (&s);
    run_start (&r, &p);
    push_range (&r, &s, 0, s.beats->len, c->per_buffer);
    fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
    got = pop_summaries (r.bus, &eos);
    fail_unless (eos);
    want = expected_summaries (&s, c->interval);
    if (c->interval == 10.0) {
      /* the stream is what this test means it to be: [40, 50) s empty */
      fail_unless_equals_int (want->len, 8);
      fail_unless_equals_int (g_array_index (want, Summary, 4).beats, 0);
      fail_unless_equals_int (g_array_index (want, Summary, 5).gaps, 1);
    }
    assert_summaries (got, want);
    g_array_unref (got);
    g_array_unref (want);
    run_clear (&r);
    stream_clear (&s);
  }
}

GST_END_TEST;

/* EOS with no beat: one summary of nothing */
GST_START_TEST (test_eos_no_beats)
{
  Props p = { NULL, NULL, 0.0, 10.0 };
  GArray *got;
  gboolean eos;
  Summary *s;
  Run r;

  run_start (&r, &p);
  fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
  got = pop_summaries (r.bus, &eos);
  fail_unless (eos);
  fail_unless_equals_int (got->len, 1);
  s = &g_array_index (got, Summary, 0);
  fail_unless_equals_int (s->beats, 0);
  fail_unless_equals_uint64 (s->total_beats, 0);
  fail_unless_equals_float (s->heart_rate, 0.0);
  g_array_unref (got);
  run_clear (&r);
}

GST_END_TEST;

/* ---- plot ---- */

/* The first beat starting at or after @sec seconds */
static guint
index_at (const Stream * s, gdouble sec)
{
  guint i;

  for (i = 0; i < s->beats->len; i++)
    if (g_array_index (s->beats, EcgBeat, i).start >= sec * RATE)
      break;
  return i;
}

/* The plot is written at EOS, and every plot-interval of stream time
 * before that (when a buffer's last beat reaches the next multiple). */
GST_START_TEST (test_plot)
{
  /* *INDENT-OFF* */
  const struct { gdouble from, to; gboolean plot; } steps[] = {
    {0, 5, FALSE}, {5, 9, TRUE}, {9, 10, FALSE}, {10, 14, TRUE},
    {14, 15, FALSE},
  };
  /* *INDENT-ON* */
  guint cycle;

  for (cycle = 0; cycle < 2; cycle++) {
    gdouble interval = cycle ? 0.0 : 5.0;
    Props p = { NULL, NULL, interval, 0.0 };
    gchar *png;
    Stream s;
    EcgTestTmpDir t;
    Run r;
    guint i;

    ecg_test_tmp_dir_init (&t);
    png = ecg_test_tmp_dir_file (&t, "latent.png");
    p.plot = png;
    stream_init (&s);
    /* beats start at 0.4 s + 0.8 s i */
    for (i = 0; i < 40; i++)
      stream_add (&s, i ? 200 : 0, i % 10 == 4);
    run_start (&r, &p);
    for (i = 0; i < G_N_ELEMENTS (steps); i++) {
      push_range (&r, &s, index_at (&s, steps[i].from), index_at (&s,
              steps[i].to), 4);
      if (steps[i].plot && interval > 0) {
        ecg_test_assert_png (png, 1200, 700);
        fail_unless_equals_int (g_unlink (png), 0);
      } else {
        fail_if (g_file_test (png, G_FILE_TEST_EXISTS),
            "plot at %g s", steps[i].to);
      }
    }
    fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
    ecg_test_assert_png (png, 1200, 700);
    run_clear (&r);
    stream_clear (&s);
    g_free (png);
    ecg_test_tmp_dir_clear (&t);
  }
}

GST_END_TEST;

/* ---- state cycling ---- */

/* Each run rewrites the table (one header, its own rows) and counts its
 * own beats. */
GST_START_TEST (test_state_cycles)
{
  Props p = { NULL, NULL, 0.0, 0.0 };
  gchar *path, *first = NULL;
  Stream s;
  EcgTestTmpDir t;
  Run r;
  guint cycle, i;

  ecg_test_tmp_dir_init (&t);
  path = ecg_test_tmp_dir_file (&t, "beats.csv");
  p.location = path;
  stream_init (&s);
  for (i = 0; i < 30; i++)
    stream_add (&s, i ? 190 : 0, i % 7 == 3);
  run_start (&r, &p);
  for (cycle = 0; cycle < 3; cycle++) {
    gchar *text = NULL;
    GArray *got;
    gboolean eos;

    if (cycle > 0)
      ecg_test_harness_restart (r.h, SCORES_CAPS);
    push_range (&r, &s, 0, s.beats->len, 4 + cycle);
    fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
    got = pop_summaries (r.bus, &eos);
    fail_unless (eos);
    fail_unless_equals_int (got->len, 1);
    fail_unless_equals_uint64 (g_array_index (got, Summary, 0).total_beats,
        s.beats->len);
    g_array_unref (got);
    /* the file is closed (and complete) once stopped */
    fail_unless_equals_int (gst_element_set_state (r.h->element,
            GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    fail_unless (g_file_get_contents (path, &text, NULL, NULL));
    assert_csv (text, &s);
    if (!first)
      first = text;
    else {
      fail_unless_equals_string (text, first);
      g_free (text);
    }
  }
  g_free (first);
  run_clear (&r);
  stream_clear (&s);
  g_free (path);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* ---- bounded memory ---- */

/* 200 000 beats (44 hours at 75 bpm; 30 000 under valgrind), 1 %
 * outliers, with rows, a table, a plot at EOS and summaries: after the
 * scatter's sample fills up (20 000 beats) neither the heap nor the
 * resident set grows. */
GST_START_TEST (test_bounded_memory)
{
  const guint n = ecg_test_under_valgrind ()? 30000 : 200000, per = 500;
  Props p = { NULL, NULL, 0.0, 3600.0 };
  gchar *table, *png;
  GstBuffer *rows = make_rows (per);
  EcgTestMemory mem0 = { 0, 0 };
  GArray *got;
  gboolean eos;
  Stream s;
  EcgTestTmpDir t;
  Run r;
  guint i, j;

  ecg_test_tmp_dir_init (&t);
  table = ecg_test_tmp_dir_file (&t, "beats.csv");
  png = ecg_test_tmp_dir_file (&t, "latent.png");
  p.location = table;
  p.plot = png;
  run_start (&r, &p);
  stream_init (&s);
  for (i = 0; i < per; i++)
    stream_add (&s, i ? 200 : 0, i % 100 == 42);
  for (i = 0; i < n; i += per) {
    GstBuffer *buf = make_buffer (&s, 0, per, rows);
    EcgBeatMeta *m = ecg_buffer_get_beat_meta (buf);

    /* the same records, moved on in time */
    for (j = 0; j < per; j++) {
      m->beats[j].start += 200 * (guint64) i;
      m->beats[j].rpeak += 200 * (guint64) i;
      if (i > 0 && j == 0)
        m->beats[j].rr = 200;
    }
    fail_unless_equals_int (gst_harness_push (r.h, buf), GST_FLOW_OK);
    if (i == 40000 || (ecg_test_under_valgrind () && i == 20000))
      ecg_test_memory_mark (&mem0);
  }
  ecg_test_assert_memory_bounded (&mem0, 1024 * 1024, 4 * 1024 * 1024);
  fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
  got = pop_summaries (r.bus, &eos);
  fail_unless (eos);
  fail_unless (got->len > 0);
  fail_unless_equals_uint64 (g_array_index (got, Summary,
          got->len - 1).total_beats, n);
  fail_unless_equals_uint64 (g_array_index (got, Summary,
          got->len - 1).total_outliers, n / 100);
  ecg_test_assert_png (png, 1200, 700);
  g_array_unref (got);
  run_clear (&r);
  gst_buffer_unref (rows);
  stream_clear (&s);
  g_free (table);
  g_free (png);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* ---- errors ---- */

/* A location that cannot be opened for writing (a directory, or in a
 * missing folder): RESOURCE OPEN_WRITE when it starts */
GST_START_TEST (test_unwritable_location)
{
  guint i;

  for (i = 0; i < 2; i++) {
    Props p = { NULL, NULL, 0.0, 0.0 };
    gchar *bad;
    EcgTestTmpDir t;
    Run r;

    ecg_test_tmp_dir_init (&t);
    bad = i ? ecg_test_tmp_dir_file (&t, "no-such-folder/beats.csv") :
        g_strdup (t.dir);
    run_start (&r, &p);
    ecg_test_harness_stop (r.h);
    g_object_set (r.h->element, "location", bad, NULL);
    fail_unless_equals_int (gst_element_set_state (r.h->element,
            GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ecg_test_assert_one_error (r.bus, r.h->element, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_WRITE, NULL, ECG_TEST_THEN_STATE_CHANGE, bad);
    run_clear (&r);
    g_free (bad);
    ecg_test_tmp_dir_clear (&t);
  }
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  guint records;
  gint meta_beats;              /* -1: no meta */
  gsize extra_bytes;
} BadBufferCase;

/* *INDENT-OFF* */
static const BadBufferCase bad_buffer_cases[] = {
  {"3 records, meta of 2", 3, 2, 0},
  {"2 records, meta of 3", 2, 3, 0},
  {"no meta", 2, -1, 0},
  {"2 records and a float", 2, 2, sizeof (gfloat)},
};
/* *INDENT-ON* */

GST_START_TEST (test_bad_buffers)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad_buffer_cases); i++) {
    const BadBufferCase *c = &bad_buffer_cases[i];
    Props p = { NULL, NULL, 0.0, 0.0 };
    gsize size = c->records * REC * sizeof (gfloat) + c->extra_bytes;
    GstBuffer *buf;
    Stream s;
    Run r;
    guint b;

    GST_INFO ("case %s", c->name);
    stream_init (&s);
    for (b = 0; b < 4; b++)
      stream_add (&s, b ? 200 : 0, FALSE);
    run_start (&r, &p);
    buf = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_fill (buf, 0, s.recs->data, size);
    if (c->meta_beats >= 0)
      ecg_test_add_beats (buf, (EcgBeat *) s.beats->data, c->meta_beats);
    fail_unless_equals_int (gst_harness_push (r.h, buf), GST_FLOW_ERROR);
    ecg_test_assert_one_error (r.bus, r.h->element, GST_STREAM_ERROR,
        GST_STREAM_ERROR_FORMAT, NULL, ECG_TEST_THEN_STATE_CHANGE, c->name);
    run_clear (&r);
    stream_clear (&s);
  }
}

GST_END_TEST;

static Suite *
latentsink_suite (void)
{
  Suite *s = suite_create ("latentsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, NULL, ecg_test_release_font_caches);
  tcase_add_test (tc, test_table);
  tcase_add_test (tc, test_summary);
  tcase_add_test (tc, test_eos_no_beats);
  tcase_add_test (tc, test_plot);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_bounded_memory);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_bad_buffers);
  return s;
}

GST_CHECK_MAIN (latentsink);

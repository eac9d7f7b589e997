/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of beatembed with gate metas made by hand: rows and beat records,
 * flags and pruning, the tail beat, batching and max-latency, caps,
 * resets, state changes and bounded memory over two hours of signal; and
 * the rickerconv ! nmsgate ! beatembed chain against the seed rule.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/audio/audio.h>

#include "ecggsttest.h"
#include "ricker.h"

/* ---- input ---- */

/* A two-channel buffer of samples [off, off + n) of @x (channel 1 is -x),
 * with the gates whose index in @gates lies in [g0, g1). */
static GstBuffer *
make_buffer (const gfloat * x, gsize n, guint64 off, gint rate,
    const EcgGate * gates, guint n_gates, gboolean discont)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 2 * n * sizeof (gfloat),
      NULL);
  GstAudioInfo info;
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < n; i++) {
    ((gfloat *) map.data)[i] = x[i];
    ((gfloat *) map.data)[n + i] = -x[i];
  }
  gst_buffer_unmap (buf, &map);
  gst_audio_info_set_format (&info, GST_AUDIO_FORMAT_F32LE, rate, 2, NULL);
  GST_AUDIO_INFO_LAYOUT (&info) = GST_AUDIO_LAYOUT_NON_INTERLEAVED;
  if (n)
    gst_buffer_add_audio_meta (buf, &info, n, NULL);
  ecg_test_add_gates (buf, gates, n_gates);
  GST_BUFFER_OFFSET (buf) = off;
  GST_BUFFER_OFFSET_END (buf) = off + n;
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (off, GST_SECOND, rate);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (off + n,
      GST_SECOND, rate) - GST_BUFFER_PTS (buf);
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  return buf;
}

static gchar *
caps_string (gint rate)
{
  return g_strdup_printf ("audio/x-raw, format=F32LE, rate=%d, channels=2, "
      "layout=non-interleaved", rate);
}

typedef struct
{
  guint length;
  gdouble min_ms;
  gdouble max_ms;
  gboolean prune;
  guint batch;
  gdouble max_latency_ms;
} Props;

static GstHarness *
make_harness (const Props * p, gint rate)
{
  GstElement *el = gst_element_factory_make ("beatembed", NULL);
  GstHarness *h;
  gchar *caps;

  fail_unless (el != NULL);
  g_object_set (el, "length", p->length, "min-length", p->min_ms,
      "max-length", p->max_ms, "prune", p->prune, "beats-per-buffer",
      p->batch, "max-latency", p->max_latency_ms, NULL);
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  caps = caps_string (rate);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* ---- output ---- */

typedef struct
{
  GArray *rows;                 /* gfloat, row after row */
  GArray *beats;                /* EcgBeat */
  GArray *per_buffer;           /* guint: rows in each output buffer */
  guint64 next_offset;
} Out;

static void
out_init (Out * o)
{
  o->rows = g_array_new (FALSE, FALSE, sizeof (gfloat));
  o->beats = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
  o->per_buffer = g_array_new (FALSE, FALSE, sizeof (guint));
  o->next_offset = 0;
}

static void
out_clear (Out * o)
{
  g_array_unref (o->rows);
  g_array_unref (o->beats);
  g_array_unref (o->per_buffer);
}

/* Takes every output buffer; checks each against its meta: one record per
 * row, OFFSET counting beats, PTS at the first beat's start. */
static guint
drain (GstHarness * h, Out * o, gint rate, guint row_len)
{
  GstBuffer *buf;
  guint got = 0;

  while ((buf = gst_harness_try_pull (h))) {
    EcgBeatMeta *m = ecg_buffer_get_beat_meta (buf);
    GstMapInfo map;
    guint rows;

    fail_unless (m != NULL, "output without beat meta");
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    rows = map.size / (row_len * sizeof (gfloat));
    fail_unless_equals_int (map.size, rows * row_len * sizeof (gfloat));
    fail_unless_equals_int (m->n_beats, rows);
    fail_unless (rows > 0);
    g_array_append_vals (o->rows, map.data, rows * row_len);
    g_array_append_vals (o->beats, m->beats, rows);
    g_array_append_val (o->per_buffer, rows);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), o->next_offset);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf),
        o->next_offset + rows);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale_int (m->beats[0].start, GST_SECOND, rate));
    o->next_offset += rows;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    got += rows;
  }
  return got;
}

/* Pushes @x in buffers of @block samples; each gate rides on the buffer
 * where the stream reaches gate + @delay samples (a detector's look-ahead),
 * or on the last one.  Then EOS if @eos. */
static void
push_signal (GstHarness * h, const gfloat * x, gsize n, guint64 t0,
    gint rate, const EcgGate * gates, guint n_gates, gsize block,
    guint64 delay, gboolean eos, Out * o, guint row_len)
{
  gsize off;
  guint g = 0;

  for (off = 0; off < n; off += block) {
    gsize len = MIN (block, n - off);
    guint g1 = g;

    while (g1 < n_gates && (gates[g1].gate + delay <= t0 + off + len ||
            off + len == n))
      g1++;
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x + off, len,
                t0 + off, rate, gates + g, g1 - g, off == 0)), GST_FLOW_OK);
    g = g1;
    if (o)
      drain (h, o, rate, row_len);
  }
  if (eos) {
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    if (o)
      drain (h, o, rate, row_len);
  }
}

/* ---- expected beats ---- */

/* The beats the seed's definition gives: gate i to gate i+1, the last to
 * the end of the data (TAIL), flagged against min/max (samples) and the
 * row length, pruned if asked. */
static GArray *
expected_beats (const EcgGate * gates, guint n_gates, guint64 end,
    guint64 min_len, guint64 max_len, guint row_len, gboolean prune)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
  guint i;

  for (i = 0; i < n_gates; i++) {
    EcgBeat b = { 0, };
    guint64 stop = i + 1 < n_gates ? gates[i + 1].gate : end;

    b.start = gates[i].gate;
    b.length = stop - b.start;
    b.rpeak = gates[i].rpeak;
    b.rr = i > 0 ? gates[i].rpeak - gates[i - 1].rpeak : 0;
    if (i + 1 == n_gates)
      b.flags |= ECG_BEAT_FLAG_TAIL;
    if (b.length < min_len)
      b.flags |= ECG_BEAT_FLAG_SHORT;
    if (b.length > max_len)
      b.flags |= ECG_BEAT_FLAG_LONG;
    if (b.length > row_len)
      b.flags |= ECG_BEAT_FLAG_TRUNCATED;
    if (b.length == 0)
      continue;
    if (prune && (b.flags & (ECG_BEAT_FLAG_SHORT | ECG_BEAT_FLAG_LONG |
                ECG_BEAT_FLAG_TAIL)))
      continue;
    g_array_append_val (a, b);
  }
  return a;
}

/* Beat records equal, and each row is x[start ...] zero-padded. */
static void
assert_beats (const Out * o, const GArray * want, const gfloat * x,
    guint64 t0, guint row_len, const gchar * what)
{
  guint i, j;

  fail_unless_equals_int (o->beats->len, want->len);
  for (i = 0; i < want->len; i++) {
    const EcgBeat *a = &g_array_index (o->beats, EcgBeat, i);
    const EcgBeat *b = &g_array_index (want, EcgBeat, i);
    const gfloat *row = &g_array_index (o->rows, gfloat, (gsize) i * row_len);
    gfloat *exp_row = g_new0 (gfloat, row_len);

    fail_unless (a->start == b->start && a->length == b->length &&
        a->rpeak == b->rpeak && a->rr == b->rr && a->flags == b->flags,
        "%s: beat %u is {%" G_GUINT64_FORMAT ", %u, %" G_GUINT64_FORMAT
        ", %" G_GUINT64_FORMAT ", 0x%x}, expected {%" G_GUINT64_FORMAT
        ", %u, %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ", 0x%x}", what, i,
        a->start, a->length, a->rpeak, a->rr, a->flags, b->start, b->length,
        b->rpeak, b->rr, b->flags);
    for (j = 0; j < MIN (b->length, row_len); j++)
      exp_row[j] = x[b->start - t0 + j];
    fail_unless (ecg_test_compare_floats (row, exp_row, row_len, 0.0, 0.0,
            what) < 0, "%s: row %u", what, i);
    g_free (exp_row);
  }
}

static gfloat *
ramp (gsize n)
{
  gfloat *x = g_new (gfloat, n);
  gsize i;

  /* distinct values, exact in float */
  for (i = 0; i < n; i++)
    x[i] = (gfloat) i + 0.5f;
  return x;
}

/* At 1000 Hz a millisecond is a sample: rows of 64, beats 40..100. */
#define RATE 1000
static const Props base_props = { 64, 40.0, 100.0, FALSE, 64, 3600000.0 };

/* *INDENT-OFF* */
static const EcgGate hand_gates[] = {
  {10, 15},                     /* 50: regular */
  {60, 70},                     /* 140: LONG, TRUNCATED */
  {200, 220},                   /* 30: SHORT */
  {230, 231},                   /* 70: TRUNCATED only */
  {300, 330},                   /* tail of 100: TAIL, TRUNCATED */
};
/* *INDENT-ON* */

typedef struct
{
  const gchar *name;
  gboolean prune;
  gsize block;
  guint64 delay;
} RowCase;

/* *INDENT-OFF* */
static const RowCase row_cases[] = {
  {"flagged, gates on time", FALSE, 50, 0},
  {"flagged, gates 150 samples late", FALSE, 25, 150},
  {"flagged, one buffer", FALSE, 400, 0},
  {"flagged, 1-sample buffers", FALSE, 1, 3},
  {"pruned", TRUE, 50, 0},
  {"pruned, gates late", TRUE, 7, 120},
};
/* *INDENT-ON* */

GST_START_TEST (test_rows)
{
  const gsize n = 400;
  gfloat *x = ramp (n);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (row_cases); i++) {
    const RowCase *c = &row_cases[i];
    Props p = base_props;
    GstHarness *h;
    GArray *want;
    Out o;

    GST_INFO ("case %s", c->name);
    p.prune = c->prune;
    h = make_harness (&p, RATE);
    out_init (&o);
    push_signal (h, x, n, 0, RATE, hand_gates, G_N_ELEMENTS (hand_gates),
        c->block, c->delay, TRUE, &o, p.length);
    want = expected_beats (hand_gates, G_N_ELEMENTS (hand_gates), n, 40, 100,
        p.length, c->prune);
    fail_unless_equals_int (want->len, c->prune ? 2 : 5);
    assert_beats (&o, want, x, 0, p.length, c->name);
    if (!c->prune) {
      /* nothing lost: the beats tile the signal from the first gate */
      const EcgBeat *last = &g_array_index (o.beats, EcgBeat, 4);

      fail_unless_equals_uint64 (last->start + last->length, n);
      fail_unless (last->flags & ECG_BEAT_FLAG_TAIL);
    }
    g_array_unref (want);
    out_clear (&o);
    gst_harness_teardown (h);
  }
  g_free (x);
}

GST_END_TEST;

/* The gate metas of an empty buffer count (nmsgate's end-of-stream
 * decisions arrive that way): a gate there closes the open beat, and a
 * gate at the very end opens nothing. */
GST_START_TEST (test_gates_on_empty_buffer)
{
  const gsize n = 300;
  gfloat *x = ramp (n);
  const EcgGate first[] = { {20, 25} };
  const EcgGate late[] = { {120, 130}, {300, 310} };
  Props p = base_props;
  GstHarness *h = make_harness (&p, RATE);
  GArray *want;
  Out o;
  const EcgGate all[] = { {20, 25}, {120, 130}, {300, 310} };

  out_init (&o);
  push_signal (h, x, n, 0, RATE, first, 1, 100, 0, FALSE, &o, p.length);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (NULL, 0, n,
              RATE, late, 2, FALSE)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  drain (h, &o, RATE, p.length);
  /* 20..120 (100 samples), 120..300 (180: LONG, TRUNCATED); the gate at
   * 300 gives a tail of length 0, which is no beat */
  want = expected_beats (all, 3, n, 40, 100, p.length, FALSE);
  fail_unless_equals_int (want->len, 2);
  /* the second beat was closed by a gate, not by the end */
  g_array_index (want, EcgBeat, 1).flags &= ~ECG_BEAT_FLAG_TAIL;
  assert_beats (&o, want, x, 0, p.length, "empty buffer");

  g_array_unref (want);
  out_clear (&o);
  gst_harness_teardown (h);
  g_free (x);
}

GST_END_TEST;

/* ---- batching ---- */

typedef struct
{
  guint batch;
  guint sizes[6];               /* rows per output buffer, 0-terminated */
} BatchCase;

/* *INDENT-OFF* */
static const BatchCase batch_cases[] = {
  {1, {1, 1, 1, 1, 1}},
  {2, {2, 2, 1}},
  {3, {3, 2}},
  {5, {5}},
  {64, {5}},
};
/* *INDENT-ON* */

GST_START_TEST (test_beats_per_buffer)
{
  const gsize n = 400;
  gfloat *x = ramp (n);
  guint i, j;

  for (i = 0; i < G_N_ELEMENTS (batch_cases); i++) {
    const BatchCase *c = &batch_cases[i];
    Props p = base_props;
    GstHarness *h;
    Out o;

    p.batch = c->batch;
    h = make_harness (&p, RATE);
    out_init (&o);
    push_signal (h, x, n, 0, RATE, hand_gates, G_N_ELEMENTS (hand_gates), 50,
        0, TRUE, &o, p.length);
    for (j = 0; c->sizes[j]; j++) {
      fail_unless (j < o.per_buffer->len);
      fail_unless_equals_int (g_array_index (o.per_buffer, guint, j),
          c->sizes[j]);
    }
    fail_unless_equals_int (o.per_buffer->len, j);
    out_clear (&o);
    gst_harness_teardown (h);
  }
  g_free (x);
}

GST_END_TEST;

/* A finished beat waits at most max-latency (stream time) for its batch:
 * beat 10..60 leaves when the signal reaches 60 + 100. */
GST_START_TEST (test_max_latency)
{
  const gsize n = 400;
  gfloat *x = ramp (n);
  const EcgGate gates[] = { {10, 15}, {60, 65} };
  Props p = base_props;
  GstHarness *h;
  gsize off;
  Out o;

  p.max_latency_ms = 100.0;
  h = make_harness (&p, RATE);
  out_init (&o);
  for (off = 0; off < n; off += 10) {
    guint n_g = off == 60 ? 2 : 0;

    fail_unless_equals_int (gst_harness_push (h, make_buffer (x + off, 10,
                off, RATE, gates, n_g, off == 0)), GST_FLOW_OK);
    if (off + 10 < 160) {
      fail_unless_equals_int (drain (h, &o, RATE, p.length), 0);
    } else if (off + 10 == 160) {
      fail_unless_equals_int (drain (h, &o, RATE, p.length), 1);
    }
  }
  fail_unless_equals_int (o.beats->len, 1);
  fail_unless_equals_uint64 (g_array_index (o.beats, EcgBeat, 0).start, 10);
  /* the open beat 60..400 is the tail */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (drain (h, &o, RATE, p.length), 1);

  out_clear (&o);
  gst_harness_teardown (h);
  g_free (x);
}

GST_END_TEST;

/* ---- caps and latency ---- */

GST_START_TEST (test_caps)
{
  const gint rates[] = { 250, 360, 1000 };
  const guint lengths[] = { 1, 256, 512 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    Props p = base_props;
    GstHarness *h;
    GstCaps *caps, *want;
    gfloat x[16] = { 0 };

    p.length = lengths[i];
    p.min_ms = 0.0;
    h = make_harness (&p, rates[i]);
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 16, 0,
                rates[i], NULL, 0, TRUE)), GST_FLOW_OK);
    caps = gst_pad_get_current_caps (h->sinkpad);
    want = gst_caps_new_simple (ECG_BEATS_CAPS_NAME, "format", G_TYPE_STRING,
        "F32LE", "length", G_TYPE_INT, (gint) lengths[i], "rate", G_TYPE_INT,
        rates[i], NULL);
    fail_unless (caps && gst_caps_is_equal (caps, want), "%" GST_PTR_FORMAT,
        caps);
    gst_caps_unref (caps);
    gst_caps_unref (want);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  gdouble min_ms;
  gdouble max_ms;
  guint length;
  const gchar *sink_caps;       /* what downstream takes, or NULL */
} NegoCase;

/* *INDENT-OFF* */
static const NegoCase nego_cases[] = {
  {"min-length > max-length", 500.0, 100.0, 64, NULL},
  {"downstream wants another length", 40.0, 100.0, 64,
      ECG_BEATS_CAPS_NAME ", length=(int)128"},
  {"downstream wants another rate", 40.0, 100.0, 64,
      ECG_BEATS_CAPS_NAME ", rate=(int)250"},
};
/* *INDENT-ON* */

GST_START_TEST (test_not_negotiated)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (nego_cases); i++) {
    const NegoCase *c = &nego_cases[i];
    Props p = base_props;
    GstElement *el = gst_element_factory_make ("beatembed", NULL);
    GstHarness *h;
    gfloat x[16] = { 0 };
    gchar *caps = caps_string (RATE);

    GST_INFO ("case %s", c->name);
    p.min_ms = c->min_ms;
    p.max_ms = c->max_ms;
    p.length = c->length;
    g_object_set (el, "length", p.length, "min-length", p.min_ms,
        "max-length", p.max_ms, NULL);
    h = gst_harness_new_with_element (el, "sink", "src");
    gst_object_unref (el);
    if (c->sink_caps)
      gst_harness_set_sink_caps_str (h, c->sink_caps);
    gst_harness_set_src_caps_str (h, caps);
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 16, 0, RATE,
                NULL, 0, TRUE)), GST_FLOW_NOT_NEGOTIATED);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    g_free (caps);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstElement *el = gst_element_factory_make ("beatembed", NULL);
  GstHarness *h;
  gfloat x[16] = { 0 };
  gchar *caps = caps_string (250);

  /* defaults at 250 Hz: a beat ends at most 1024 ms (256 samples) after
   * its gate and then waits at most 1000 ms (250 samples) */
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  gst_harness_set_src_caps_str (h, caps);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 16, 0, 250,
              NULL, 0, TRUE)), GST_FLOW_OK);
  gst_harness_set_upstream_latency (h, 30 * GST_MSECOND);
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      30 * GST_MSECOND + gst_util_uint64_scale_int (506, GST_SECOND, 250));
  g_free (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- buffers longer than the ring ---- */

/* beatembed keeps ten seconds of signal; a buffer of 35 s (and gates that
 * arrive with it, some late) must still give every beat, with the rows
 * equal to the signal. */
GST_START_TEST (test_long_buffers)
{
  const gsize n = 35 * RATE + 500;
  const gsize blocks[] = { n, 12 * RATE, 10 * RATE + 7 };
  gfloat *x = ramp (n);
  guint n_gates = 0, k;
  EcgGate *gates = g_new (EcgGate, n / 50);
  GArray *want;
  gsize i;

  for (i = 30; i + 80 < n; i += 57 + (i % 7) * 3) {
    gates[n_gates].gate = i;
    gates[n_gates].rpeak = i + 10;
    n_gates++;
  }
  want = expected_beats (gates, n_gates, n, 40, 100, 64, FALSE);
  for (k = 0; k < G_N_ELEMENTS (blocks); k++) {
    Props p = base_props;
    GstHarness *h = make_harness (&p, RATE);
    Out o;

    out_init (&o);
    /* gates 1.5 s late, as a detector's look-ahead makes them */
    push_signal (h, x, n, 0, RATE, gates, n_gates, blocks[k], 1500, TRUE, &o,
        p.length);
    assert_beats (&o, want, x, 0, p.length, "long buffers");
    out_clear (&o);
    gst_harness_teardown (h);
  }
  g_array_unref (want);
  g_free (gates);
  g_free (x);
}

GST_END_TEST;

/* A beat longer than the ring (and than the CUDA path's spare room of
 * 2^20 samples) between regular ones, finished beats that wait in the
 * batch while more than a ring of signal goes by, and buffers larger than
 * that spare room: every row still equals the signal. */
GST_START_TEST (test_long_beat)
{
  const gsize long_end = 1103000, n = long_end + 7500;
  const gsize blocks[] = { n, 50000, 7919 };
  gfloat *x = ramp (n);
  guint n_gates = 0, k;
  EcgGate *gates = g_new (EcgGate, 300);
  GArray *want;
  gsize i;

  for (i = 30; i <= 3000; i += 57 + (i % 7) * 3) {
    gates[n_gates].gate = i;
    gates[n_gates].rpeak = i + 10;
    n_gates++;
  }
  for (i = long_end; i + 80 < n; i += 57 + (i % 7) * 3) {
    gates[n_gates].gate = i;
    gates[n_gates].rpeak = i + 10;
    n_gates++;
  }
  want = expected_beats (gates, n_gates, n, 40, 100, 64, FALSE);
  for (k = 0; k < G_N_ELEMENTS (blocks); k++) {
    Props p = base_props;
    GstHarness *h = make_harness (&p, RATE);
    Out o;

    out_init (&o);
    push_signal (h, x, n, 0, RATE, gates, n_gates, blocks[k], 1500, TRUE, &o,
        p.length);
    assert_beats (&o, want, x, 0, p.length, "long beat");
    out_clear (&o);
    gst_harness_teardown (h);
  }
  g_array_unref (want);
  g_free (gates);
  g_free (x);
}

GST_END_TEST;

/* ---- resets ---- */

/* After a flush the open beat and unsent rows are gone; after a DISCONT to
 * a new position the open beat is closed as a TAIL beat.  What follows
 * equals a fresh element's output. */
GST_START_TEST (test_reset)
{
  const gsize n = 400;
  gfloat *x = ramp (n);
  const EcgGate ga[] = { {10, 15}, {60, 65}, {110, 120} };
  const EcgGate gb[] = { {5000, 5010}, {5070, 5080}, {5150, 5155} };
  guint flush;

  for (flush = 0; flush < 2; flush++) {
    Props p = base_props;
    GstHarness *h, *fresh;
    Out o, of;

    h = make_harness (&p, RATE);
    fresh = make_harness (&p, RATE);
    out_init (&o);
    out_init (&of);
    /* A: two finished beats held in the batch, one open */
    push_signal (h, x, 200, 0, RATE, ga, 3, 50, 0, FALSE, &o, p.length);
    fail_unless_equals_int (o.beats->len, 0);
    if (flush) {
      GstSegment seg;

      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    }
    /* B at sample 4900, first buffer flagged DISCONT */
    push_signal (h, x, 400, 4900, RATE, gb, 3, 50, 0, TRUE, NULL, p.length);
    drain (h, &o, RATE, p.length);
    push_signal (fresh, x, 400, 4900, RATE, gb, 3, 50, 0, TRUE, &of, p.length);
    fail_unless_equals_int (of.beats->len, 3);
    if (flush) {
      /* the flush dropped A's rows */
      fail_unless_equals_int (o.beats->len, 3);
      assert_beats (&o, of.beats, x, 4900, p.length, "after flush");
    } else {
      /* DISCONT: A's finished beats are kept (sent first), and its open
       * beat ends where A's samples did, as a TAIL beat */
      GArray *tail;
      const EcgBeat *open;

      fail_unless_equals_int (o.beats->len, 6);
      fail_unless_equals_uint64 (g_array_index (o.beats, EcgBeat, 0).start, 10);
      fail_unless_equals_uint64 (g_array_index (o.beats, EcgBeat, 1).start, 60);
      open = &g_array_index (o.beats, EcgBeat, 2);
      fail_unless_equals_uint64 (open->start, 110);
      fail_unless_equals_int (open->length, 200 - 110);
      fail_unless (open->flags & ECG_BEAT_FLAG_TAIL);
      g_array_remove_range (o.beats, 0, 3);
      g_array_remove_range (o.rows, 0, 3 * p.length);
      tail = of.beats;
      assert_beats (&o, tail, x, 4900, p.length, "after DISCONT");
    }
    out_clear (&o);
    out_clear (&of);
    gst_harness_teardown (h);
    gst_harness_teardown (fresh);
  }
  g_free (x);
}

GST_END_TEST;

/* The stream starts over at sample 0 while A's finished beats wait in the
 * batch: after a DISCONT back to 0 (A's open beat ends as a TAIL beat), or
 * after a new STREAM_START (A's open beat is forgotten).  A's rows keep A's
 * samples, B's rows are B's. */
GST_START_TEST (test_restart_at_zero)
{
  const gsize n = 300;
  gfloat *x = ramp (n), *y = g_new (gfloat, n);
  const EcgGate ga[] = { {10, 15}, {60, 65}, {110, 120} };
  const EcgGate gb[] = { {20, 25}, {90, 95}, {150, 160} };
  guint restart, i;

  for (i = 0; i < n; i++)
    y[i] = -x[i];
  for (restart = 0; restart < 2; restart++) {
    Props p = base_props;
    GstHarness *h = make_harness (&p, RATE);
    GArray *want_a, *want_b;
    Out o, ob;

    out_init (&o);
    push_signal (h, x, n, 0, RATE, ga, 3, 50, 0, FALSE, &o, p.length);
    fail_unless_equals_int (o.beats->len, 0);
    want_a = expected_beats (ga, 3, n, 40, 100, p.length, FALSE);
    if (restart) {
      GstSegment seg;

      fail_unless (gst_harness_push_event (h,
              gst_event_new_stream_start ("b")));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
      g_array_remove_index (want_a, 2);
    }
    push_signal (h, y, n, 0, RATE, gb, 3, 50, 0, TRUE, &o, p.length);
    want_b = expected_beats (gb, 3, n, 40, 100, p.length, FALSE);
    fail_unless_equals_int (o.beats->len, want_a->len + want_b->len);
    out_init (&ob);
    g_array_append_vals (ob.beats, &g_array_index (o.beats, EcgBeat,
            want_a->len), want_b->len);
    g_array_append_vals (ob.rows, &g_array_index (o.rows, gfloat,
            want_a->len * p.length), want_b->len * p.length);
    g_array_set_size (o.beats, want_a->len);
    g_array_set_size (o.rows, want_a->len * p.length);
    assert_beats (&o, want_a, x, 0, p.length, "before the restart");
    assert_beats (&ob, want_b, y, 0, p.length, "after the restart");
    out_clear (&o);
    out_clear (&ob);

    gst_harness_teardown (h);
    g_array_unref (want_a);
    g_array_unref (want_b);
  }
  g_free (x);
  g_free (y);
}

GST_END_TEST;

/* ---- state cycling ---- */

GST_START_TEST (test_state_cycles)
{
  const gsize n = 400;
  gfloat *x = ramp (n);
  Props p = base_props;
  GstHarness *h = make_harness (&p, RATE);
  GArray *want;
  gchar *caps = caps_string (RATE);
  guint cycle;

  want = expected_beats (hand_gates, G_N_ELEMENTS (hand_gates), n, 40, 100,
      p.length, FALSE);
  for (cycle = 0; cycle < 3; cycle++) {
    Out o;

    if (cycle > 0)
      ecg_test_harness_restart (h, caps);
    out_init (&o);
    push_signal (h, x, n, 0, RATE, hand_gates, G_N_ELEMENTS (hand_gates),
        30 + cycle * 20, 40, TRUE, &o, p.length);
    assert_beats (&o, want, x, 0, p.length, "cycle");
    out_clear (&o);
  }
  g_array_unref (want);
  g_free (caps);
  gst_harness_teardown (h);
  g_free (x);
}

GST_END_TEST;

/* ---- bounded memory ---- */

/* Two hours at 250 Hz in 1 s buffers, a gate every 200 samples, output
 * drained as it comes: every beat leaves within max-latency, and neither
 * the heap nor the resident set grows. */
GST_START_TEST (test_bounded_memory)
{
  const guint seconds = 2 * 3600, rate = 250, period = 200;
  gfloat *x = g_new (gfloat, rate);
  GstElement *el = gst_element_factory_make ("beatembed", NULL);
  GstHarness *h;
  gchar *caps = caps_string (rate);
  guint64 next_gate = 37, beats = 0;
  EcgTestMemory mem0 = { 0, 0 };
  guint s, i;

  for (i = 0; i < rate; i++)
    x[i] = sinf (i * 0.1f);
  /* one beat per buffer, each at once: the batch never holds rows */
  g_object_set (el, "beats-per-buffer", 1, NULL);
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  gst_harness_set_src_caps_str (h, caps);

  for (s = 0; s < seconds; s++) {
    guint64 off = (guint64) s * rate;
    EcgGate g[2];
    guint n_g = 0;
    GstBuffer *buf;

    while (next_gate < off + rate) {
      g[n_g].gate = next_gate;
      g[n_g].rpeak = next_gate + 90;
      n_g++;
      next_gate += period;
    }
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x, rate, off,
                rate, g, n_g, s == 0)), GST_FLOW_OK);
    while ((buf = gst_harness_try_pull (h))) {
      EcgBeatMeta *m = ecg_buffer_get_beat_meta (buf);

      fail_unless (m != NULL && m->n_beats == 1);
      fail_unless_equals_uint64 (m->beats[0].length, period);
      beats++;
      gst_buffer_unref (buf);
    }
    /* every gate but the last has closed a beat, and it is out */
    fail_unless_equals_uint64 (beats, (next_gate - 37) / period - 1);
    if (s == 600)
      ecg_test_memory_mark (&mem0);
  }
  /* 2 h of input is 14 MB, of rows 9 MB: growth would show */
  ecg_test_assert_memory_bounded (&mem0, 2 * 1024 * 1024, 4 * 1024 * 1024);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  g_free (caps);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- the chain ---- */

/* rickerconv ! nmsgate threshold=0 ! beatembed prune=true: the rows are
 * the raw signal between consecutive seed gates (computed here by brute
 * force), kept when 100..256 samples long (the seed's selection). */
GST_START_TEST (test_chain_seed)
{
  GstHarness *h = gst_harness_new_parse ("rickerconv ! nmsgate threshold=0 "
      "! beatembed prune=true beats-per-buffer=7");
  const gsize n = 30 * 250;
  const gint win = 180, c = 90;
  gfloat *x = g_new (gfloat, n), *y = g_new (gfloat, n);
  gfloat hist[29] = { 0 };
  gdouble w[30];
  GArray *gates = g_array_new (FALSE, FALSE, sizeof (EcgGate));
  GArray *want;
  GRand *rand = g_rand_new_with_seed (77);
  gboolean prev = FALSE;
  gsize i, p, off;
  Out o;

  /* beats every 150..290 samples, so some fall outside 100..256 */
  {
    gsize next = 60;

    for (i = 0; i < n; i++) {
      gdouble d = (gdouble) i - (gdouble) next;

      x[i] = (gfloat) (exp (-d * d / 8.0) +
          g_rand_double_range (rand, -0.02, 0.02));
      if (i >= next + 40)
        next += g_rand_int_range (rand, 150, 290);
    }
  }
  ricker_wavelet_ref (w, 30);
  ricker_conv_f32_ref (w, 30, hist, x, y, n);
  for (p = 0; p + win <= n; p++) {
    gfloat mx = y[p];
    gboolean cand;

    for (i = 1; i < (gsize) win; i++)
      mx = MAX (mx, y[p + i]);
    cand = mx == y[p + c];
    if (cand && !prev) {
      EcgGate g = { p, p + c - 15 };

      g_array_append_val (gates, g);
    }
    prev = cand;
  }
  want = expected_beats ((EcgGate *) gates->data, gates->len, n, 100, 256,
      256, TRUE);
  fail_unless (want->len > 10);
  fail_unless (want->len < gates->len - 1);

  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, rate=250, "
      "channels=1, layout=interleaved");
  out_init (&o);
  for (off = 0; off < n; off += 100) {
    GstBuffer *buf = gst_buffer_new_memdup (x + off,
        MIN (100, n - off) * sizeof (gfloat));

    GST_BUFFER_OFFSET (buf) = off;
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (off, GST_SECOND, 250);
    if (off == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    drain (h, &o, 250, 256);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  drain (h, &o, 250, 256);
  assert_beats (&o, want, x, 0, 256, "chain");

  out_clear (&o);
  g_array_unref (want);
  g_array_unref (gates);
  g_rand_free (rand);
  g_free (x);
  g_free (y);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
beatembed_suite (void)
{
  Suite *s = suite_create ("beatembed");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_rows);
  tcase_add_test (tc, test_gates_on_empty_buffer);
  tcase_add_test (tc, test_beats_per_buffer);
  tcase_add_test (tc, test_max_latency);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_not_negotiated);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_reset);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_bounded_memory);
  tcase_add_test (tc, test_long_buffers);
  tcase_add_test (tc, test_long_beat);
  tcase_add_test (tc, test_restart_at_zero);
  tcase_add_test (tc, test_chain_seed);
  return s;
}

GST_CHECK_MAIN (beatembed);

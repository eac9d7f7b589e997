/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of rickerconv: the impulse response against ricker_wavelet_ref (),
 * sample counts, block-size independence, resets, latency, negotiation and
 * state changes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/audio/audio.h>

#include "ecggsttest.h"
#include "ricker.h"

#define IN_CAPS_FMT \
  "audio/x-raw, format=F32LE, rate=%d, channels=1, layout=interleaved"

/* A harness around a rickerconv with the given width (ms; <= 0: default),
 * negotiated at @rate. */
static GstHarness *
make_harness (gint rate, gdouble width)
{
  GstElement *el = gst_element_factory_make ("rickerconv", NULL);
  GstHarness *h;
  gchar *caps;

  fail_unless (el != NULL);
  if (width > 0)
    g_object_set (el, "width", width, NULL);
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  caps = g_strdup_printf (IN_CAPS_FMT, rate);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

static GstBuffer *
make_buffer (const gfloat * x, gsize n, guint64 offset, gint rate,
    gboolean discont)
{
  GstBuffer *buf = gst_buffer_new_memdup (x, n * sizeof (gfloat));

  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + n;
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (offset, GST_SECOND, rate);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (offset + n,
      GST_SECOND, rate) - GST_BUFFER_PTS (buf);
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  return buf;
}

/* Appends the two planes of @buf, checked against its audio meta, to @sig
 * and @resp; returns the number of samples. */
static gsize
append_output (GstBuffer * buf, GArray * sig, GArray * resp)
{
  GstAudioMeta *meta = gst_buffer_get_audio_meta (buf);
  GstAudioBuffer abuf;
  gsize n;

  fail_unless (meta != NULL, "output without GstAudioMeta");
  fail_unless_equals_int (GST_AUDIO_INFO_CHANNELS (&meta->info), 2);
  fail_unless_equals_int (GST_AUDIO_INFO_LAYOUT (&meta->info),
      GST_AUDIO_LAYOUT_NON_INTERLEAVED);
  fail_unless_equals_int (meta->samples * 2 * sizeof (gfloat),
      gst_buffer_get_size (buf));
  fail_unless (gst_audio_buffer_map (&abuf, &meta->info, buf, GST_MAP_READ));
  n = abuf.n_samples;
  fail_unless_equals_int (n, meta->samples);
  g_array_append_vals (sig, abuf.planes[0], n);
  g_array_append_vals (resp, abuf.planes[1], n);
  gst_audio_buffer_unmap (&abuf);
  return n;
}

/* Pulls every buffer waiting on the harness. */
static gsize
drain_output (GstHarness * h, GArray * sig, GArray * resp)
{
  GstBuffer *buf;
  gsize n = 0;

  while ((buf = gst_harness_try_pull (h))) {
    n += append_output (buf, sig, resp);
    gst_buffer_unref (buf);
  }
  return n;
}

static GArray *
float_array (void)
{
  return g_array_new (FALSE, TRUE, sizeof (gfloat));
}

/* The direct convolution, in double, for cross-checks. */
static void
convolve (const gdouble * w, gint taps, const gfloat * x, gsize n, gfloat * y)
{
  gsize i;
  gint k;

  for (i = 0; i < n; i++) {
    gdouble acc = 0.0;

    for (k = 0; k < taps && (gsize) k <= i; k++)
      acc += w[k] * x[i - k];
    y[i] = (gfloat) acc;
  }
}

static gfloat *
random_signal (GRand * rand, gsize n)
{
  gfloat *x = g_new (gfloat, n);
  gsize i;

  for (i = 0; i < n; i++)
    x[i] = (gfloat) g_rand_double_range (rand, -2.0, 2.0);
  return x;
}

/* Pushes @x in blocks of random size (1..@max_block), or in one block if
 * @max_block is 0, the first flagged DISCONT, then EOS; returns the
 * response. */
static GArray *
filter_signal (GstHarness * h, const gfloat * x, gsize n, gint rate,
    guint max_block, GRand * rand, GArray * sig)
{
  GArray *resp = float_array ();
  gsize off = 0;

  while (off < n) {
    gsize len = max_block ? (gsize) g_rand_int_range (rand, 1,
        max_block + 1) : n;

    len = MIN (len, n - off);
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x + off, len,
                off, rate, off == 0)), GST_FLOW_OK);
    off += len;
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  drain_output (h, sig, resp);
  return resp;
}

/* ---- impulse response ---- */

typedef struct
{
  gint rate;
  gdouble width;                /* ms */
  gint taps;                    /* round (width * rate / 1000) */
} TapCase;

/* *INDENT-OFF* */
static const TapCase tap_cases[] = {
  {250, 120.0, 30},             /* the seed */
  {360, 120.0, 43},
  {250, 40.0, 10},
  {1000, 10.0, 10},
  {250, 8.0, 2},
  {500, 2000.0, 1000},
};
/* *INDENT-ON* */

GST_START_TEST (test_impulse)
{
  guint c;

  for (c = 0; c < G_N_ELEMENTS (tap_cases); c++) {
    const TapCase *tc = &tap_cases[c];
    const gsize shift = 7;
    gsize n = tc->taps + shift + 50, i;
    GstHarness *h = make_harness (tc->rate, tc->width);
    gfloat *x = g_new0 (gfloat, n);
    gfloat *want = g_new0 (gfloat, n);
    gdouble *w = g_new (gdouble, tc->taps);
    GArray *sig = float_array (), *resp = float_array ();
    gchar *what = g_strdup_printf ("%d Hz, %.0f ms", tc->rate, tc->width);

    GST_INFO ("case %s", what);
    fail_unless_equals_int (ricker_taps (tc->rate, tc->width / 1000.0),
        tc->taps);
    ricker_wavelet_ref (w, tc->taps);
    /* the wavelet itself: 2 exp(-t^2/2)(1-t^2)/sqrt(W), t in [-3, 3] */
    for (i = 0; i < (gsize) tc->taps; i++) {
      gdouble t = -3.0 + 6.0 * i / (tc->taps - 1);

      fail_unless (fabs (w[i] - 2.0 * exp (-t * t / 2) * (1 - t * t) /
              sqrt (tc->taps)) < 1e-12, "%s: tap %u", what, (guint) i);
    }

    /* an impulse at `shift`: the wavelet from there on, no latency */
    x[shift] = 1.0f;
    for (i = 0; i < (gsize) tc->taps; i++)
      want[shift + i] = (gfloat) w[i];
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x, n, 0,
                tc->rate, TRUE)), GST_FLOW_OK);
    fail_unless_equals_int (drain_output (h, sig, resp), n);
    fail_unless (ecg_test_compare_floats ((float *) sig->data, x, n, 0.0,
            0.0, what) < 0, "%s: channel 0 is not the input", what);
    fail_unless (ecg_test_compare_floats ((float *) resp->data, want, n,
            1e-7, 1e-6, what) < 0, "%s: channel 1 is not the wavelet", what);
    /* exactly `taps` taps: zero after the last one */
    for (i = shift + tc->taps; i < n; i++)
      fail_unless (g_array_index (resp, gfloat, i) == 0.0f,
          "%s: response at %u", what, (guint) i);

    g_free (what);
    g_array_unref (sig);
    g_array_unref (resp);
    g_free (w);
    g_free (want);
    g_free (x);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Output samples equal input samples after EOS, and the response equals the
 * direct convolution, for random block sizes. */
GST_START_TEST (test_sample_count)
{
  const guint max_blocks[] = { 1, 7, 100, 513, 4000 };
  GRand *rand = g_rand_new_with_seed (42);
  gdouble w[30];
  guint c;

  ricker_wavelet_ref (w, 30);
  for (c = 0; c < G_N_ELEMENTS (max_blocks); c++) {
    gsize n = 1000 + g_rand_int_range (rand, 0, 3000);
    gfloat *x = random_signal (rand, n);
    gfloat *want = g_new (gfloat, n);
    GstHarness *h = make_harness (250, 0);
    GArray *sig = float_array (), *resp;

    resp = filter_signal (h, x, n, 250, max_blocks[c], rand, sig);
    fail_unless_equals_int (resp->len, n);
    fail_unless_equals_int (sig->len, n);
    fail_unless (memcmp (sig->data, x, n * sizeof (gfloat)) == 0);
    convolve (w, 30, x, n, want);
    fail_unless (ecg_test_compare_floats ((float *) resp->data, want, n,
            1e-6, 1e-6, "random blocks") < 0);

    g_array_unref (sig);
    g_array_unref (resp);
    g_free (want);
    g_free (x);
    gst_harness_teardown (h);
  }
  g_rand_free (rand);
}

GST_END_TEST;

/* One big buffer or many small ones: the same bits. */
GST_START_TEST (test_block_size_independence)
{
  GRand *rand = g_rand_new_with_seed (7);
  gsize n = 5000;
  gfloat *x = random_signal (rand, n);
  GstHarness *h1 = make_harness (360, 0), *h2 = make_harness (360, 0);
  GArray *s1 = float_array (), *s2 = float_array (), *r1, *r2;

  r1 = filter_signal (h1, x, n, 360, 0, rand, s1);
  r2 = filter_signal (h2, x, n, 360, 37, rand, s2);
  fail_unless_equals_int (r1->len, n);
  fail_unless_equals_int (r2->len, n);
  fail_unless (ecg_test_compare_floats ((float *) r2->data,
          (float *) r1->data, n, 0.0, 0.0, "block sizes") < 0);

  g_array_unref (s1);
  g_array_unref (s2);
  g_array_unref (r1);
  g_array_unref (r2);
  gst_harness_teardown (h1);
  gst_harness_teardown (h2);
  g_free (x);
  g_rand_free (rand);
}

GST_END_TEST;

/* ---- resets ---- */

typedef enum
{
  RESET_DISCONT,
  RESET_FLUSH,
} ResetKind;

/* After signal A and a DISCONT (or a flush), signal B gives what a fresh
 * element gives for B. */
GST_START_TEST (test_reset)
{
  const ResetKind kinds[] = { RESET_DISCONT, RESET_FLUSH };
  GRand *rand = g_rand_new_with_seed (99);
  gsize na = 300, nb = 200;
  gfloat *a = random_signal (rand, na), *b = random_signal (rand, nb);
  guint k;

  for (k = 0; k < G_N_ELEMENTS (kinds); k++) {
    GstHarness *h = make_harness (250, 0), *fresh = make_harness (250, 0);
    GArray *sig = float_array (), *resp = float_array ();
    GArray *fsig = float_array (), *fresp = float_array ();
    gboolean discont = kinds[k] == RESET_DISCONT;

    fail_unless_equals_int (gst_harness_push (h, make_buffer (a, na, 0, 250,
                TRUE)), GST_FLOW_OK);
    drain_output (h, sig, resp);
    if (!discont) {
      GstSegment seg;

      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    }
    g_array_set_size (sig, 0);
    g_array_set_size (resp, 0);
    /* B continues the timeline: only the flag or the flush resets */
    fail_unless_equals_int (gst_harness_push (h, make_buffer (b, nb, na, 250,
                discont)), GST_FLOW_OK);
    drain_output (h, sig, resp);

    fail_unless_equals_int (gst_harness_push (fresh, make_buffer (b, nb, 0,
                250, TRUE)), GST_FLOW_OK);
    drain_output (fresh, fsig, fresp);
    fail_unless_equals_int (resp->len, nb);
    fail_unless (ecg_test_compare_floats ((float *) resp->data,
            (float *) fresp->data, nb, 0.0, 0.0,
            discont ? "after DISCONT" : "after flush") < 0);

    g_array_unref (sig);
    g_array_unref (resp);
    g_array_unref (fsig);
    g_array_unref (fresp);
    gst_harness_teardown (h);
    gst_harness_teardown (fresh);
  }

  g_free (a);
  g_free (b);
  g_rand_free (rand);
}

GST_END_TEST;

/* Without DISCONT the history carries on: B's response depends on A. */
GST_START_TEST (test_history_kept)
{
  GRand *rand = g_rand_new_with_seed (5);
  gsize n = 400;
  gfloat *x = random_signal (rand, n);
  gfloat *want = g_new (gfloat, n);
  GstHarness *h = make_harness (250, 0);
  GArray *sig = float_array (), *resp = float_array ();
  gdouble w[30];

  ricker_wavelet_ref (w, 30);
  convolve (w, 30, x, n, want);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 100, 0, 250,
              TRUE)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (x + 100, 300,
              100, 250, FALSE)), GST_FLOW_OK);
  drain_output (h, sig, resp);
  fail_unless (ecg_test_compare_floats ((float *) resp->data, want, n, 1e-6,
          1e-6, "two buffers") < 0);

  g_array_unref (sig);
  g_array_unref (resp);
  gst_harness_teardown (h);
  g_free (want);
  g_free (x);
  g_rand_free (rand);
}

GST_END_TEST;

/* ---- latency, caps, properties ---- */

GST_START_TEST (test_latency)
{
  const GstClockTime upstream[] = { 0, 10 * GST_MSECOND, GST_SECOND };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (upstream); i++) {
    GstHarness *h = make_harness (250, 0);

    gst_harness_set_upstream_latency (h, upstream[i]);
    /* causal filter: nothing added */
    fail_unless_equals_uint64 (gst_harness_query_latency (h), upstream[i]);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h = make_harness (360, 0);
  gfloat x[4] = { 1, 2, 3, 4 };
  GstCaps *caps, *want;

  fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 4, 0, 360,
              TRUE)), GST_FLOW_OK);
  caps = gst_pad_get_current_caps (h->sinkpad);
  want = gst_caps_from_string ("audio/x-raw, format=F32LE, rate=360, "
      "channels=2, layout=non-interleaved");
  fail_unless (caps && gst_caps_is_equal (caps, want), "%" GST_PTR_FORMAT,
      caps);
  gst_caps_unref (caps);
  gst_caps_unref (want);
  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  gint rate;
  gdouble width;
} BadWidthCase;

/* *INDENT-OFF* */
static const BadWidthCase bad_width_cases[] = {
  {250, 1.0},                   /* 0.25 taps */
  {1000, 1.4},                  /* 1 tap */
  {1000, 5000.0},               /* 5000 taps > RICKER_MAX_TAPS */
  {100000, 100.0},              /* 10000 taps */
};
/* *INDENT-ON* */

/* A wavelet of fewer than 2 or more than RICKER_MAX_TAPS taps cannot be
 * used: set_caps refuses and the base class reports not-negotiated. */
GST_START_TEST (test_width_not_negotiated)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad_width_cases); i++) {
    const BadWidthCase *c = &bad_width_cases[i];
    GstHarness *h = make_harness (c->rate, c->width);
    gfloat x[8] = { 0 };

    fail_unless_equals_int (ricker_taps (c->rate, c->width / 1000.0), 0);
    fail_unless_equals_int (gst_harness_push (h, make_buffer (x, 8, 0,
                c->rate, TRUE)), GST_FLOW_NOT_NEGOTIATED);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_width_property)
{
  GstElement *el = gst_element_factory_make ("rickerconv", NULL);
  gdouble width = 0;

  g_object_get (el, "width", &width, NULL);
  fail_unless_equals_float (width, 120.0);
  g_object_set (el, "width", 40.0, NULL);
  g_object_get (el, "width", &width, NULL);
  fail_unless_equals_float (width, 40.0);
  gst_object_unref (el);
}

GST_END_TEST;

/* ---- state cycling ---- */

GST_START_TEST (test_state_cycles)
{
  GRand *rand = g_rand_new_with_seed (11);
  gsize n = 2000;
  gfloat *x = random_signal (rand, n);
  GstHarness *h = make_harness (250, 0);
  GArray *ref = NULL;
  guint cycle;

  for (cycle = 0; cycle < 3; cycle++) {
    GArray *sig = float_array (), *resp;
    GRand *blocks = g_rand_new_with_seed (cycle);

    if (cycle > 0)
      ecg_test_harness_restart (h, "audio/x-raw, format=F32LE, "
          "rate=250, channels=1, layout=interleaved");
    resp = filter_signal (h, x, n, 250, 300, blocks, sig);
    fail_unless_equals_int (resp->len, n);
    if (ref) {
      fail_unless (ecg_test_compare_floats ((float *) resp->data,
              (float *) ref->data, n, 0.0, 0.0, "cycle") < 0);
      g_array_unref (resp);
    } else {
      ref = resp;
    }
    g_array_unref (sig);
    g_rand_free (blocks);
  }

  g_array_unref (ref);
  gst_harness_teardown (h);
  g_free (x);
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
rickerconv_suite (void)
{
  Suite *s = suite_create ("rickerconv");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_impulse);
  tcase_add_test (tc, test_sample_count);
  tcase_add_test (tc, test_block_size_independence);
  tcase_add_test (tc, test_reset);
  tcase_add_test (tc, test_history_kept);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_width_not_negotiated);
  tcase_add_test (tc, test_width_property);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (rickerconv);

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of vaescore: caps, score records against the kernel reference
 * (score_prepare_rows_ref, vae_score_ref, score_beats_ref) on random,
 * synthetic and real beats, the beat meta and parent rows carried over,
 * outlier flags and ecg-outlier messages, threshold and adapt, streaming
 * equivalence, resets, state changes, and one negative test per error the
 * element can report (docs/elements.md), with model files written here.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ecggsttest.h"
#include "safetensors.h"
#include "score.h"
#include "vae.h"

#define RATE 250
#define LEN VAE_BEAT_LENGTH
#define D VAE_LATENT_DIMS
#define REC ECG_SCORE_RECORD_FLOATS (D)
#define BEATS_CAPS ECG_BEATS_CAPS_NAME ", format=(string)F32LE, " \
    "length=(int)256, rate=(int)250"

/* the kernel reference and the element run the same code: only rounding
 * differences from another split over threads could show */
#define ATOL 1e-6
#define RTOL 1e-5

/* ---- files ---- */

static gchar *
default_model_path (void)
{
  const gchar *root = g_getenv ("ECG_SOURCE_ROOT");

  fail_unless (root != NULL, "ECG_SOURCE_ROOT is not set");
  return g_build_filename (root, "data", "models", "default.safetensors", NULL);
}

/* golden/vae/<name> in the shared data, or NULL when it is absent */
static gchar *
golden_path (const gchar * name)
{
  const gchar *shared = ecg_test_shared_data ();

  if (!shared)
    return NULL;
  return g_build_filename (shared, "golden", "vae", name, NULL);
}

/* ---- models ---- */

typedef struct
{
  gfloat params[VAE_N_PARAMS];
  ScoreCalibration cal;
  gboolean calibrated;
  gboolean raw;                 /* rows go to the VAE unprepared */
} Model;

/* The scale-free calibration vaescore uses for a model without one (a
 * threshold is then required): centres 0, scales 1. */
static void
neutral_calibration (ScoreCalibration * cal)
{
  memset (cal, 0, sizeof (*cal));
  cal->lerr_scale = 1.0;
  cal->mu_scale[0] = cal->mu_scale[1] = 1.0;
  cal->score_scale = 1.0;
}

static void
model_read (Model * m, const gchar * path)
{
  SafetensorsFile *f = NULL;
  gchar detail[256] = "";
  const gchar *v;

  fail_unless_equals_int (safetensors_read_lightvae (path, m->params, &f,
          detail, sizeof (detail)), SAFETENSORS_OK);
  /* no input key (PyTorch's files): the seed's raw rows */
  v = safetensors_get_metadata (f, "input");
  m->raw = v == NULL || g_str_equal (v, "raw");
  v = safetensors_get_metadata (f, "score_calibration");
  m->calibrated = v != NULL;
  if (v) {
    fail_unless_equals_int (score_calibration_from_kv (&m->cal, v), SCORE_OK);
  } else {
    neutral_calibration (&m->cal);
  }
  safetensors_free (f);
}

static void
model_write (const gfloat * params, const gchar * path,
    const SafetensorsMeta * meta, gsize n_meta)
{
  fail_unless_equals_int (safetensors_write_lightvae (path, params, meta,
          n_meta), SAFETENSORS_OK);
}

/* ---- beats ---- */

typedef enum
{
  SRC_RANDOM,
  SRC_SYNTH,
  SRC_MORPH_CHANGE,
  SRC_GOLDEN,
} BeatSource;

/* @n rows from @src; NULL (and a message) when the golden data is
 * missing */
static gfloat *
make_rows (BeatSource src, guint n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gfloat *rows = NULL;
  guint i, j;

  switch (src) {
    case SRC_RANDOM:
      rows = g_new (gfloat, (gsize) n * LEN);
      for (i = 0; i < n * LEN; i++)
        rows[i] = (gfloat) g_rand_double_range (rand, -1.0, 1.0);
      break;
    case SRC_SYNTH:
      /* mostly morphology 0, every 10th beat 1 */
      rows = g_new (gfloat, (gsize) n * LEN);
      for (i = 0; i < n; i++)
        ecg_test_synth_beat (rows + (gsize) i * LEN, LEN, i % 10 == 9, rand);
      break;
    case SRC_MORPH_CHANGE:
      /* the first half morphology 0, the rest 1 */
      rows = g_new (gfloat, (gsize) n * LEN);
      for (i = 0; i < n; i++)
        ecg_test_synth_beat (rows + (gsize) i * LEN, LEN, i >= n / 2, rand);
      break;
    case SRC_GOLDEN:{
      gchar *path = golden_path ("beats.f32"), *data = NULL;
      gsize size = 0;

      if (path && g_file_get_contents (path, &data, &size, NULL)) {
        guint have = size / (LEN * sizeof (gfloat));

        fail_unless (have >= 512);
        /* records 119 (0..511) and 208 (512..1023), n/2 of each */
        rows = g_new (gfloat, (gsize) n * LEN);
        for (i = 0; i < n; i++) {
          j = i < n / 2 ? i : 512 + (i - n / 2);
          fail_unless (j < have);
          memcpy (rows + (gsize) i * LEN, data + (gsize) j * LEN *
              sizeof (gfloat), LEN * sizeof (gfloat));
        }
      } else {
        g_printerr ("no golden beats (%s): case skipped\n", path);
      }
      g_free (data);
      g_free (path);
      break;
    }
  }
  g_rand_free (rand);
  return rows;
}

/* Beat records as beatembed writes them: a beat every 200 samples (0.8 s),
 * every 7th premature (120 samples), R peak 60 samples in. */
static EcgBeat *
make_records (guint n, guint64 first_start)
{
  EcgBeat *b = g_new0 (EcgBeat, n);
  guint64 start = first_start, prev_rpeak = 0;
  guint i;

  for (i = 0; i < n; i++) {
    guint64 step = i % 7 == 6 ? 120 : 200;

    b[i].start = start;
    b[i].length = step;
    b[i].rpeak = start + 60;
    b[i].rr = i > 0 ? b[i].rpeak - prev_rpeak : 0;
    b[i].flags = i == n - 1 ? ECG_BEAT_FLAG_TAIL : 0;
    prev_rpeak = b[i].rpeak;
    start += step;
  }
  return b;
}

/* What vaescore writes for rows without a meta: numbered from @first */
static EcgBeat *
numbered_records (guint n, guint64 first)
{
  EcgBeat *b = g_new0 (EcgBeat, n);
  guint i;

  for (i = 0; i < n; i++) {
    b[i].start = (first + i) * LEN;
    b[i].length = LEN;
    b[i].rpeak = b[i].start;
  }
  return b;
}

static GstBuffer *
make_buffer (const gfloat * rows, guint k, const EcgBeat * beats)
{
  GstBuffer *buf = gst_buffer_new_memdup (rows,
      (gsize) k * LEN * sizeof (gfloat));

  if (beats) {
    ecg_test_add_beats (buf, beats, k);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (beats[0].start,
        GST_SECOND, RATE);
  }
  return buf;
}

/* ---- the reference ---- */

/* Records of @k beats as the kernels give them: rows prepared one by one
 * (unless the model takes raw rows),
 * encoded and decoded, scored in stream order by @st, flagged against
 * @thr.  @beats NULL: rr and flags 0. */
static void
reference (const Model * m, ScoreState * st, gdouble thr,
    const gfloat * rows, const EcgBeat * beats, gsize k, gfloat * recs)
{
  gfloat *x = g_memdup2 (rows, k * LEN * sizeof (gfloat));
  gfloat *mu = g_new (gfloat, k * D), *lv = g_new (gfloat, k * D);
  gfloat *err = g_new (gfloat, k), *sc = g_new (gfloat, k);
  guint64 *rr = g_new0 (guint64, k);
  guint32 *fl = g_new0 (guint32, k);
  gpointer ws = g_malloc (vae_workspace_size (k));
  gsize i, d;

  for (i = 0; i < k; i++) {
    if (!m->raw)
      score_prepare_rows_ref (x + i * LEN, 1, LEN);
    if (beats) {
      rr[i] = beats[i].rr;
      fl[i] = beats[i].flags;
    }
  }
  fail_unless_equals_int (vae_score_ref (m->params, x, k, mu, lv, NULL, err,
          ws), VAE_OK);
  fail_unless_equals_int (score_beats_ref (st, mu, lv, err, rr, fl, k, sc), k);
  for (i = 0; i < k; i++) {
    gfloat *r = recs + i * REC;

    for (d = 0; d < D; d++) {
      r[d] = mu[i * D + d];
      r[D + d] = lv[i * D + d];
    }
    r[ECG_SCORE_ERROR (D)] = err[i];
    r[ECG_SCORE_SCORE (D)] = sc[i];
    r[ECG_SCORE_OUTLIER (D)] = sc[i] > thr ? 1.0f : 0.0f;
  }
  g_free (x);
  g_free (mu);
  g_free (lv);
  g_free (err);
  g_free (sc);
  g_free (rr);
  g_free (fl);
  g_free (ws);
}

static ScoreState *
reference_state (const Model * m, gboolean adapt)
{
  ScoreConfig cfg;
  ScoreState *st;

  score_config_init (&cfg, RATE);
  cfg.adapt = adapt;
  st = score_state_new (&cfg, &m->cal);
  fail_unless (st != NULL);
  return st;
}

/* ---- running the element ---- */

static GstHarness *
make_harness (const gchar * model, gdouble threshold, gboolean adapt)
{
  GstElement *el = gst_element_factory_make ("vaescore", NULL);
  GstHarness *h;

  fail_unless (el != NULL);
  g_object_set (el, "model", model, "threshold", threshold, "adapt", adapt,
      NULL);
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  gst_harness_set_src_caps_str (h, BEATS_CAPS);
  return h;
}

typedef struct
{
  GArray *recs;                 /* gfloat, REC per beat */
  GArray *beats;                /* EcgBeat, from the output meta */
  GArray *rows;                 /* gfloat, the parent buffer's rows */
  GArray *pts;                  /* GstClockTime per buffer */
  guint64 next_offset;
} Out;

static void
out_init (Out * o)
{
  o->recs = g_array_new (FALSE, FALSE, sizeof (gfloat));
  o->beats = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
  o->rows = g_array_new (FALSE, FALSE, sizeof (gfloat));
  o->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  o->next_offset = 0;
}

static void
out_clear (Out * o)
{
  g_array_unref (o->recs);
  g_array_unref (o->beats);
  g_array_unref (o->rows);
  g_array_unref (o->pts);
}

/* Takes every output buffer: K records, a beat meta of K beats, the input
 * rows as parent buffer, OFFSET counting beats. */
static guint
drain (GstHarness * h, Out * o)
{
  GstBuffer *buf;
  guint got = 0;

  while ((buf = gst_harness_try_pull (h))) {
    EcgBeatMeta *m = ecg_buffer_get_beat_meta (buf);
    GstParentBufferMeta *pm = gst_buffer_get_parent_buffer_meta (buf);
    GstMapInfo map, rmap;
    guint k;

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    k = map.size / (REC * sizeof (gfloat));
    fail_unless_equals_int (map.size, k * REC * sizeof (gfloat));
    fail_unless (m != NULL, "output without beat meta");
    fail_unless_equals_int (m->n_beats, k);
    fail_unless (pm != NULL, "output without the rows as parent buffer");
    fail_unless (gst_buffer_map (pm->buffer, &rmap, GST_MAP_READ));
    fail_unless_equals_int (rmap.size, (gsize) k * LEN * sizeof (gfloat));
    g_array_append_vals (o->recs, map.data, k * REC);
    g_array_append_vals (o->beats, m->beats, k);
    g_array_append_vals (o->rows, rmap.data, k * LEN);
    g_array_append_val (o->pts, GST_BUFFER_PTS (buf));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), o->next_offset);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), o->next_offset + k);
    o->next_offset += k;
    gst_buffer_unmap (pm->buffer, &rmap);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    got += k;
  }
  return got;
}

/* Pushes @n rows in buffers of @batch (with their records if @beats) and
 * drains the output into @o. */
static void
push_rows (GstHarness * h, const gfloat * rows, const EcgBeat * beats,
    guint n, guint batch, Out * o)
{
  guint i;

  for (i = 0; i < n; i += batch) {
    guint k = MIN (batch, n - i);

    fail_unless_equals_int (gst_harness_push (h, make_buffer (rows +
                (gsize) i * LEN, k, beats ? beats + i : NULL)), GST_FLOW_OK);
    fail_unless_equals_int (drain (h, o), k);
  }
}

static void
assert_records (const Out * o, const gfloat * want, guint n, const gchar * what)
{
  fail_unless_equals_int (o->recs->len, n * REC);
  fail_unless (ecg_test_compare_floats ((gfloat *) o->recs->data, want,
          n * REC, ATOL, RTOL, what) < 0, "%s: records differ", what);
}

static void
assert_beat_records (const Out * o, const EcgBeat * want, guint n,
    const gchar * what)
{
  guint i;

  fail_unless_equals_int (o->beats->len, n);
  for (i = 0; i < n; i++) {
    const EcgBeat *a = &g_array_index (o->beats, EcgBeat, i);
    const EcgBeat *b = &want[i];

    fail_unless (a->start == b->start && a->length == b->length &&
        a->rpeak == b->rpeak && a->rr == b->rr && a->flags == b->flags,
        "%s: beat %u is {%" G_GUINT64_FORMAT ", %u, %" G_GUINT64_FORMAT
        ", %" G_GUINT64_FORMAT ", 0x%x}, expected {%" G_GUINT64_FORMAT
        ", %u, %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ", 0x%x}", what, i,
        a->start, a->length, a->rpeak, a->rr, a->flags, b->start, b->length,
        b->rpeak, b->rr, b->flags);
  }
}

/* ---- messages and errors ---- */

typedef struct
{
  guint64 time, rpeak_time, rpeak;
  gdouble rr, score, threshold;
} Outlier;

/* The ecg-outlier messages on @bus, in order; other messages are
 * dropped, errors fail */
static GArray *
pop_outliers (GstBus * bus)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Outlier));
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus))) {
    const GstStructure *s;
    Outlier x;

    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "error on the bus");
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_message_has_name (msg, "ecg-outlier")) {
      s = gst_message_get_structure (msg);
      fail_unless_equals_int (gst_structure_n_fields (s), 6);
      fail_unless (gst_structure_get_uint64 (s, "time", &x.time));
      fail_unless (gst_structure_get_uint64 (s, "rpeak-time", &x.rpeak_time));
      fail_unless (gst_structure_get_uint64 (s, "rpeak", &x.rpeak));
      fail_unless (gst_structure_get_double (s, "rr", &x.rr));
      fail_unless (gst_structure_get_double (s, "score", &x.score));
      fail_unless (gst_structure_get_double (s, "threshold", &x.threshold));
      g_array_append_val (a, x);
    }
    gst_message_unref (msg);
  }
  return a;
}

/* Each outlier record has one message, in order, with the fields of its
 * beat; none for the others. */
static void
assert_outlier_messages (const Out * o, const GArray * msgs, gdouble thr,
    const gchar * what)
{
  guint i, n = o->beats->len, j = 0;

  for (i = 0; i < n; i++) {
    const gfloat *r = &g_array_index (o->recs, gfloat, i * REC);
    const EcgBeat *b = &g_array_index (o->beats, EcgBeat, i);
    const Outlier *x;

    fail_unless_equals_float (r[ECG_SCORE_OUTLIER (D)],
        r[ECG_SCORE_SCORE (D)] > thr ? 1.0f : 0.0f);
    if (r[ECG_SCORE_OUTLIER (D)] == 0.0f)
      continue;
    fail_unless (j < msgs->len, "%s: no message for outlier %u", what, i);
    x = &g_array_index (msgs, Outlier, j);
    fail_unless_equals_uint64 (x->time,
        gst_util_uint64_scale_int (b->start, GST_SECOND, RATE));
    fail_unless_equals_uint64 (x->rpeak_time,
        gst_util_uint64_scale_int (b->rpeak, GST_SECOND, RATE));
    fail_unless_equals_uint64 (x->rpeak, b->rpeak);
    fail_unless_equals_float (x->rr, (gdouble) b->rr / RATE);
    fail_unless_equals_float (x->score, r[ECG_SCORE_SCORE (D)]);
    fail_unless_equals_float (x->threshold, thr);
    j++;
  }
  fail_unless_equals_int (msgs->len, j);
}

/* ---- caps ---- */

GST_START_TEST (test_caps)
{
  GstHarness *h = make_harness (NULL, -1.0, TRUE);
  gfloat *rows = make_rows (SRC_SYNTH, 3, 1);
  GstCaps *caps, *want;
  GstBuffer *out;

  out = gst_harness_push_and_pull (h, make_buffer (rows, 3, NULL));
  fail_unless (out != NULL);
  fail_unless_equals_int (gst_buffer_get_size (out), 3 * REC * sizeof (gfloat));
  gst_buffer_unref (out);
  caps = gst_pad_get_current_caps (h->sinkpad);
  want = gst_caps_from_string (ECG_SCORES_CAPS_NAME ", format=(string)F32LE, "
      "latent-dims=(int)2, rate=(int)250");
  fail_unless (caps && gst_caps_is_equal (caps, want));
  gst_caps_unref (caps);
  gst_caps_unref (want);

  /* the rate is carried through the caps query: downstream's rate is
   * the only one upstream may send */
  gst_harness_teardown (h);
  h = make_harness (NULL, -1.0, TRUE);
  gst_harness_set_sink_caps_str (h, ECG_SCORES_CAPS_NAME ", rate=(int)250");
  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  want = gst_caps_from_string (ECG_BEATS_CAPS_NAME ", format=(string)F32LE, "
      "length=(int)256, rate=(int)250");
  fail_unless (gst_caps_can_intersect (caps, want));
  gst_caps_unref (want);
  want = gst_caps_from_string (ECG_BEATS_CAPS_NAME ", rate=(int)360");
  fail_if (gst_caps_can_intersect (caps, want));
  gst_caps_unref (want);
  gst_caps_unref (caps);

  g_free (rows);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- known answers ---- */

typedef struct
{
  const gchar *name;
  BeatSource src;
  gboolean meta;
  guint n;
  guint batch;
  gboolean adapt;
  gdouble threshold;
} KnownCase;

/* *INDENT-OFF* */
static const KnownCase known_cases[] = {
  {"random, meta, batches of 64", SRC_RANDOM, TRUE, 150, 64, TRUE, -1.0},
  {"random, no meta, batches of 7", SRC_RANDOM, FALSE, 40, 7, TRUE, -1.0},
  {"synthetic, meta, adapt off", SRC_SYNTH, TRUE, 120, 16, FALSE, -1.0},
  {"synthetic, no meta, 1 per buffer", SRC_SYNTH, FALSE, 30, 1, TRUE, -1.0},
  {"real beats, meta, threshold 3", SRC_GOLDEN, TRUE, 200, 50, TRUE, 3.0},
  {"real beats, no meta, adapt off", SRC_GOLDEN, FALSE, 64, 64, FALSE, -1.0},
};
/* *INDENT-ON* */

/* Every record equals the kernels' answer on the same rows; the beat meta
 * is carried over (or numbered, without one), the rows ride along
 * unchanged as the parent buffer, PTS is kept and OFFSET counts beats. */
GST_START_TEST (test_known_answers)
{
  gchar *path = default_model_path ();
  Model *m = g_new (Model, 1);
  guint i;

  model_read (m, path);
  fail_unless (m->calibrated);
  for (i = 0; i < G_N_ELEMENTS (known_cases); i++) {
    const KnownCase *c = &known_cases[i];
    const guint n = ECG_TEST_SCALE (c->n, MIN (c->n, 40));
    gfloat *rows = make_rows (c->src, n, 100 + i), *want;
    EcgBeat *beats, *want_beats;
    gdouble thr = c->threshold >= 0 ? c->threshold : m->cal.threshold;
    ScoreState *st;
    GstHarness *h;
    Out o;
    guint b;

    if (!rows)
      continue;
    GST_INFO ("case %s", c->name);
    beats = c->meta ? make_records (n, 1000) : NULL;
    want_beats = beats ? beats : numbered_records (n, 0);
    h = make_harness (NULL, c->threshold, c->adapt);
    out_init (&o);
    push_rows (h, rows, beats, n, c->batch, &o);

    want = g_new (gfloat, (gsize) n * REC);
    st = reference_state (m, c->adapt);
    reference (m, st, thr, rows, beats, n, want);
    assert_records (&o, want, n, c->name);
    assert_beat_records (&o, want_beats, n, c->name);
    fail_unless (ecg_test_compare_floats ((gfloat *) o.rows->data, rows,
            (gsize) n * LEN, 0.0, 0.0, c->name) < 0,
        "%s: parent rows differ from the input", c->name);
    for (b = 0; beats && b < o.pts->len; b++)
      fail_unless_equals_uint64 (g_array_index (o.pts, GstClockTime, b),
          gst_util_uint64_scale_int (beats[b * c->batch].start, GST_SECOND,
              RATE));
    /* the threshold splits the beats: the test sees both kinds */
    if (c->src != SRC_RANDOM) {
      guint n_out = 0;

      for (b = 0; b < n; b++)
        n_out += want[b * REC + ECG_SCORE_OUTLIER (D)] != 0.0f;
      GST_INFO ("%s: %u of %u outliers", c->name, n_out, n);
    }

    score_state_free (st);
    g_free (want);
    if (want_beats != beats)
      g_free (want_beats);
    g_free (beats);
    g_free (rows);
    out_clear (&o);
    gst_harness_teardown (h);
  }
  g_free (m);
  g_free (path);
}

GST_END_TEST;

/* The oracle on golden data: vae_score_ref with the golden weights gives
 * PyTorch's mu, logvar and reconstruction error on the raw golden beats
 * (vaescore itself sees median-removed rows, so only this applies). */
GST_START_TEST (test_golden_oracle)
{
  gchar *mp = golden_path ("model.safetensors"), *bp = golden_path
      ("beats.f32"), *mup = golden_path ("mu.f32"), *lvp =
      golden_path ("logvar.f32"), *rp = golden_path ("recon.f32");
  gchar *beats = NULL, *mu_g = NULL, *lv_g = NULL, *rec_g = NULL;
  gsize n = ecg_test_under_valgrind ()? 128 : 1024, i, j;
  gfloat params[VAE_N_PARAMS], *mu, *lv, *recon, *err, *err_g;
  gpointer ws;

  if (!mp || !g_file_get_contents (bp, &beats, NULL, NULL)) {
    g_printerr ("no golden data: test skipped\n");
    g_free (mp);
    g_free (bp);
    return;
  }
  fail_unless (g_file_get_contents (mup, &mu_g, NULL, NULL));
  fail_unless (g_file_get_contents (lvp, &lv_g, NULL, NULL));
  fail_unless (g_file_get_contents (rp, &rec_g, NULL, NULL));
  fail_unless_equals_int (safetensors_read_lightvae (mp, params, NULL, NULL,
          0), SAFETENSORS_OK);
  mu = g_new (gfloat, n * D);
  lv = g_new (gfloat, n * D);
  recon = g_new (gfloat, n * LEN);
  err = g_new (gfloat, n);
  err_g = g_new (gfloat, n);
  ws = g_malloc (vae_workspace_size (n));
  fail_unless_equals_int (vae_score_ref (params, (gfloat *) beats, n, mu, lv,
          recon, err, ws), VAE_OK);
  for (i = 0; i < n; i++) {
    gdouble s = 0;

    for (j = 0; j < LEN; j++) {
      gdouble d = ((gfloat *) rec_g)[i * LEN + j] -
          ((gfloat *) beats)[i * LEN + j];

      s += d * d;
    }
    err_g[i] = (gfloat) (s / LEN);
  }
  fail_unless (ecg_test_compare_floats (mu, (gfloat *) mu_g, n * D, 1e-5,
          1e-4, "golden mu") < 0);
  fail_unless (ecg_test_compare_floats (lv, (gfloat *) lv_g, n * D, 1e-5,
          1e-4, "golden logvar") < 0);
  fail_unless (ecg_test_compare_floats (recon, (gfloat *) rec_g, n * LEN,
          1e-5, 1e-4, "golden recon") < 0);
  fail_unless (ecg_test_compare_floats (err, err_g, n, 1e-7, 1e-4,
          "golden error") < 0);

  g_free (ws);
  g_free (mu);
  g_free (lv);
  g_free (recon);
  g_free (err);
  g_free (err_g);
  g_free (beats);
  g_free (mu_g);
  g_free (lv_g);
  g_free (rec_g);
  g_free (mp);
  g_free (bp);
  g_free (mup);
  g_free (lvp);
  g_free (rp);
}

GST_END_TEST;

/* A model without calibration works once threshold is set: the golden
 * model as PyTorch wrote it (no calibration, no input preparation), or
 * the default weights written without their calibration.  The scores are
 * the unscaled ones (centres 0, scales 1). */
GST_START_TEST (test_uncalibrated_with_threshold)
{
  const SafetensorsMeta meta[] = { {"rate", "250"} };
  Model *m = g_new (Model, 1);
  const guint n = ECG_TEST_SCALE (64, 32);
  gfloat *rows = NULL, *want;
  EcgBeat *beats = make_records (n, 0);
  gchar *path;
  ScoreState *st;
  GstHarness *h;
  GstBus *bus;
  GArray *msgs;
  EcgTestTmpDir t;
  guint c;

  ecg_test_tmp_dir_init (&t);
  for (c = 0; c < 2; c++) {
    Out o;

    if (c == 0) {
      path = golden_path ("model.safetensors");
      if (!path || !g_file_test (path, G_FILE_TEST_EXISTS)) {
        g_printerr ("no golden model: case skipped\n");
        g_free (path);
        continue;
      }
      rows = make_rows (SRC_GOLDEN, n, 1);
    } else {
      gchar *dp = default_model_path ();

      path = ecg_test_tmp_dir_file (&t, "uncalibrated.safetensors");
      model_read (m, dp);
      model_write (m->params, path, meta, G_N_ELEMENTS (meta));
      g_free (dp);
      rows = make_rows (SRC_SYNTH, n, 1);
    }
    model_read (m, path);
    fail_if (m->calibrated);
    h = make_harness (path, 1.5, TRUE);
    bus = ecg_test_attach_bus (h);
    out_init (&o);
    push_rows (h, rows, beats, n, 16, &o);
    want = g_new (gfloat, n * REC);
    st = reference_state (m, TRUE);
    reference (m, st, 1.5, rows, beats, n, want);
    assert_records (&o, want, n, "uncalibrated");
    msgs = pop_outliers (bus);
    assert_outlier_messages (&o, msgs, 1.5, "uncalibrated");

    g_array_unref (msgs);
    score_state_free (st);
    out_clear (&o);
    ecg_test_detach_bus (h, bus);
    gst_harness_teardown (h);
    g_free (want);
    g_free (rows);
    g_free (path);
  }
  g_free (beats);
  g_free (m);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* ---- outliers ---- */

typedef struct
{
  const gchar *name;
  BeatSource src;
  gdouble threshold;            /* negative: the model's */
  gboolean all;                 /* every beat must be an outlier */
  gboolean some;                /* at least one must be */
} OutlierCase;

/* *INDENT-OFF* */
static const OutlierCase outlier_cases[] = {
  {"threshold 0: every beat", SRC_SYNTH, 0.0, TRUE, TRUE},
  {"noise against the model's threshold", SRC_RANDOM, -1.0, FALSE, TRUE},
  {"threshold 2 on ectopic beats", SRC_SYNTH, 2.0, FALSE, TRUE},
  {"threshold 1e9: none", SRC_SYNTH, 1e9, FALSE, FALSE},
};
/* *INDENT-ON* */

/* flag = score > threshold; one ecg-outlier message per outlier with the
 * documented fields; the outliers property counts them. */
GST_START_TEST (test_outliers)
{
  gchar *path = default_model_path ();
  Model *m = g_new (Model, 1);
  const guint n = ECG_TEST_SCALE (60, 30);
  guint i, b;

  model_read (m, path);
  for (i = 0; i < G_N_ELEMENTS (outlier_cases); i++) {
    const OutlierCase *c = &outlier_cases[i];
    gfloat *rows = make_rows (c->src, n, 7 + i);
    EcgBeat *beats = make_records (n, 500);
    gdouble thr = c->threshold >= 0 ? c->threshold : m->cal.threshold;
    GstHarness *h = make_harness (NULL, c->threshold, TRUE);
    GstBus *bus = ecg_test_attach_bus (h);
    guint64 count = 0, prop = 0;
    GArray *msgs;
    Out o;

    GST_INFO ("case %s", c->name);
    out_init (&o);
    push_rows (h, rows, beats, n, 20, &o);
    msgs = pop_outliers (bus);
    assert_outlier_messages (&o, msgs, thr, c->name);
    for (b = 0; b < n; b++)
      count += g_array_index (o.recs, gfloat,
          b * REC + ECG_SCORE_OUTLIER (D)) != 0.0f;
    g_object_get (h->element, "outliers", &prop, NULL);
    fail_unless_equals_uint64 (prop, count);
    fail_unless_equals_uint64 (msgs->len, count);
    if (c->all)
      fail_unless_equals_uint64 (count, n);
    if (c->some) {
      fail_unless (count > 0, "%s: no outlier", c->name);
    } else {
      fail_unless_equals_uint64 (count, 0);
    }
    if (!c->all && c->some)
      fail_unless (count < n, "%s: every beat is an outlier", c->name);

    g_array_unref (msgs);
    out_clear (&o);
    ecg_test_detach_bus (h, bus);
    gst_harness_teardown (h);
    g_free (rows);
    g_free (beats);
  }
  g_free (m);
  g_free (path);
}

GST_END_TEST;

/* post-messages=false: no ecg-outlier message, the same records (outlier
 * flags included) and the same outliers count as with messages; switching
 * it on while playing brings the messages back. */
GST_START_TEST (test_post_messages)
{
  const guint n = ECG_TEST_SCALE (60, 30);
  gfloat *rows = make_rows (SRC_SYNTH, n, 11);
  EcgBeat *beats = make_records (n, 500);
  GstHarness *h_on = make_harness (NULL, 2.0, TRUE);
  GstHarness *h_off = make_harness (NULL, 2.0, TRUE);
  GstBus *bus_on = ecg_test_attach_bus (h_on);
  GstBus *bus_off = ecg_test_attach_bus (h_off);
  guint64 n_on = 0, n_off = 0;
  GArray *msgs_on, *msgs_off;
  Out on, off;

  g_object_set (h_off->element, "post-messages", FALSE, NULL);
  out_init (&on);
  out_init (&off);
  push_rows (h_on, rows, beats, n, 20, &on);
  push_rows (h_off, rows, beats, n, 20, &off);
  msgs_on = pop_outliers (bus_on);
  msgs_off = pop_outliers (bus_off);
  fail_unless (msgs_on->len > 0, "no outlier in the stream");
  fail_unless_equals_int (msgs_off->len, 0);
  fail_unless_equals_int (on.recs->len, off.recs->len);
  fail_unless (memcmp (on.recs->data, off.recs->data,
          on.recs->len * sizeof (gfloat)) == 0, "records differ");
  g_object_get (h_on->element, "outliers", &n_on, NULL);
  g_object_get (h_off->element, "outliers", &n_off, NULL);
  fail_unless_equals_uint64 (n_off, n_on);
  fail_unless_equals_uint64 (n_on, msgs_on->len);
  g_array_unref (msgs_on);
  g_array_unref (msgs_off);

  /* on again, in PLAYING */
  g_object_set (h_off->element, "post-messages", TRUE, NULL);
  out_clear (&off);
  out_init (&off);
  off.next_offset = n;          /* the element keeps counting beats */
  push_rows (h_off, rows, beats, n, 20, &off);
  msgs_off = pop_outliers (bus_off);
  fail_unless (msgs_off->len > 0, "no message after post-messages=true");
  g_array_unref (msgs_off);

  out_clear (&on);
  out_clear (&off);
  ecg_test_detach_bus (h_on, bus_on);
  ecg_test_detach_bus (h_off, bus_off);
  gst_harness_teardown (h_on);
  gst_harness_teardown (h_off);
  g_free (rows);
  g_free (beats);
}

GST_END_TEST;

/* ---- adapt ---- */

/* On a stream whose morphology changes half-way, adapt on and off give the
 * kernels' scores for each setting: equal while the stream has fewer than
 * adapt-min-beats (16) beats, different after. */
GST_START_TEST (test_adapt)
{
  gchar *path = default_model_path ();
  Model *m = g_new (Model, 1);
  const guint n = ECG_TEST_SCALE (120, 60);
  gfloat *rows = make_rows (SRC_MORPH_CHANGE, n, 3);
  EcgBeat *beats = make_records (n, 0);
  gfloat *want = g_new (gfloat, n * REC), *sc[2];
  guint a, b, differ = 0;
  Out o[2];

  model_read (m, path);
  for (a = 0; a < 2; a++) {
    GstHarness *h = make_harness (NULL, -1.0, a);
    ScoreState *st = reference_state (m, a);

    out_init (&o[a]);
    push_rows (h, rows, beats, n, 10, &o[a]);
    reference (m, st, m->cal.threshold, rows, beats, n, want);
    assert_records (&o[a], want, n, a ? "adapt on" : "adapt off");
    score_state_free (st);
    gst_harness_teardown (h);
  }
  sc[0] = (gfloat *) o[0].recs->data;
  sc[1] = (gfloat *) o[1].recs->data;
  for (b = 0; b < n; b++) {
    gfloat s0 = sc[0][b * REC + ECG_SCORE_SCORE (D)];
    gfloat s1 = sc[1][b * REC + ECG_SCORE_SCORE (D)];

    if (b < 16) {
      fail_unless_equals_float (s0, s1);
    } else {
      differ += s0 != s1;
    }
  }
  fail_unless (differ > (n - 16) / 2, "adapt changed only %u scores", differ);

  out_clear (&o[0]);
  out_clear (&o[1]);
  g_free (want);
  g_free (rows);
  g_free (beats);
  g_free (m);
  g_free (path);
}

GST_END_TEST;

/* ---- streaming ---- */

/* The same beats in buffers of 1, 5 or 64 give identical records (the
 * score's state follows the stream, not the buffers). */
GST_START_TEST (test_streaming_equivalence)
{
  const guint n = ECG_TEST_SCALE (130, 70), batches[] = { 64, 1, 5 };
  gfloat *rows = make_rows (SRC_SYNTH, n, 11);
  EcgBeat *beats = make_records (n, 0);
  Out o[G_N_ELEMENTS (batches)];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (batches); i++) {
    GstHarness *h = make_harness (NULL, -1.0, TRUE);

    out_init (&o[i]);
    push_rows (h, rows, beats, n, batches[i], &o[i]);
    fail_unless_equals_int (o[i].recs->len, n * REC);
    if (i > 0)
      fail_unless (memcmp (o[i].recs->data, o[0].recs->data,
              (gsize) n * REC * sizeof (gfloat)) == 0,
          "buffers of %u differ from buffers of %u", batches[i], batches[0]);
    gst_harness_teardown (h);
  }
  for (i = 0; i < G_N_ELEMENTS (batches); i++)
    out_clear (&o[i]);
  g_free (rows);
  g_free (beats);
}

GST_END_TEST;

/* After a flush (or a new stream) the scores equal a fresh element's:
 * the RR history and the stream's own centres are forgotten. */
GST_START_TEST (test_flush_resets)
{
  const guint na = ECG_TEST_SCALE (80, 40), nb = ECG_TEST_SCALE (40, 24);
  gfloat *ra = make_rows (SRC_SYNTH, na, 21);
  gfloat *rb = make_rows (SRC_MORPH_CHANGE, nb, 22);
  EcgBeat *ba = make_records (na, 0), *bb = make_records (nb, 100000);
  guint mode;

  /* mode 0: no reset (the scores must differ, or this test proves
   * nothing); 1: flush; 2: stream-start */
  for (mode = 0; mode < 3; mode++) {
    GstHarness *h = make_harness (NULL, -1.0, TRUE);
    GstHarness *fresh = make_harness (NULL, -1.0, TRUE);
    Out o, of;
    gboolean same;

    out_init (&o);
    out_init (&of);
    push_rows (h, ra, ba, na, 16, &o);
    if (mode == 1) {
      GstSegment seg;

      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    } else if (mode == 2) {
      fail_unless (gst_harness_push_event (h,
              gst_event_new_stream_start ("second")));
      gst_harness_set_src_caps_str (h, BEATS_CAPS);
    }
    g_array_set_size (o.recs, 0);
    push_rows (h, rb, bb, nb, 16, &o);
    push_rows (fresh, rb, bb, nb, 16, &of);
    same = memcmp (o.recs->data, of.recs->data,
        (gsize) nb * REC * sizeof (gfloat)) == 0;
    if (mode == 0)
      fail_if (same, "the history made no difference");
    else
      fail_unless (same, "mode %u: scores after the reset differ from a "
          "fresh element's", mode);
    out_clear (&o);
    out_clear (&of);
    gst_harness_teardown (h);
    gst_harness_teardown (fresh);
  }
  g_free (ra);
  g_free (rb);
  g_free (ba);
  g_free (bb);
}

GST_END_TEST;

/* EOS with no beats at all passes; so does an empty buffer. */
GST_START_TEST (test_eos_no_beats)
{
  GstHarness *h = make_harness (NULL, -1.0, TRUE);
  GstBus *bus = ecg_test_attach_bus (h);
  GstEvent *ev;
  GstBuffer *buf;
  gboolean eos = FALSE;

  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()), GST_FLOW_OK);
  while ((buf = gst_harness_try_pull (h))) {
    fail_unless_equals_int (gst_buffer_get_size (buf), 0);
    gst_buffer_unref (buf);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((ev = gst_harness_try_pull_event (h))) {
    eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  ecg_test_detach_bus (h, bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A row with a NaN sample gets a NaN score and no flag; the other rows of
 * its buffer are prepared and scored as usual. */
GST_START_TEST (test_nonfinite_row)
{
  gchar *path = default_model_path ();
  Model *m = g_new (Model, 1);
  const guint n = 8, bad = 2;
  gfloat *rows = make_rows (SRC_SYNTH, n, 5), *want, *got;
  EcgBeat *beats = make_records (n, 0);
  ScoreState *st;
  GstHarness *h;
  Out o;
  guint b;

  model_read (m, path);
  rows[bad * LEN + 100] = NAN;
  h = make_harness (NULL, -1.0, TRUE);
  out_init (&o);
  push_rows (h, rows, beats, n, n, &o);
  want = g_new (gfloat, n * REC);
  st = reference_state (m, TRUE);
  reference (m, st, m->cal.threshold, rows, beats, n, want);
  got = (gfloat *) o.recs->data;
  fail_unless (isnan (got[bad * REC + ECG_SCORE_SCORE (D)]));
  fail_unless_equals_float (got[bad * REC + ECG_SCORE_OUTLIER (D)], 0.0f);
  for (b = 0; b < n; b++) {
    if (b == bad)
      continue;
    fail_unless (ecg_test_compare_floats (got + b * REC, want + b * REC, REC,
            ATOL, RTOL, "beside a NaN row") < 0, "beat %u", b);
  }
  score_state_free (st);
  out_clear (&o);
  gst_harness_teardown (h);
  g_free (want);
  g_free (rows);
  g_free (beats);
  g_free (m);
  g_free (path);
}

GST_END_TEST;

/* ---- state cycling ---- */

GST_START_TEST (test_state_cycles)
{
  const guint n = ECG_TEST_SCALE (50, 30);
  gfloat *rows = make_rows (SRC_SYNTH, n, 31);
  EcgBeat *beats = make_records (n, 0);
  GstHarness *h = make_harness (NULL, -1.0, TRUE);
  GArray *first = NULL;
  guint cycle;

  for (cycle = 0; cycle < 3; cycle++) {
    guint64 outliers;
    Out o;

    if (cycle > 0)
      ecg_test_harness_restart (h, BEATS_CAPS);
    out_init (&o);
    push_rows (h, rows, beats, n, 8 + cycle * 9, &o);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    g_object_get (h->element, "outliers", &outliers, NULL);
    if (!first) {
      first = g_array_ref (o.recs);
    } else {
      /* OFFSET restarted at 0 (checked by drain) and the same scores */
      fail_unless (memcmp (o.recs->data, first->data,
              (gsize) n * REC * sizeof (gfloat)) == 0, "cycle %u", cycle);
    }
    out_clear (&o);
  }
  g_array_unref (first);
  g_free (rows);
  g_free (beats);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- errors at start ---- */

typedef enum
{
  MODEL_MISSING,
  MODEL_DIRECTORY,
  MODEL_EMPTY,
  MODEL_TRUNCATED,
  MODEL_GARBAGE,
  MODEL_NOT_JSON,
  MODEL_WRONG_SHAPE,
  MODEL_MISSING_TENSOR,
  MODEL_BAD_RATE,
  MODEL_BAD_CALIBRATION,
  MODEL_UNCALIBRATED,
  MODEL_UNKNOWN_INPUT,
  MODEL_GOLDEN,
} ModelSetup;

typedef GQuark (*ErrorDomainFunc) (void);

typedef struct
{
  const gchar *name;
  ModelSetup setup;
  gdouble threshold;
  ErrorDomainFunc domain;
  gint code;
  const gchar *has;
} StartErrorCase;

/* *INDENT-OFF* */
static const StartErrorCase start_error_cases[] = {
  {"missing", MODEL_MISSING, -1.0, gst_resource_error_quark,
      GST_RESOURCE_ERROR_NOT_FOUND, "does not exist"},
  {"directory", MODEL_DIRECTORY, -1.0, gst_resource_error_quark,
      GST_RESOURCE_ERROR_OPEN_READ, NULL},
  {"empty file", MODEL_EMPTY, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "corrupt"},
  {"truncated", MODEL_TRUNCATED, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "corrupt"},
  {"garbage", MODEL_GARBAGE, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "corrupt"},
  {"header not JSON", MODEL_NOT_JSON, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "corrupt"},
  {"restore.weight (128, 4)", MODEL_WRONG_SHAPE, -1.0,
      gst_library_error_quark, GST_LIBRARY_ERROR_SETTINGS, "restore.weight"},
  {"no conv5.bias", MODEL_MISSING_TENSOR, 1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "conv5.bias"},
  {"rate=abc", MODEL_BAD_RATE, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, NULL},
  {"unreadable calibration", MODEL_BAD_CALIBRATION, -1.0,
      gst_library_error_quark, GST_LIBRARY_ERROR_SETTINGS, "calibration"},
  {"no calibration, no threshold", MODEL_UNCALIBRATED, -1.0,
      gst_library_error_quark, GST_LIBRARY_ERROR_SETTINGS, "threshold"},
  /* a model for rows prepared in a way this plugin does not know */
  {"input=unknown", MODEL_UNKNOWN_INPUT, 1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "unknown-prep"},
  /* PyTorch's file (no calibration, no input) */
  {"golden model, no threshold", MODEL_GOLDEN, -1.0, gst_library_error_quark,
      GST_LIBRARY_ERROR_SETTINGS, "threshold"},
};
/* *INDENT-ON* */

/* Writes the model file of @setup to @path; FALSE if it cannot be made */
static gboolean
write_bad_model (ModelSetup setup, const gchar * path, EcgTestTmpDir * t)
{
  gchar *dp = default_model_path (), *data = NULL;
  gsize size = 0;
  Model *m = g_new (Model, 1);
  gboolean ok = TRUE;

  fail_unless (g_file_get_contents (dp, &data, &size, NULL));
  model_read (m, dp);
  switch (setup) {
    case MODEL_MISSING:
      break;
    case MODEL_DIRECTORY:
      fail_unless_equals_int (g_mkdir (path, 0700), 0);
      break;
    case MODEL_EMPTY:
      fail_unless (g_file_set_contents (path, "", 0, NULL));
      break;
    case MODEL_TRUNCATED:
      fail_unless (g_file_set_contents (path, data, size - 100, NULL));
      break;
    case MODEL_GARBAGE:{
      GRand *r = g_rand_new_with_seed (9);
      guint8 junk[4096];
      guint i;

      for (i = 0; i < sizeof (junk); i++)
        junk[i] = g_rand_int_range (r, 0, 256);
      /* a header length that fits the file, so the JSON check fails */
      junk[0] = 200;
      memset (junk + 1, 0, 7);
      fail_unless (g_file_set_contents (path, (gchar *) junk, sizeof (junk),
              NULL));
      g_rand_free (r);
      break;
    }
    case MODEL_NOT_JSON:{
      gchar buf[64];

      memset (buf, 0, sizeof (buf));
      buf[0] = 16;
      memcpy (buf + 8, "not json at all!", 16);
      fail_unless (g_file_set_contents (path, buf, 24, NULL));
      break;
    }
    case MODEL_WRONG_SHAPE:
    case MODEL_MISSING_TENSOR:{
      SafetensorsWriteTensor ts[VAE_N_TENSORS];
      const guint64 bad_shape[2] = { 128, 4 };
      gsize n = 0, i;

      for (i = 0; i < VAE_N_TENSORS; i++) {
        const VaeParamInfo *p = &vae_param_table[i];

        if (setup == MODEL_MISSING_TENSOR && !strcmp (p->name, "conv5.bias"))
          continue;
        ts[n].name = p->name;
        ts[n].ndim = p->ndim;
        ts[n].shape = (const uint64_t *) p->shape;
        ts[n].data = m->params + p->offset;
        if (setup == MODEL_WRONG_SHAPE && !strcmp (p->name, "restore.weight"))
          ts[n].shape = bad_shape;
        n++;
      }
      fail_unless_equals_int (safetensors_write_file (path, ts, n, NULL, 0),
          SAFETENSORS_OK);
      break;
    }
    case MODEL_BAD_RATE:{
      const SafetensorsMeta meta[] = { {"rate", "abc"}, {"input",
          "median-removed"}
      };

      model_write (m->params, path, meta, G_N_ELEMENTS (meta));
      break;
    }
    case MODEL_BAD_CALIBRATION:{
      const SafetensorsMeta meta[] = { {"rate", "250"}, {"input",
          "median-removed"}, {"score_calibration", "score.version=1;x=2"}
      };

      model_write (m->params, path, meta, G_N_ELEMENTS (meta));
      break;
    }
    case MODEL_UNCALIBRATED:{
      const SafetensorsMeta meta[] = { {"rate", "250"}, {"input",
          "median-removed"}
      };

      model_write (m->params, path, meta, G_N_ELEMENTS (meta));
      break;
    }
    case MODEL_UNKNOWN_INPUT:{
      const SafetensorsMeta meta[] = { {"input", "unknown-prep"} };

      model_write (m->params, path, meta, G_N_ELEMENTS (meta));
      break;
    }
    case MODEL_GOLDEN:{
      gchar *gp = golden_path ("model.safetensors");

      if (gp && g_file_test (gp, G_FILE_TEST_EXISTS)) {
        gchar *gd = NULL;
        gsize gs = 0;

        fail_unless (g_file_get_contents (gp, &gd, &gs, NULL));
        fail_unless (g_file_set_contents (path, gd, gs, NULL));
        g_free (gd);
      } else {
        ok = FALSE;
      }
      g_free (gp);
      break;
    }
  }
  (void) t;
  g_free (m);
  g_free (data);
  g_free (dp);
  return ok;
}

GST_START_TEST (test_start_errors)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (start_error_cases); i++) {
    const StartErrorCase *c = &start_error_cases[i];
    GstHarness *h;
    GstBus *bus;
    gchar *path;
    EcgTestTmpDir t;

    GST_INFO ("case %s", c->name);
    ecg_test_tmp_dir_init (&t);
    path = ecg_test_tmp_dir_file (&t, "model.safetensors");
    if (!write_bad_model (c->setup, path, &t)) {
      g_printerr ("%s: no golden data, case skipped\n", c->name);
      g_free (path);
      ecg_test_tmp_dir_clear (&t);
      continue;
    }
    /* the harness starts the element at once: start with the default
     * model, then swap in the bad one */
    h = make_harness (NULL, c->threshold, TRUE);
    ecg_test_harness_stop (h);
    g_object_set (h->element, "model", path, NULL);
    bus = ecg_test_attach_bus (h);
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ecg_test_assert_one_error (bus, h->element, c->domain (), c->code, c->has,
        ECG_TEST_THEN_STATE_CHANGE | ECG_TEST_THEN_STREAM_FAILED, c->name);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    ecg_test_teardown (h, bus);
    g_free (path);
    ecg_test_tmp_dir_clear (&t);
  }
}

GST_END_TEST;

/* ---- errors while streaming ---- */

typedef struct
{
  const gchar *name;
  const gchar *caps;
  gint rows_x4;                 /* buffer size in quarter rows */
  gint meta_beats;              /* beats in the meta; -1 = rows */
  GstFlowReturn flow;
  const gchar *has;
} StreamErrorCase;

/* *INDENT-OFF* */
static const StreamErrorCase stream_error_cases[] = {
  {"rate 360", ECG_BEATS_CAPS_NAME ", format=(string)F32LE, "
      "length=(int)256, rate=(int)360", 8, -1, GST_FLOW_NOT_NEGOTIATED,
      "audioresample"},
  {"length 128", ECG_BEATS_CAPS_NAME ", format=(string)F32LE, "
      "length=(int)128, rate=(int)250", 8, -1, GST_FLOW_NOT_NEGOTIATED,
      "length=256"},
  {"2.5 rows", BEATS_CAPS, 10, -1, GST_FLOW_ERROR, "not a whole number"},
  {"half a row", BEATS_CAPS, 2, -1, GST_FLOW_ERROR, "not a whole number"},
  {"meta of 3 beats on 2 rows", BEATS_CAPS, 8, 3, GST_FLOW_ERROR, "meta"},
  {"meta of 1 beat on 2 rows", BEATS_CAPS, 8, 1, GST_FLOW_ERROR, "meta"},
};
/* *INDENT-ON* */

GST_START_TEST (test_stream_errors)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (stream_error_cases); i++) {
    const StreamErrorCase *c = &stream_error_cases[i];
    GstElement *el = gst_element_factory_make ("vaescore", NULL);
    gsize size = (gsize) c->rows_x4 * LEN * sizeof (gfloat) / 4;
    gfloat *data = g_new0 (gfloat, size / sizeof (gfloat) + 1);
    GstHarness *h;
    GstBus *bus;
    GstBuffer *buf;
    EcgBeat *beats;

    GST_INFO ("case %s", c->name);
    h = gst_harness_new_with_element (el, "sink", "src");
    gst_object_unref (el);
    bus = ecg_test_attach_bus (h);
    gst_harness_set_src_caps_str (h, c->caps);
    buf = gst_buffer_new_memdup (data, size);
    if (c->meta_beats >= 0) {
      beats = make_records (c->meta_beats, 0);
      ecg_test_add_beats (buf, beats, c->meta_beats);
      g_free (beats);
    }
    fail_unless_equals_int (gst_harness_push (h, buf), c->flow);
    ecg_test_assert_one_error (bus, h->element, GST_STREAM_ERROR,
        GST_STREAM_ERROR_FORMAT, c->has,
        ECG_TEST_THEN_STATE_CHANGE | ECG_TEST_THEN_STREAM_FAILED, c->name);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    ecg_test_detach_bus (h, bus);
    gst_harness_teardown (h);
    g_free (data);
  }
}

GST_END_TEST;

static Suite *
vaescore_suite (void)
{
  Suite *s = suite_create ("vaescore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_known_answers);
  tcase_add_test (tc, test_golden_oracle);
  tcase_add_test (tc, test_uncalibrated_with_threshold);
  tcase_add_test (tc, test_outliers);
  tcase_add_test (tc, test_post_messages);
  tcase_add_test (tc, test_adapt);
  tcase_add_test (tc, test_streaming_equivalence);
  tcase_add_test (tc, test_flush_resets);
  tcase_add_test (tc, test_eos_no_beats);
  tcase_add_test (tc, test_nonfinite_row);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_start_errors);
  tcase_add_test (tc, test_stream_errors);
  return s;
}

GST_CHECK_MAIN (vaescore);

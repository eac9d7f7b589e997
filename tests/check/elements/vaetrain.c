/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Tests of vaetrain on synthetic beats of two morphologies: the model file
 * it writes (weights, metadata, calibration) loads in the kernels and in
 * vaescore, progress messages come before EOS, the loss falls, a seed
 * gives byte-identical files, the plot is a PNG, NaN rows are left out,
 * max-beats bounds what is kept, state changes start afresh, and one
 * negative test per error the element can report (docs/elements.md).  Training
 * runs under valgrind too, so the runs are small.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "ecggsttest.h"
#include "safetensors.h"
#include "score.h"
#include "vae.h"

#define LEN VAE_BEAT_LENGTH
#define D VAE_LATENT_DIMS

static gchar *
beats_caps (gint rate)
{
  return g_strdup_printf (ECG_BEATS_CAPS_NAME ", format=(string)F32LE, "
      "length=(int)256, rate=(int)%d", rate);
}

/* ---- beats ---- */

typedef struct
{
  gfloat *rows;
  EcgBeat *beats;
  guint n;
} Beats;

/* @n beats, every 4th of morphology 1 (and premature), a beat every 200
 * samples otherwise */
static void
beats_init (Beats * b, guint n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint64 start = 0, prev = 0;
  guint i;

  b->n = n;
  b->rows = g_new (gfloat, (gsize) MAX (n, 1) * LEN);
  b->beats = g_new0 (EcgBeat, MAX (n, 1));
  for (i = 0; i < n; i++) {
    guint morph = i % 4 == 3;
    guint64 step = morph ? 140 : 200;

    ecg_test_synth_beat (b->rows + (gsize) i * LEN, LEN, morph, rand);
    b->beats[i].start = start;
    b->beats[i].length = step;
    b->beats[i].rpeak = start + 60;
    b->beats[i].rr = i ? b->beats[i].rpeak - prev : 0;
    prev = b->beats[i].rpeak;
    start += step;
  }
  g_rand_free (rand);
}

static void
beats_clear (Beats * b)
{
  g_free (b->rows);
  g_free (b->beats);
}

/* ---- running the element ---- */

typedef struct
{
  guint epochs;
  guint batch_size;
  guint64 seed;
  guint max_beats;              /* 0: the default */
  gint rate;
  const gchar *location;
  const gchar *plot;
} Props;

typedef struct
{
  GstHarness *h;
  GstBus *bus;
} Run;

static void
run_start (Run * r, const Props * p)
{
  GstElement *el = gst_element_factory_make ("vaetrain", NULL);
  gchar *caps = beats_caps (p->rate);

  fail_unless (el != NULL);
  g_object_set (el, "location", p->location, "epochs", p->epochs,
      "batch-size", p->batch_size, "seed", p->seed, "plot-location", p->plot,
      NULL);
  if (p->max_beats)
    g_object_set (el, "max-beats", p->max_beats, NULL);
  r->h = gst_harness_new_with_element (el, "sink", NULL);
  gst_object_unref (el);
  r->bus = ecg_test_attach_bus (r->h);
  gst_harness_set_src_caps_str (r->h, caps);
  g_free (caps);
}

static void
run_clear (Run * r)
{
  ecg_test_teardown (r->h, r->bus);
}

/* Pushes the beats in buffers of @per_buffer with their meta */
static void
push_beats (Run * r, const Beats * b, guint per_buffer)
{
  guint i;

  for (i = 0; i < b->n; i += per_buffer) {
    guint k = MIN (per_buffer, b->n - i);
    GstBuffer *buf = gst_buffer_new_memdup (b->rows + (gsize) i * LEN,
        (gsize) k * LEN * sizeof (gfloat));

    ecg_test_add_beats (buf, b->beats + i, k);
    fail_unless_equals_int (gst_harness_push (r->h, buf), GST_FLOW_OK);
  }
}

/* What the bus says, in order */
typedef struct
{
  GArray *losses;               /* gdouble per vaetrain-progress */
  gboolean eos;                 /* EOS came, after every progress */
  guint warnings;
  GError *warning;              /* the first */
  GError *error;                /* the first */
  guint errors;                 /* not counting basesink's "Failed to
                                 * start" (CORE STATE_CHANGE) after ours */
} BusLog;

static void
bus_log_read (BusLog * l, GstBus * bus, guint epochs)
{
  GstMessage *msg;

  l->losses = g_array_new (FALSE, FALSE, sizeof (gdouble));
  l->eos = FALSE;
  l->warnings = l->errors = 0;
  l->warning = l->error = NULL;
  while ((msg = gst_bus_pop (bus))) {
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ELEMENT:
        if (gst_message_has_name (msg, "vaetrain-progress")) {
          const GstStructure *s = gst_message_get_structure (msg);
          guint epoch = 0, n = 0;
          gdouble loss = NAN;

          fail_if (l->eos, "progress after EOS");
          fail_unless (gst_structure_get_uint (s, "epoch", &epoch));
          fail_unless (gst_structure_get_uint (s, "epochs", &n));
          fail_unless (gst_structure_get_double (s, "loss", &loss));
          fail_unless_equals_int (epoch, l->losses->len + 1);
          fail_unless_equals_int (n, epochs);
          fail_unless (isfinite (loss) && loss > 0.0, "loss %g", loss);
          g_array_append_val (l->losses, loss);
        }
        break;
      case GST_MESSAGE_EOS:
        l->eos = TRUE;
        break;
      case GST_MESSAGE_WARNING:
        if (l->warnings++ == 0)
          gst_message_parse_warning (msg, &l->warning, NULL);
        break;
      case GST_MESSAGE_ERROR:
        if (l->errors++ == 0) {
          gst_message_parse_error (msg, &l->error, NULL);
        } else {
          GError *e = NULL;

          gst_message_parse_error (msg, &e, NULL);
          if (g_error_matches (e, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE))
            l->errors--;
          g_error_free (e);
        }
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
}

static void
bus_log_clear (BusLog * l)
{
  g_array_unref (l->losses);
  g_clear_error (&l->warning);
  g_clear_error (&l->error);
}

/* Trains on @b with @p; asserts a clean run (progress 1..epochs, then EOS,
 * no error) and returns the losses (transfer full). */
static GArray *
train (const Props * p, const Beats * b, guint per_buffer)
{
  Run r;
  BusLog l;
  GArray *losses;

  run_start (&r, p);
  push_beats (&r, b, per_buffer);
  fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
  bus_log_read (&l, r.bus, p->epochs);
  fail_unless (l.error == NULL, "error: %s", l.error ? l.error->message : "");
  fail_unless_equals_int (l.warnings, 0);
  fail_unless_equals_int (l.losses->len, p->epochs);
  fail_unless (l.eos, "no EOS message after training");
  losses = g_array_ref (l.losses);
  bus_log_clear (&l);
  run_clear (&r);
  return losses;
}

/* Metadata and calibration of a written model; @cal (out) */
static void
assert_model_file (const gchar * path, gint rate, ScoreCalibration * cal)
{
  gfloat *params = g_new (gfloat, VAE_N_PARAMS);
  SafetensorsFile *f = NULL;
  gchar detail[256] = "", *want_rate = g_strdup_printf ("%d", rate);
  const gchar *v;
  guint i;

  fail_unless_equals_int (safetensors_read_lightvae (path, params, &f,
          detail, sizeof (detail)), SAFETENSORS_OK);
  fail_unless_equals_string (safetensors_get_metadata (f, "arch"), "LightVAE");
  fail_unless_equals_string (safetensors_get_metadata (f, "rate"), want_rate);
  fail_unless_equals_string (safetensors_get_metadata (f, "beat_length"),
      "256");
  fail_unless_equals_string (safetensors_get_metadata (f, "latent_dims"), "2");
  fail_unless_equals_string (safetensors_get_metadata (f, "input"),
      score_input_name ());
  v = safetensors_get_metadata (f, "score_calibration");
  fail_unless (v != NULL, "no score_calibration");
  fail_unless_equals_int (score_calibration_from_kv (cal, v), SCORE_OK);
  fail_unless (isfinite (cal->threshold) && cal->threshold > 0.0);
  for (i = 0; i < VAE_N_PARAMS; i++)
    fail_unless (isfinite (params[i]), "parameter %u is %g", i, params[i]);
  safetensors_free (f);
  g_free (params);
  g_free (want_rate);
}

static guint
n_calibration (guint n)
{
  guint n_train = (guint) floor (n * 0.75 + 0.5);

  return n - MIN (n_train, n - 2);
}

static gboolean
files_equal (const gchar * a, const gchar * b)
{
  gchar *da = NULL, *db = NULL;
  gsize sa = 0, sb = 0;
  gboolean eq;

  fail_unless (g_file_get_contents (a, &da, &sa, NULL));
  fail_unless (g_file_get_contents (b, &db, &sb, NULL));
  eq = sa == sb && memcmp (da, db, sa) == 0;
  g_free (da);
  g_free (db);
  return eq;
}

/* ---- training ---- */

/* A few hundred beats, 3 epochs: the file carries the weights, the stream
 * it was trained for and the calibration; vaescore loads it and scores
 * with it; the plot is a 5 x 5 grid of 220 x 140 cells. */
GST_START_TEST (test_train)
{
  const guint n = ECG_TEST_SCALE (300, 60);
  Props p = { 3, 32, 1, 0, 250, NULL, NULL };
  ScoreCalibration cal;
  gchar *model, *plot;
  GArray *losses;
  GstElement *el;
  GstHarness *h;
  GstBuffer *out;
  GstMapInfo map;
  Beats b;
  EcgTestTmpDir t;
  guint i;

  ecg_test_tmp_dir_init (&t);
  model = ecg_test_tmp_dir_file (&t, "model.safetensors");
  plot = ecg_test_tmp_dir_file (&t, "decoded.png");
  p.location = model;
  p.plot = plot;
  beats_init (&b, n, 1);
  losses = train (&p, &b, 25);
  assert_model_file (model, 250, &cal);
  fail_unless_equals_uint64 (cal.n_beats, n_calibration (n));
  ecg_test_assert_png (plot, 5 * 220, 5 * 140);

  /* vaescore takes it, calibration and all */
  el = gst_element_factory_make ("vaescore", NULL);
  g_object_set (el, "model", model, NULL);
  h = gst_harness_new_with_element (el, "sink", "src");
  gst_object_unref (el);
  gst_harness_set_src_caps_str (h, ECG_BEATS_CAPS_NAME ", format=F32LE, "
      "length=256, rate=250");
  out = gst_harness_push_and_pull (h, gst_buffer_new_memdup (b.rows,
          16 * LEN * sizeof (gfloat)));
  fail_unless (out != NULL);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, 16 * ECG_SCORE_RECORD_FLOATS (D) *
      sizeof (gfloat));
  for (i = 0; i < map.size / sizeof (gfloat); i++)
    fail_unless (isfinite (((gfloat *) map.data)[i]));
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  g_array_unref (losses);
  beats_clear (&b);
  g_free (model);
  g_free (plot);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* The loss per beat falls over the epochs: the last is below the first,
 * and more epochs end lower. */
GST_START_TEST (test_loss_decreases)
{
  const guint n = ECG_TEST_SCALE (200, 40), epochs = ECG_TEST_SCALE (12, 4);
  Props p = { 0, 16, 3, 0, 250, NULL, NULL };
  GArray *few, *many;
  gdouble first, last;
  gchar *model;
  Beats b;
  EcgTestTmpDir t;

  ecg_test_tmp_dir_init (&t);
  model = ecg_test_tmp_dir_file (&t, "model.safetensors");
  p.location = model;
  beats_init (&b, n, 2);
  p.epochs = 2;
  few = train (&p, &b, 64);
  p.epochs = epochs;
  many = train (&p, &b, 64);
  first = g_array_index (many, gdouble, 0);
  last = g_array_index (many, gdouble, epochs - 1);
  GST_INFO ("loss %g -> %g over %u epochs", first, last, epochs);
  fail_unless (last < 0.8 * first, "loss %g -> %g over %u epochs", first,
      last, epochs);
  /* the same seed: the first epochs agree, then training goes on */
  fail_unless_equals_float (g_array_index (few, gdouble, 0), first);
  fail_unless (last < g_array_index (few, gdouble, 1));

  g_array_unref (few);
  g_array_unref (many);
  beats_clear (&b);
  g_free (model);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* A seed gives the same file byte for byte, however the beats are
 * buffered; another seed another file. */
GST_START_TEST (test_deterministic)
{
  const guint n = ECG_TEST_SCALE (120, 32);
  Props p = { 2, 32, 42, 0, 250, NULL, NULL };
  gchar *path[3];
  GArray *l;
  Beats b;
  EcgTestTmpDir t;
  guint i;

  ecg_test_tmp_dir_init (&t);
  beats_init (&b, n, 3);
  for (i = 0; i < 3; i++) {
    gchar name[32];

    g_snprintf (name, sizeof (name), "model%u.safetensors", i);
    path[i] = ecg_test_tmp_dir_file (&t, name);
    p.location = path[i];
    p.seed = i < 2 ? 42 : 43;
    l = train (&p, &b, i == 0 ? 7 : 64);
    g_array_unref (l);
  }
  fail_unless (files_equal (path[0], path[1]), "same seed, other file");
  fail_if (files_equal (path[0], path[2]), "other seed, same file");
  for (i = 0; i < 3; i++)
    g_free (path[i]);
  beats_clear (&b);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* Rows with a NaN or inf sample are left out with one warning: the model
 * is the one trained without them. */
GST_START_TEST (test_nonfinite_rows)
{
  const guint n = ECG_TEST_SCALE (100, 32);
  Props p = { 1, 32, 5, 0, 250, NULL, NULL };
  gchar *clean, *dirty;
  Beats b, bad;
  GArray *l;
  EcgTestTmpDir t;
  Run r;
  BusLog log;
  guint i, j = 0;

  ecg_test_tmp_dir_init (&t);
  clean = ecg_test_tmp_dir_file (&t, "clean.safetensors");
  dirty = ecg_test_tmp_dir_file (&t, "dirty.safetensors");
  beats_init (&b, n, 4);
  p.location = clean;
  l = train (&p, &b, 10);
  g_array_unref (l);

  /* the same beats with three bad rows among them */
  bad.n = n + 3;
  bad.rows = g_new (gfloat, (gsize) bad.n * LEN);
  bad.beats = g_new0 (EcgBeat, bad.n);
  for (i = 0; i < bad.n; i++) {
    gfloat *row = bad.rows + (gsize) i * LEN;

    if (i == 5 || i == 17 || i == n / 2) {
      memcpy (row, b.rows, LEN * sizeof (gfloat));
      row[i % LEN] = i == 17 ? INFINITY : NAN;
      bad.beats[i] = b.beats[0];
      continue;
    }
    memcpy (row, b.rows + (gsize) j * LEN, LEN * sizeof (gfloat));
    bad.beats[i] = b.beats[j++];
  }
  fail_unless_equals_int (j, n);
  p.location = dirty;
  run_start (&r, &p);
  push_beats (&r, &bad, 10);
  fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
  bus_log_read (&log, r.bus, p.epochs);
  fail_unless (log.error == NULL);
  fail_unless_equals_int (log.warnings, 1);
  fail_unless (g_error_matches (log.warning, GST_STREAM_ERROR,
          GST_STREAM_ERROR_FORMAT), "%s", log.warning->message);
  fail_unless (log.eos);
  fail_unless (files_equal (clean, dirty), "the bad rows changed the model");
  bus_log_clear (&log);
  run_clear (&r);

  beats_clear (&b);
  beats_clear (&bad);
  g_free (clean);
  g_free (dirty);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* max-beats=16 with many more beats pushed: 16 are kept (12 train, 4
 * calibrate, as the calibration's beat count shows) and it still trains;
 * the rate of the stream goes into the model. */
GST_START_TEST (test_max_beats)
{
  const guint n = ECG_TEST_SCALE (1000, 300);
  Props p = { 1, 32, 6, 16, 360, NULL, NULL };
  ScoreCalibration cal;
  gchar *model;
  GArray *l;
  Beats b;
  EcgTestTmpDir t;

  ecg_test_tmp_dir_init (&t);
  model = ecg_test_tmp_dir_file (&t, "model.safetensors");
  p.location = model;
  beats_init (&b, n, 5);
  l = train (&p, &b, 50);
  assert_model_file (model, 360, &cal);
  fail_unless_equals_uint64 (cal.n_beats, n_calibration (16));

  g_array_unref (l);
  beats_clear (&b);
  g_free (model);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* Three runs on one element write the same model: nothing of a run is
 * left for the next. */
GST_START_TEST (test_state_cycles)
{
  const guint n = ECG_TEST_SCALE (60, 24);
  Props p = { 1, 16, 8, 0, 250, NULL, NULL };
  gchar *path[3], *caps = beats_caps (250);
  Run r;
  Beats b;
  EcgTestTmpDir t;
  guint cycle;

  ecg_test_tmp_dir_init (&t);
  beats_init (&b, n, 7);
  p.location = "unused";
  run_start (&r, &p);
  for (cycle = 0; cycle < 3; cycle++) {
    gchar name[32];
    BusLog log;

    g_snprintf (name, sizeof (name), "cycle%u.safetensors", cycle);
    path[cycle] = ecg_test_tmp_dir_file (&t, name);
    ecg_test_harness_stop (r.h);
    g_object_set (r.h->element, "location", path[cycle], NULL);
    ecg_test_harness_new_stream (r.h, caps);
    push_beats (&r, &b, 8 + cycle * 5);
    fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
    bus_log_read (&log, r.bus, 1);
    fail_unless (log.error == NULL);
    fail_unless (log.eos);
    bus_log_clear (&log);
    if (cycle > 0)
      fail_unless (files_equal (path[0], path[cycle]), "cycle %u", cycle);
  }
  run_clear (&r);
  for (cycle = 0; cycle < 3; cycle++)
    g_free (path[cycle]);
  g_free (caps);
  beats_clear (&b);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* ---- errors ---- */

static void
assert_error (const BusLog * l, GQuark domain, gint code, const gchar * what)
{
  fail_unless (l->error != NULL, "%s: no error", what);
  fail_unless (l->error->domain == domain && l->error->code == code,
      "%s: got %s %d (%s)", what, g_quark_to_string (l->error->domain),
      l->error->code, l->error->message);
}

/* No location (unset or empty): RESOURCE NOT_FOUND when it starts */
GST_START_TEST (test_no_location)
{
  const gchar *locations[] = { NULL, "" };
  Props p = { 1, 32, 0, 0, 250, "unused", NULL };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (locations); i++) {
    Run r;
    BusLog l;

    run_start (&r, &p);
    ecg_test_harness_stop (r.h);
    g_object_set (r.h->element, "location", locations[i], NULL);
    fail_unless_equals_int (gst_element_set_state (r.h->element,
            GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    bus_log_read (&l, r.bus, 1);
    assert_error (&l, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "no location");
    fail_unless_equals_int (l.errors, 1);
    bus_log_clear (&l);
    run_clear (&r);
  }
}

GST_END_TEST;

/* A location that cannot be written (a directory): the error comes at EOS,
 * after training, and no EOS message follows; nothing is left behind. */
GST_START_TEST (test_unwritable_location)
{
  const guint n = ECG_TEST_SCALE (40, 20);
  Props p = { 1, 32, 0, 0, 250, NULL, NULL };
  gchar *dir, *tmp;
  Run r;
  BusLog l;
  Beats b;
  EcgTestTmpDir t;

  ecg_test_tmp_dir_init (&t);
  dir = ecg_test_tmp_dir_file (&t, "model.safetensors");
  tmp = g_strconcat (dir, ".tmp", NULL);
  fail_unless_equals_int (g_mkdir (dir, 0700), 0);
  p.location = dir;
  beats_init (&b, n, 8);
  run_start (&r, &p);
  push_beats (&r, &b, 10);
  fail_if (gst_harness_push_event (r.h, gst_event_new_eos ()));
  bus_log_read (&l, r.bus, 1);
  assert_error (&l, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
      "directory");
  fail_unless_equals_int (l.errors, 1);
  fail_unless_equals_int (l.losses->len, 1);
  fail_if (l.eos, "EOS after a failed write");
  fail_unless (g_file_test (dir, G_FILE_TEST_IS_DIR));
  fail_if (g_file_test (tmp, G_FILE_TEST_EXISTS), "%s left behind", tmp);
  bus_log_clear (&l);
  run_clear (&r);
  beats_clear (&b);
  g_free (dir);
  g_free (tmp);
  ecg_test_tmp_dir_clear (&t);
}

GST_END_TEST;

/* Zero to two beats at EOS (nothing to train on, or fewer than the two
 * the calibration needs): STREAM FORMAT, no file, no EOS message. */
GST_START_TEST (test_too_few_beats)
{
  guint n;

  for (n = 0; n < 5; n++) {
    Props p = { 1, 32, 0, 0, 250, NULL, NULL };
    gchar *model;
    Run r;
    BusLog l;
    Beats b;
    EcgTestTmpDir t;

    ecg_test_tmp_dir_init (&t);
    model = ecg_test_tmp_dir_file (&t, "model.safetensors");
    p.location = model;
    beats_init (&b, n, 9);
    run_start (&r, &p);
    push_beats (&r, &b, 1);
    if (n < 3) {
      fail_if (gst_harness_push_event (r.h, gst_event_new_eos ()));
      bus_log_read (&l, r.bus, 1);
      assert_error (&l, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
          "too few beats");
      fail_unless_equals_int (l.errors, 1);
      fail_if (l.eos);
      fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
    } else {
      /* three beats are enough: one trains, two calibrate */
      fail_unless (gst_harness_push_event (r.h, gst_event_new_eos ()));
      bus_log_read (&l, r.bus, 1);
      fail_unless (l.error == NULL, "%s", l.error->message);
      fail_unless (l.eos);
      fail_unless (g_file_test (model, G_FILE_TEST_EXISTS));
    }
    bus_log_clear (&l);
    run_clear (&r);
    beats_clear (&b);
    g_free (model);
    ecg_test_tmp_dir_clear (&t);
  }
}

GST_END_TEST;

/* A buffer that is not whole rows, or whose meta counts other rows */
GST_START_TEST (test_bad_buffers)
{
  const gint bad_rows_x4[] = { 6, 8, 8 };
  const gint meta_beats[] = { -1, 3, 1 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad_rows_x4); i++) {
    Props p = { 1, 32, 0, 0, 250, "unused", NULL };
    gsize size = (gsize) bad_rows_x4[i] * LEN * sizeof (gfloat) / 4;
    gfloat *data = g_new0 (gfloat, size / sizeof (gfloat));
    GstBuffer *buf = gst_buffer_new_memdup (data, size);
    Run r;
    BusLog l;

    if (meta_beats[i] >= 0) {
      EcgBeat *beats = g_new0 (EcgBeat, meta_beats[i]);

      run_start (&r, &p);
      ecg_test_add_beats (buf, beats, meta_beats[i]);
      g_free (beats);
    } else {
      run_start (&r, &p);
    }
    fail_unless_equals_int (gst_harness_push (r.h, buf), GST_FLOW_ERROR);
    bus_log_read (&l, r.bus, 1);
    assert_error (&l, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "bad buffer");
    fail_unless_equals_int (l.errors, 1);
    bus_log_clear (&l);
    run_clear (&r);
    g_free (data);
  }
}

GST_END_TEST;

static Suite *
vaetrain_suite (void)
{
  Suite *s = suite_create ("vaetrain");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, NULL, ecg_test_release_font_caches);
  tcase_add_test (tc, test_train);
  tcase_add_test (tc, test_loss_decreases);
  tcase_add_test (tc, test_deterministic);
  tcase_add_test (tc, test_nonfinite_rows);
  tcase_add_test (tc, test_max_beats);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_no_location);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_too_few_beats);
  tcase_add_test (tc, test_bad_buffers);
  return s;
}

GST_CHECK_MAIN (vaetrain);

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The whole front end and scorer on CUDA against the CPU (suite "cuda"):
 *
 *   csvecgsrc ! rickerconv ! nmsgate ! beatembed ! vaescore ! fakesink
 *
 * on tests/files/ecg-15s-250hz.csv (250 Hz, the default model's rate: the
 * 360 Hz fixture would need audioresample, which has no CUDA path; the
 * file is the MLII column of ecg-15s-360hz.csv linearly interpolated at
 * i / 250 s, 3750 samples), run three times:
 *
 *   cpu    every element backend=cpu: the reference
 *   cuda   every element backend=cuda: each link must negotiate
 *          memory:CUDAMemory and every buffer be CUDA memory
 *   mixed  backend=cuda, but system memory forced on some links (csvecgsrc
 *          on the CPU, capsfilters after rickerconv, beatembed and
 *          vaescore): the elements' upload and download paths
 *
 * Each CUDA run must give the CPU run's gates and beats exactly, the same
 * beat rows bit for bit, and the same records within tolerances
 * (mu, logvar, reconstruction error: 1e-4 + 1e-3 |x|; score: 1e-3 +
 * 1e-3 |x|; outlier flags equal unless the two scores are within that
 * tolerance), and leave the CUDA allocator's "staging-copies" at 0: no
 * element mapped CUDA memory for the CPU.  The probes read CUDA buffers
 * with an explicit cudaMemcpy (ECG_MAP_CUDA gives the device pointer), so
 * they do not count.
 *
 * Prints one "ok"/"not ok" line per check; exit 0 all passed, 1 a check
 * failed, 77 (meson: SKIP) built without CUDA or no device.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

#include "ecg/ecgmeta.h"
#include "gstecgcudamemory.h"   /* ECG_MAP_CUDA and the names only */
#include "cudadev.h"
#include "tap.h"

#define N_POINTS 5
static const gchar *points[N_POINTS] = { "s", "r", "n", "b", "v" };

static const gchar *point_names[N_POINTS] = {
  "csvecgsrc", "rickerconv", "nmsgate", "beatembed", "vaescore"
};

typedef struct
{
  const gchar *name;
  GArray *gates;                /* EcgGate, from nmsgate's metas */
  GArray *beats;                /* EcgBeat, from beatembed's metas */
  GArray *rows;                 /* gfloat, beatembed's output */
  GArray *recs;                 /* gfloat, vaescore's output */
  guint buffers[N_POINTS], cuda_buffers[N_POINTS], empty[N_POINTS];
  gchar *caps[N_POINTS];
  gboolean copy_failed;
} Run;

static gboolean
is_cuda_memory (GstMemory * mem)
{
  return mem && mem->allocator && mem->allocator->mem_type &&
      !strcmp (mem->allocator->mem_type, ECG_CUDA_MEMORY_TYPE);
}

/* Appends @buf's bytes: CUDA memory through cudaMemcpy on the device
 * pointer (not a staging copy), system memory through a map */
static gboolean
append_bytes (GArray * arr, GstBuffer * buf)
{
  GstMemory *mem;
  GstMapInfo map;
  guint old = arr->len;
  gsize size = gst_buffer_get_size (buf);
  gboolean ok = TRUE;

  if (size == 0)
    return TRUE;
  g_array_set_size (arr, old + size / sizeof (gfloat));
  mem = gst_buffer_n_memory (buf) == 1 ? gst_buffer_peek_memory (buf, 0) : NULL;
  if (is_cuda_memory (mem)) {
    if (!gst_memory_map (mem, &map, GST_MAP_READ | ECG_MAP_CUDA))
      return FALSE;
    ok = ecg_cuda_memcpy_d2h (&g_array_index (arr, gfloat, old), map.data,
        size, NULL) == ECG_CUDA_OK;
    gst_memory_unmap (mem, &map);
  } else {
    if (!gst_buffer_map (buf, &map, GST_MAP_READ))
      return FALSE;
    memcpy (&g_array_index (arr, gfloat, old), map.data, size);
    gst_buffer_unmap (buf, &map);
  }
  return ok;
}

static GstPadProbeReturn
probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = g_object_get_data (G_OBJECT (pad), "run");
  guint p = GPOINTER_TO_UINT (user_data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMemory *mem;

  run->buffers[p]++;
  /* nmsgate sends its held gates on an empty buffer: no memory at all */
  if (gst_buffer_get_size (buf) == 0)
    run->empty[p]++;
  mem = gst_buffer_n_memory (buf) > 0 ? gst_buffer_peek_memory (buf, 0) : NULL;
  if (is_cuda_memory (mem))
    run->cuda_buffers[p]++;
  if (!run->caps[p]) {
    GstCaps *caps = gst_pad_get_current_caps (pad);

    run->caps[p] = caps ? gst_caps_to_string (caps) : g_strdup ("(none)");
    gst_clear_caps (&caps);
  }

  if (!strcmp (points[p], "n")) {
    EcgGateMeta *m = ecg_buffer_get_gate_meta (buf);

    if (m)
      g_array_append_vals (run->gates, m->gates, m->n_gates);
  } else if (!strcmp (points[p], "b")) {
    EcgBeatMeta *m = ecg_buffer_get_beat_meta (buf);

    if (m)
      g_array_append_vals (run->beats, m->beats, m->n_beats);
    if (!append_bytes (run->rows, buf))
      run->copy_failed = TRUE;
  } else if (!strcmp (points[p], "v")) {
    if (!append_bytes (run->recs, buf))
      run->copy_failed = TRUE;
  }
  return GST_PAD_PROBE_OK;
}

static guint64
staging_copies (void)
{
  GstAllocator *a = gst_allocator_find (ECG_CUDA_MEMORY_TYPE "0");
  guint64 n = 0;

  if (a) {
    g_object_get (a, "staging-copies", &n, NULL);
    gst_object_unref (a);
  }
  return n;
}

/* Runs @desc to EOS, probing the src pads of the elements named in
 * points[]; returns whether it reached EOS */
static gboolean
run_pipeline (Run * run, const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  gboolean ok = FALSE;
  guint i;

  printf ("# %s: %s\n", run->name, desc);
  if (!p) {
    printf ("# parse error: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    return FALSE;
  }
  run->gates = g_array_new (FALSE, FALSE, sizeof (EcgGate));
  run->beats = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
  run->rows = g_array_new (FALSE, FALSE, sizeof (gfloat));
  run->recs = g_array_new (FALSE, FALSE, sizeof (gfloat));
  for (i = 0; i < N_POINTS; i++) {
    GstElement *e = gst_bin_get_by_name (GST_BIN (p), points[i]);
    GstPad *pad = gst_element_get_static_pad (e, "src");

    g_object_set_data (G_OBJECT (pad), "run", run);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, probe,
        GUINT_TO_POINTER (i), NULL);
    gst_object_unref (pad);
    gst_object_unref (e);
  }

  bus = gst_element_get_bus (p);
  if (gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
    msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      printf ("# error from %s: %s (%s)\n", GST_OBJECT_NAME (msg->src),
          err->message, debug ? debug : "");
      g_clear_error (&err);
      g_free (debug);
    } else if (msg) {
      ok = TRUE;
    } else {
      printf ("# timed out\n");
    }
    gst_clear_message (&msg);
  } else {
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg) {
      gst_message_parse_error (msg, &err, NULL);
      printf ("# start failed: %s\n", err->message);
      g_clear_error (&err);
      gst_message_unref (msg);
    }
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);

  for (i = 0; i < N_POINTS; i++)
    printf ("# %s: %s out: %u buffers (%u empty), %u in CUDA memory, caps "
        "%s\n", run->name, point_names[i], run->buffers[i], run->empty[i],
        run->cuda_buffers[i], run->caps[i] ? run->caps[i] : "(none)");
  printf ("# %s: %u gates, %u beats, %u records\n", run->name,
      run->gates->len, run->beats->len,
      run->recs->len / ECG_SCORE_RECORD_FLOATS (2));
  return ok;
}

static void
run_free (Run * run)
{
  guint i;

  if (run->gates) {
    g_array_unref (run->gates);
    g_array_unref (run->beats);
    g_array_unref (run->rows);
    g_array_unref (run->recs);
  }
  for (i = 0; i < N_POINTS; i++)
    g_free (run->caps[i]);
}

static gboolean
close_to (gfloat a, gfloat b, gdouble abs_tol, gdouble rel_tol)
{
  if (isnan (a) && isnan (b))
    return TRUE;
  return fabs ((gdouble) a - b) <= abs_tol + rel_tol * fabs ((gdouble) b);
}

/* @run against the CPU reference @ref */
static void
compare (const Run * run, const Run * ref)
{
  const guint D = 2, R = ECG_SCORE_RECORD_FLOATS (2);
  guint i, n, bad_gate = G_MAXUINT, bad_beat = G_MAXUINT, bad_rec = G_MAXUINT;
  guint flag_diff = 0;

  check (run->gates->len == ref->gates->len && run->gates->len > 0,
      "%s: %u gates (cpu: %u)", run->name, run->gates->len, ref->gates->len);
  n = MIN (run->gates->len, ref->gates->len);
  for (i = 0; i < n && bad_gate == G_MAXUINT; i++) {
    const EcgGate *a = &g_array_index (run->gates, EcgGate, i);
    const EcgGate *b = &g_array_index (ref->gates, EcgGate, i);

    if (a->gate != b->gate || a->rpeak != b->rpeak)
      bad_gate = i;
  }
  check (bad_gate == G_MAXUINT, "%s: gates and R peaks equal the CPU's%s",
      run->name, bad_gate == G_MAXUINT ? "" : " (first difference below)");
  if (bad_gate != G_MAXUINT)
    printf ("#   gate %u: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " vs cpu %"
        G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n", bad_gate,
        g_array_index (run->gates, EcgGate, bad_gate).gate,
        g_array_index (run->gates, EcgGate, bad_gate).rpeak,
        g_array_index (ref->gates, EcgGate, bad_gate).gate,
        g_array_index (ref->gates, EcgGate, bad_gate).rpeak);

  check (run->beats->len == ref->beats->len && run->beats->len > 0,
      "%s: %u beats (cpu: %u)", run->name, run->beats->len, ref->beats->len);
  n = MIN (run->beats->len, ref->beats->len);
  for (i = 0; i < n && bad_beat == G_MAXUINT; i++)
    if (memcmp (&g_array_index (run->beats, EcgBeat, i),
            &g_array_index (ref->beats, EcgBeat, i), sizeof (EcgBeat)))
      bad_beat = i;
  check (bad_beat == G_MAXUINT, "%s: beat metas (start, length, R peak, RR, "
      "flags) equal the CPU's%s", run->name,
      bad_beat == G_MAXUINT ? "" : " (first difference at a beat below)");
  if (bad_beat != G_MAXUINT)
    printf ("#   beat %u\n", bad_beat);

  check (run->rows->len == ref->rows->len && run->rows->len > 0 &&
      !memcmp (run->rows->data, ref->rows->data,
          run->rows->len * sizeof (gfloat)),
      "%s: beat rows equal the CPU's bit for bit (%u floats)", run->name,
      run->rows->len);

  check (run->recs->len == ref->recs->len && run->recs->len > 0,
      "%s: %u score records (cpu: %u)", run->name, run->recs->len / R,
      ref->recs->len / R);
  n = MIN (run->recs->len, ref->recs->len) / R;
  for (i = 0; i < n; i++) {
    const gfloat *a = &g_array_index (run->recs, gfloat, i * R);
    const gfloat *b = &g_array_index (ref->recs, gfloat, i * R);
    guint d;
    gboolean ok = TRUE, score_close;

    for (d = 0; d < 2 * D; d++)
      ok &= close_to (a[d], b[d], 1e-4, 1e-3);
    ok &= close_to (a[ECG_SCORE_ERROR (D)], b[ECG_SCORE_ERROR (D)], 1e-4, 1e-3);
    score_close = close_to (a[ECG_SCORE_SCORE (D)], b[ECG_SCORE_SCORE (D)],
        1e-3, 1e-3);
    ok &= score_close;
    if (a[ECG_SCORE_OUTLIER (D)] != b[ECG_SCORE_OUTLIER (D)])
      flag_diff++;
    if (!ok && bad_rec == G_MAXUINT) {
      bad_rec = i;
      printf ("#   record %u: mu %g %g logvar %g %g err %g score %g vs cpu "
          "mu %g %g logvar %g %g err %g score %g\n", i, a[0], a[1], a[2],
          a[3], a[4], a[5], b[0], b[1], b[2], b[3], b[4], b[5]);
    }
  }
  check (bad_rec == G_MAXUINT, "%s: mu, logvar, error and score within "
      "tolerance of the CPU's", run->name);
  check (flag_diff == 0, "%s: outlier flags equal the CPU's (%u differ)",
      run->name, flag_diff);
  check (!run->copy_failed, "%s: the probes could copy every buffer",
      run->name);
}

int
main (int argc, char **argv)
{
  const gchar *dir = g_getenv ("ECG_TEST_FILES");
  gchar *csv, *desc;
  Run cpu = { "cpu" }, cuda = { "cuda" }, mixed = { "mixed" };
  guint64 staged0, staged;
  gboolean ok;
  guint i;

  gst_init (&argc, &argv);
  if (!ecg_cuda_built ()) {
    printf ("SKIP: built without CUDA\n");
    return 77;
  }
  if (ecg_cuda_device_count () < 1) {
    printf ("SKIP: no CUDA device (cudaGetDeviceCount found none or "
        "failed: no GPU or no driver)\n");
    return 77;
  }
  if (!dir) {
    printf ("not ok - ECG_TEST_FILES is not set (run through meson test)\n");
    return 1;
  }
  csv = g_build_filename (dir, "ecg-15s-250hz.csv", NULL);

  /* the reference */
  desc = g_strdup_printf ("csvecgsrc name=s location=\"%s\" rate=250 "
      "backend=cpu ! rickerconv name=r backend=cpu ! nmsgate name=n "
      "backend=cpu ! beatembed name=b backend=cpu ! vaescore name=v "
      "backend=cpu ! fakesink", csv);
  check (run_pipeline (&cpu, desc), "cpu: the pipeline ran to EOS");
  g_free (desc);
  for (i = 0; i < N_POINTS; i++)
    check (cpu.cuda_buffers[i] == 0, "cpu: %s gave no CUDA memory",
        point_names[i]);

  /* everything on the device */
  staged0 = staging_copies ();
  desc = g_strdup_printf ("csvecgsrc name=s location=\"%s\" rate=250 "
      "backend=cuda ! rickerconv name=r backend=cuda ! nmsgate name=n "
      "backend=cuda ! beatembed name=b backend=cuda ! vaescore name=v "
      "backend=cuda ! fakesink", csv);
  ok = run_pipeline (&cuda, desc);
  g_free (desc);
  check (ok, "cuda: the pipeline ran to EOS");
  for (i = 0; i < N_POINTS; i++) {
    check (cuda.caps[i] && strstr (cuda.caps[i], "memory:CUDAMemory"),
        "cuda: %s's src caps have memory:CUDAMemory", point_names[i]);
    check (cuda.buffers[i] > 0 &&
        cuda.cuda_buffers[i] == cuda.buffers[i] - cuda.empty[i],
        "cuda: all %u non-empty buffers out of %s are CUDA memory (%u are)",
        cuda.buffers[i] - cuda.empty[i], point_names[i], cuda.cuda_buffers[i]);
  }
  staged = staging_copies ();
  check (staged == staged0 && staged == 0, "cuda: the allocator's "
      "staging-copies stayed 0 (now %" G_GUINT64_FORMAT ")", staged);
  compare (&cuda, &cpu);

  /* system memory on some links: the upload and download paths */
  staged0 = staging_copies ();
  desc = g_strdup_printf ("csvecgsrc name=s location=\"%s\" rate=250 "
      "backend=cpu ! rickerconv name=r backend=cuda ! audio/x-raw ! "
      "nmsgate name=n backend=cuda ! beatembed name=b backend=cuda ! "
      "application/x-ecg-beats ! vaescore name=v backend=cuda ! "
      "application/x-ecg-scores ! fakesink", csv);
  ok = run_pipeline (&mixed, desc);
  g_free (desc);
  check (ok, "mixed: the pipeline ran to EOS");
  for (i = 0; i < N_POINTS; i++)
    check (mixed.cuda_buffers[i] == 0, "mixed: %s out is system memory "
        "(%u of %u buffers in CUDA memory)", point_names[i],
        mixed.cuda_buffers[i], mixed.buffers[i]);
  staged = staging_copies ();
  check (staged == staged0, "mixed: no staging copies (%" G_GUINT64_FORMAT
      " before, %" G_GUINT64_FORMAT " after)", staged0, staged);
  compare (&mixed, &cpu);

  run_free (&cpu);
  run_free (&cuda);
  run_free (&mixed);
  g_free (csv);
  return finish ();
}

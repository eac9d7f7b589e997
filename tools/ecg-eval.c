/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * ecg-eval: runs the element pipeline on CSV records that have NNN.ann.csv
 * beside them and measures beat detection as EC57 does: a detected R peak
 * matches a reference beat within the tolerance (150 ms), each reference
 * beat matches at most one detection; Se = TP/(TP+FN), +P = TP/(TP+FP),
 * summed over the records.
 *
 * --auc adds vaescore and measures outlier scoring: each scored beat takes
 * the class (AAMI: N = N L R e j, S = A a J S, V = V E, F = F, Q = / f Q)
 * of the reference beat nearest its R peak within the tolerance, and the
 * ROC AUC of the score is computed, pooled over the records, for V against
 * N and for S+V+F against N.
 *
 * --train FILE trains a model with vaetrain on the beats of all the given
 * records (one pipeline: the records' front-ends joined by concat).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

#include "ecg/ecgmeta.h"

#define PIPELINE_RATE 250

typedef struct
{
  gint rate;
  gchar *column;
  gboolean seed_exact;
  gchar *gates_file;
  gdouble tolerance_ms;
  gboolean summary;
  gchar *dump_beats;
  gboolean auc;
  gchar *model;
  gboolean no_adapt;
  gchar *train;
  gint epochs;
  gint64 seed;
} Options;

typedef struct
{
  GArray *gates;                /* EcgGate, pipeline numbering */
  guint64 samples;              /* samples seen by nmsgate */
  GArray *beats;                /* EcgBeat of every row beatembed sent */
  GArray *rows;                 /* gfloat, the rows, when dumping */
  gint length;                  /* row length */
  GArray *scores;               /* gfloat, with --auc */
} Collect;

/* vaescore's output: the records and the beat meta carried over */
static GstPadProbeReturn
collect_scores (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Collect *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  EcgBeatMeta *meta = ecg_buffer_get_beat_meta (buf);
  gsize rec = ECG_SCORE_RECORD_FLOATS (2), i;
  GstMapInfo map;

  if (!meta || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  g_array_append_vals (c->beats, meta->beats, meta->n_beats);
  for (i = 0; i < meta->n_beats && (i + 1) * rec * sizeof (gfloat) <= map.size;
      i++)
    g_array_append_val (c->scores,
        ((const gfloat *) map.data)[i * rec + ECG_SCORE_SCORE (2)]);
  gst_buffer_unmap (buf, &map);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
collect_beats (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Collect *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  EcgBeatMeta *meta = ecg_buffer_get_beat_meta (buf);
  GstMapInfo map;

  if (!meta)
    return GST_PAD_PROBE_OK;
  g_array_append_vals (c->beats, meta->beats, meta->n_beats);
  if (c->rows && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_array_append_vals (c->rows, map.data, map.size / sizeof (gfloat));
    c->length = map.size / sizeof (gfloat) / meta->n_beats;
    gst_buffer_unmap (buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
collect_gates (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Collect *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  EcgGateMeta *meta = ecg_buffer_get_gate_meta (buf);

  if (meta)
    g_array_append_vals (c->gates, meta->gates, meta->n_gates);
  /* two float planes */
  c->samples += gst_buffer_get_size (buf) / (2 * sizeof (gfloat));
  return GST_PAD_PROBE_OK;
}

/* The front-end of one record, up to beatembed (named embed). */
static gchar *
front_end (const Options * o, const gchar * path)
{
  gchar *loc = g_strescape (path, NULL), *col = g_strescape (o->column, NULL);
  gchar *desc;

  desc = g_strdup_printf ("csvecgsrc location=\"%s\" column=\"%s\" rate=%d "
      "buffer-time=10000000 ! %s rickerconv ! nmsgate name=gate threshold=%s "
      "! beatembed name=embed prune=%s",
      loc, col, o->rate,
      o->rate != PIPELINE_RATE ?
      "audioresample ! audio/x-raw,rate=250 !" : "",
      o->seed_exact ? "0" : "-1", o->seed_exact ? "true" : "false");
  g_free (loc);
  g_free (col);
  return desc;
}

/* Runs the pipeline on one record; fills c (gates always, beats and rows
 * when asked).  Returns FALSE on error. */
static gboolean
run_record (const Options * o, const gchar * path, Collect * c)
{
  GstElement *pipeline, *gate, *embed;
  GError *err = NULL;
  gchar *desc, *front;
  GstBus *bus;
  GstMessage *msg;
  GstPad *pad;
  gboolean ok = FALSE;

  front = front_end (o, path);
  if (o->auc) {
    gchar *model = o->model ? g_strescape (o->model, NULL) : NULL;

    desc = g_strdup_printf ("%s ! vaescore name=score %s%s%s %s ! "
        "fakesink sync=false", front, model ? "model=\"" : "",
        model ? model : "", model ? "\"" : "",
        o->no_adapt ? "adapt=false" : "");
    g_free (model);
  } else {
    desc = g_strdup_printf ("%s ! fakesink sync=false", front);
  }
  g_free (front);

  pipeline = gst_parse_launch (desc, &err);
  if (!pipeline) {
    g_printerr ("could not build '%s': %s\n", desc, err->message);
    g_clear_error (&err);
    g_free (desc);
    return FALSE;
  }
  g_free (desc);

  gate = gst_bin_get_by_name (GST_BIN (pipeline), "gate");
  pad = gst_element_get_static_pad (gate, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, collect_gates, c, NULL);
  gst_object_unref (pad);
  gst_object_unref (gate);
  embed = gst_bin_get_by_name (GST_BIN (pipeline), o->auc ? "score" : "embed");
  pad = gst_element_get_static_pad (embed, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      o->auc ? collect_scores : collect_beats, c, NULL);
  gst_object_unref (pad);
  gst_object_unref (embed);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    g_printerr ("%s: %s (%s)\n", path, err->message, dbg ? dbg : "");
    g_clear_error (&err);
    g_free (dbg);
  } else {
    ok = TRUE;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  return ok;
}

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Reference beats of NNN.ann.csv: "sample,symbol", beat symbols only; the
 * samples go to *ref (sorted, gint64), the symbols to *sym. */
static gboolean
read_annotations (const gchar * path, GArray ** ref, GString ** sym)
{
  static const gchar beat_symbols[] = "NLRBAaJSVrFejnE/fQ?";
  gchar *text, **lines;
  guint i;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  *ref = g_array_new (FALSE, FALSE, sizeof (gint64));
  *sym = g_string_new (NULL);
  lines = g_strsplit (text, "\n", -1);
  for (i = 1; lines[i]; i++) {
    gchar *comma = strchr (lines[i], ',');
    gint64 s;

    if (!comma || !comma[1] || !strchr (beat_symbols, comma[1]))
      continue;
    s = g_ascii_strtoll (lines[i], NULL, 10);
    if ((*ref)->len > 0 && s < g_array_index (*ref, gint64, (*ref)->len - 1))
      g_printerr ("%s: annotations out of order at line %u\n", path, i + 1);
    g_array_append_val (*ref, s);
    g_string_append_c (*sym, comma[1]);
  }
  g_strfreev (lines);
  g_free (text);
  return TRUE;
}

/* The symbol of the reference beat nearest to `s` within tol, or 0. */
static gchar
nearest_symbol (const GArray * ref, const GString * sym, gint64 s, gint64 tol)
{
  guint lo = 0, hi = ref->len;
  gint64 best = tol + 1;
  gchar res = 0;
  guint i;

  while (lo < hi) {
    guint m = (lo + hi) / 2;

    if (g_array_index (ref, gint64, m) < s)
      lo = m + 1;
    else
      hi = m;
  }
  for (i = lo > 0 ? lo - 1 : 0; i < MIN (lo + 1, ref->len); i++) {
    gint64 d = ABS (g_array_index (ref, gint64, i) - s);

    if (d < best) {
      best = d;
      res = sym->str[i];
    }
  }
  return res;
}

/* Greedy EC57 matching on sorted lists, as the reference evaluator does. */
static void
match (const GArray * ref, const GArray * det, gint64 tol, guint * tp,
    guint * fn, guint * fp)
{
  guint i = 0, j = 0, t = 0;

  while (i < ref->len && j < det->len) {
    gint64 d = g_array_index (det, gint64, j) - g_array_index (ref, gint64, i);

    if (ABS (d) <= tol) {
      t++;
      i++;
      j++;
    } else if (d < 0) {
      j++;
    } else {
      i++;
    }
  }
  *tp = t;
  *fn = ref->len - t;
  *fp = det->len - t;
}

static gint64
to_input (guint64 s, gint rate)
{
  return (gint64) floor ((gdouble) s * rate / PIPELINE_RATE + 0.5);
}

static gboolean
write_gates (const gchar * path, const GArray * gates, gint rate)
{
  FILE *f = fopen (path, "w");
  guint i;

  if (!f) {
    g_printerr ("%s: %s\n", path, g_strerror (errno));
    return FALSE;
  }
  for (i = 0; i < gates->len; i++)
    fprintf (f, "%" G_GINT64_FORMAT "\n",
        to_input (g_array_index (gates, EcgGate, i).gate, rate));
  return fclose (f) == 0;
}

/* Gaps: stretches of more than GAP_S seconds without a beat, the places
 * where the signal was lost, flat or too noisy to read. */
#define GAP_S 2.0

static void
print_summary (const gchar * name, const GArray * gates, guint64 samples)
{
  gdouble dur = (gdouble) samples / PIPELINE_RATE;
  guint i, gaps = 0;
  gdouble longest = 0.0, rr_sum = 0.0;
  guint rr_n = 0;

  for (i = 1; i < gates->len; i++) {
    gdouble rr = (gdouble) (g_array_index (gates, EcgGate, i).rpeak -
        g_array_index (gates, EcgGate, i - 1).rpeak) / PIPELINE_RATE;

    if (rr > GAP_S) {
      gaps++;
      longest = MAX (longest, rr);
    } else {
      rr_sum += rr;
      rr_n++;
    }
  }
  g_print ("%s: %.1f s of signal, %u beats, heart rate %.1f bpm, "
      "%u gaps over %.0f s (longest %.1f s)\n", name, dur, gates->len,
      rr_n ? 60.0 * rr_n / rr_sum : 0.0, gaps, GAP_S, longest);
}

/* PREFIX.f32: the rows; PREFIX.csv: one line per row with the beat record
 * (pipeline samples) and the nearest reference symbol ('-': none). */
static gboolean
dump_beats (const gchar * prefix, const Collect * c, const GArray * ref,
    const GString * sym, gint rate, gint64 tol)
{
  gchar *path = g_strconcat (prefix, ".f32", NULL);
  GError *err = NULL;
  GString *csv;
  guint i;
  gboolean ok;

  ok = g_file_set_contents (path, (const gchar *) c->rows->data,
      (gssize) c->rows->len * sizeof (gfloat), &err);
  g_free (path);
  if (!ok)
    goto failed;
  csv = g_string_new ("start,length,rpeak,rr,flags,symbol\n");
  for (i = 0; i < c->beats->len; i++) {
    const EcgBeat *b = &g_array_index (c->beats, EcgBeat, i);
    gchar s = ref ? nearest_symbol (ref, sym, to_input (b->rpeak, rate), tol) :
        0;

    g_string_append_printf (csv, "%" G_GUINT64_FORMAT ",%u,%" G_GUINT64_FORMAT
        ",%" G_GUINT64_FORMAT ",%u,%c\n", b->start, b->length, b->rpeak,
        b->rr, b->flags, s ? s : '-');
  }
  path = g_strconcat (prefix, ".csv", NULL);
  ok = g_file_set_contents (path, csv->str, csv->len, &err);
  g_free (path);
  g_string_free (csv, TRUE);
  if (!ok)
    goto failed;
  return TRUE;

failed:
  g_printerr ("%s\n", err->message);
  g_clear_error (&err);
  return FALSE;
}

/* AAMI class of a beat symbol: 'N', 'S', 'V', 'F', 'Q', or 0 for none. */
static gchar
aami_class (gchar sym)
{
  if (sym && strchr ("NLRej", sym))
    return 'N';
  if (sym && strchr ("AaJS", sym))
    return 'S';
  if (sym && strchr ("VE", sym))
    return 'V';
  if (sym == 'F')
    return 'F';
  if (sym && strchr ("/fQ", sym))
    return 'Q';
  return 0;
}

typedef struct
{
  gfloat score;
  gchar cls;
} Scored;

static gint
cmp_scored (gconstpointer a, gconstpointer b)
{
  gfloat x = ((const Scored *) a)->score, y = ((const Scored *) b)->score;

  return x < y ? -1 : x > y;
}

/* ROC AUC of the score for classes in `pos` against class N: the
 * Mann-Whitney statistic, tied scores sharing their mean rank.  Ranks count
 * only the N and positive beats. */
static gdouble
roc_auc (GArray * all, const gchar * pos, guint * n_pos, guint * n_neg)
{
  gdouble rank_sum = 0.0;
  guint64 np = 0, nn = 0;
  guint i = 0, j, k;

  g_array_sort (all, cmp_scored);
  while (i < all->len) {
    guint64 inside = 0;
    gdouble mid;

    for (j = i; j < all->len && g_array_index (all, Scored, j).score ==
        g_array_index (all, Scored, i).score; j++) {
      gchar c = g_array_index (all, Scored, j).cls;

      if (c == 'N' || strchr (pos, c))
        inside++;
    }
    mid = (gdouble) (np + nn) + (inside + 1) / 2.0;
    for (k = i; k < j; k++) {
      gchar c = g_array_index (all, Scored, k).cls;

      if (c == 'N') {
        nn++;
      } else if (strchr (pos, c)) {
        np++;
        rank_sum += mid;
      }
    }
    i = j;
  }
  *n_pos = np;
  *n_neg = nn;
  if (!np || !nn)
    return 0.0;
  return (rank_sum - np * (np + 1) / 2.0) / ((gdouble) np * nn);
}

static void
on_train_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  const GstStructure *s = gst_message_get_structure (msg);
  guint epoch, epochs;
  gdouble loss;

  if (s && gst_structure_has_name (s, "vaetrain-progress") &&
      gst_structure_get (s, "epoch", G_TYPE_UINT, &epoch, "epochs",
          G_TYPE_UINT, &epochs, "loss", G_TYPE_DOUBLE, &loss, NULL))
    g_print ("epoch %u/%u loss %.6f\n", epoch, epochs, loss);
}

/* One pipeline: every record's front-end into concat, then vaetrain. */
static gboolean
run_training (const Options * o, gchar ** paths, gint n)
{
  GString *desc = g_string_new (NULL);
  gchar *loc = g_strescape (o->train, NULL);
  GstElement *pipeline;
  GError *err = NULL;
  GstBus *bus;
  GstMessage *msg;
  gboolean ok = FALSE;
  gint i;

  g_string_append_printf (desc, "concat name=c ! vaetrain location=\"%s\" "
      "epochs=%d seed=%" G_GINT64_FORMAT, loc, o->epochs, o->seed);
  g_free (loc);
  for (i = 0; i < n; i++) {
    gchar *front;

    if (g_str_has_suffix (paths[i], ".ann.csv"))
      continue;
    front = front_end (o, paths[i]);
    /* element names must be unique in one pipeline */
    g_string_append_printf (desc, "  %s ! c.", front);
    g_free (front);
  }
  {
    /* drop the names the single-record front-end gives */
    gchar *d = g_string_free (desc, FALSE), **parts, *joined;

    parts = g_strsplit (d, " name=gate", -1);
    joined = g_strjoinv ("", parts);
    g_strfreev (parts);
    g_free (d);
    parts = g_strsplit (joined, " name=embed", -1);
    g_free (joined);
    d = g_strjoinv ("", parts);
    g_strfreev (parts);
    pipeline = gst_parse_launch (d, &err);
    if (!pipeline) {
      g_printerr ("could not build '%s': %s\n", d, err->message);
      g_clear_error (&err);
      g_free (d);
      return FALSE;
    }
    g_free (d);
  }

  bus = gst_element_get_bus (pipeline);
  gst_bus_add_signal_watch (bus);
  g_signal_connect (bus, "message::element", G_CALLBACK (on_train_message),
      NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      on_train_message (bus, msg, NULL);
      gst_message_unref (msg);
      continue;
    }
    break;
  }
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    g_printerr ("training: %s (%s)\n", err->message, dbg ? dbg : "");
    g_clear_error (&err);
    g_free (dbg);
  } else {
    g_print ("wrote %s\n", o->train);
    ok = TRUE;
  }
  gst_message_unref (msg);
  gst_bus_remove_signal_watch (bus);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

static gdouble
pct (guint a, guint b)
{
  return b ? 100.0 * a / b : 0.0;
}

int
main (int argc, char **argv)
{
  Options o = { 360, NULL, FALSE, NULL, 150.0, FALSE, NULL, FALSE, NULL,
    FALSE, NULL, 30, 0
  };
  GArray *scored = g_array_new (FALSE, FALSE, sizeof (Scored));
  GOptionEntry entries[] = {
    {"rate", 0, 0, G_OPTION_ARG_INT, &o.rate,
        "Sample rate of the records in Hz (default 360)", "HZ"},
    {"column", 0, 0, G_OPTION_ARG_STRING, &o.column,
        "Column to read (default MLII)", "NAME"},
    {"seed-exact", 0, 0, G_OPTION_ARG_NONE, &o.seed_exact,
        "The seed's rule: nmsgate threshold=0, beatembed prune=true", NULL},
    {"gates", 0, 0, G_OPTION_ARG_FILENAME, &o.gates_file,
        "Write the gates of the (single) record, in input samples", "FILE"},
    {"dump-beats", 0, 0, G_OPTION_ARG_FILENAME, &o.dump_beats,
        "Write the beat rows to PREFIX.f32 and their records and reference "
          "symbols to PREFIX.csv (single record)", "PREFIX"},
    {"summary", 0, 0, G_OPTION_ARG_NONE, &o.summary,
        "Also print beats, heart rate and gaps of each record", NULL},
    {"auc", 0, 0, G_OPTION_ARG_NONE, &o.auc,
          "Score the beats with vaescore and print ROC AUC (V vs N, S+V+F vs N)",
        NULL},
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &o.model,
        "Model for --auc (default: the bundled model)", "FILE"},
    {"no-adapt", 0, 0, G_OPTION_ARG_NONE, &o.no_adapt,
          "With --auc: vaescore adapt=false (no per-patient calibration)",
        NULL},
    {"train", 0, 0, G_OPTION_ARG_FILENAME, &o.train,
          "Train a model with vaetrain on all the records and write it to FILE",
        "FILE"},
    {"epochs", 0, 0, G_OPTION_ARG_INT, &o.epochs,
        "With --train: epochs (default 30)", "N"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
        "With --train: seed (default 0)", "N"},
    {"tolerance", 0, 0, G_OPTION_ARG_DOUBLE, &o.tolerance_ms,
        "Matching window in milliseconds (default 150)", "MS"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  guint T = 0, FN = 0, FP = 0;
  gint i, ret = 0;
  gint64 tol;

  ctx = g_option_context_new ("RECORD.csv... - beat detection accuracy");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (!o.column)
    o.column = g_strdup ("MLII");
  if (argc < 2 || o.rate < 1) {
    g_printerr ("usage: ecg-eval [--rate HZ] [--column NAME] [--seed-exact] "
        "[--gates FILE] RECORD.csv...\n");
    return 2;
  }
  if ((o.gates_file || o.dump_beats) && argc != 2) {
    g_printerr ("--gates and --dump-beats take a single record\n");
    return 2;
  }
  tol = (gint64) floor (o.tolerance_ms / 1000.0 * o.rate + 0.5);

  if (o.train) {
    ret = run_training (&o, argv + 1, argc - 1) ? 0 : 1;
    goto out;
  }

  for (i = 1; i < argc; i++) {
    const gchar *path = argv[i];
    gchar *base, *ann_path, *name;
    GArray *ref = NULL, *det;
    GString *sym = NULL;
    Collect c = { 0, };
    guint k, tp, fn, fp;

    /* a shell glob over a record folder also names the annotation files */
    if (g_str_has_suffix (path, ".ann.csv"))
      continue;

    c.gates = g_array_new (FALSE, FALSE, sizeof (EcgGate));
    c.beats = g_array_new (FALSE, FALSE, sizeof (EcgBeat));
    if (o.dump_beats)
      c.rows = g_array_new (FALSE, FALSE, sizeof (gfloat));
    c.scores = g_array_new (FALSE, FALSE, sizeof (gfloat));
    base = g_strndup (path, g_str_has_suffix (path, ".csv") ?
        strlen (path) - 4 : strlen (path));
    name = g_path_get_basename (base);
    ann_path = g_strconcat (base, ".ann.csv", NULL);

    if (!run_record (&o, path, &c)) {
      ret = 1;
      goto next;
    }
    if (o.gates_file && !write_gates (o.gates_file, c.gates, o.rate))
      ret = 1;
    if (o.summary)
      print_summary (name, c.gates, c.samples);
    if (!read_annotations (ann_path, &ref, &sym)) {
      g_print ("%s gates=%u (no %s)\n", name, c.gates->len, ann_path);
      if (o.dump_beats && !dump_beats (o.dump_beats, &c, NULL, NULL, o.rate,
              tol))
        ret = 1;
      goto next;
    }
    if (o.dump_beats && !dump_beats (o.dump_beats, &c, ref, sym, o.rate, tol))
      ret = 1;

    det = g_array_sized_new (FALSE, FALSE, sizeof (gint64), c.gates->len);
    for (k = 0; k < c.gates->len; k++) {
      gint64 r = to_input (g_array_index (c.gates, EcgGate, k).rpeak, o.rate);
      g_array_append_val (det, r);
    }
    g_array_sort (det, cmp_i64);
    match (ref, det, tol, &tp, &fn, &fp);
    g_array_unref (det);
    T += tp;
    FN += fn;
    FP += fp;
    g_print ("%-8s beats=%5u tp=%5u fn=%4u fp=%4u Se=%6.2f +P=%6.2f\n",
        name, ref->len, tp, fn, fp, pct (tp, tp + fn), pct (tp, tp + fp));

    for (k = 0; o.auc && k < c.beats->len && k < c.scores->len; k++) {
      const EcgBeat *b = &g_array_index (c.beats, EcgBeat, k);
      Scored sc;

      sc.cls = aami_class (nearest_symbol (ref, sym, to_input (b->rpeak,
                  o.rate), tol));
      sc.score = g_array_index (c.scores, gfloat, k);
      if (sc.cls)
        g_array_append_val (scored, sc);
    }

  next:
    if (ref)
      g_array_unref (ref);
    if (sym)
      g_string_free (sym, TRUE);
    g_array_unref (c.gates);
    g_array_unref (c.beats);
    g_array_unref (c.scores);
    if (c.rows)
      g_array_unref (c.rows);
    g_free (base);
    g_free (name);
    g_free (ann_path);
  }

  if (T + FN + FP > 0)
    g_print ("TOTAL tp=%u fn=%u fp=%u Se=%.2f +P=%.2f\n", T, FN, FP,
        pct (T, T + FN), pct (T, T + FP));
  if (o.auc) {
    guint nv, nn, nsvf, n2;
    gdouble v = roc_auc (scored, "V", &nv, &nn);
    gdouble svf = roc_auc (scored, "SVF", &nsvf, &n2);

    g_print ("classes N=%u V=%u S+V+F=%u (beats matched to a reference beat: "
        "%u)\n", nn, nv, nsvf, scored->len);
    g_print ("AUC V-vs-N=%.4f SVF-vs-N=%.4f beats=%u\n", v, svf, scored->len);
  }
out:
  g_array_unref (scored);
  g_free (o.model);
  g_free (o.train);
  g_free (o.column);
  g_free (o.gates_file);
  g_free (o.dump_beats);
  return ret;
}

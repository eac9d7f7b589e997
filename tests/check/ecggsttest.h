/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Helpers shared by the GstHarness tests (tests/check/elements): gate and
 * beat metas made by hand, synthetic beats, temporary folders, valgrind
 * detection, a bus of the test's own on the harness's element, "our error
 * comes first" assertions, state cycling, bounded memory and PNG checks.
 * The plain C helpers, shared with the kernel tests, are in ecgtest.h.
 *
 * Every function is static inline, so that a test that uses only some of
 * them builds without warnings.
 */
#ifndef ECG_GST_TEST_H
#define ECG_GST_TEST_H

#include <malloc.h>
#include <string.h>
#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>

#include "ecgtest.h"
#include "ecg/ecgmeta.h"

/* ---- gate and beat metas made by hand ----
 *
 * The plugin registers the gate and beat meta APIs when it loads.  The
 * tests add their own implementations of those APIs (same public layout,
 * EcgGateMeta and EcgBeatMeta), so they need nothing from the plugin's
 * private code.  They have no transform function, so a meta on an
 * element's output is the one the element adds. */

static inline gboolean
ecg_test_gate_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  EcgGateMeta *m = (EcgGateMeta *) meta;

  m->n_gates = 0;
  m->gates = NULL;
  return TRUE;
}

static inline void
ecg_test_gate_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  EcgGateMeta *m = (EcgGateMeta *) meta;

  g_clear_pointer (&m->gates, g_free);
}

static inline const GstMetaInfo *
ecg_test_gate_meta_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    GType api = ecg_gate_meta_api_get_type ();
    const GstMetaInfo *mi;

    fail_unless (api != 0, "the ecg plugin is not loaded");
    mi = gst_meta_register (api, "TestEcgGateMeta", sizeof (EcgGateMeta),
        ecg_test_gate_meta_init, ecg_test_gate_meta_free, NULL);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/* Adds a gate meta holding a copy of @gates; none when @n is 0 */
static inline void
ecg_test_add_gates (GstBuffer * buf, const EcgGate * gates, guint n)
{
  EcgGateMeta *m;

  if (n == 0)
    return;
  m = (EcgGateMeta *) gst_buffer_add_meta (buf, ecg_test_gate_meta_info (),
      NULL);
  m->n_gates = n;
  m->gates = g_memdup2 (gates, n * sizeof (EcgGate));
}

static inline gboolean
ecg_test_beat_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  EcgBeatMeta *m = (EcgBeatMeta *) meta;

  m->n_beats = 0;
  m->beats = NULL;
  return TRUE;
}

static inline void
ecg_test_beat_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  EcgBeatMeta *m = (EcgBeatMeta *) meta;

  g_clear_pointer (&m->beats, g_free);
}

static inline const GstMetaInfo *
ecg_test_beat_meta_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    GType api = ecg_beat_meta_api_get_type ();
    const GstMetaInfo *mi;

    fail_unless (api != 0, "the ecg plugin is not loaded");
    mi = gst_meta_register (api, "TestEcgBeatMeta", sizeof (EcgBeatMeta),
        ecg_test_beat_meta_init, ecg_test_beat_meta_free, NULL);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/* Adds a beat meta holding a copy of @beats, even when @n is 0 */
static inline void
ecg_test_add_beats (GstBuffer * buf, const EcgBeat * beats, guint n)
{
  EcgBeatMeta *m;

  m = (EcgBeatMeta *) gst_buffer_add_meta (buf, ecg_test_beat_meta_info (),
      NULL);
  m->n_beats = n;
  m->beats = n ? g_memdup2 (beats, n * sizeof (EcgBeat)) : NULL;
}

/* ---- synthetic beats ---- */

/* One beat of @len samples (256 at 250 Hz): morphology 0 a narrow upright
 * QRS with P and T waves, 1 a wide inverted (ventricular-like) complex;
 * baseline offset, amplitude and noise vary from beat to beat. */
static inline void
ecg_test_synth_beat (gfloat * row, gint len, guint morph, GRand * rand)
{
  gdouble off = g_rand_double_range (rand, -0.3, 0.3);
  gdouble amp = g_rand_double_range (rand, 0.8, 1.2);
  gint j;

  for (j = 0; j < len; j++) {
    gdouble v;

    if (morph == 0)
      v = exp (-(j - 60.0) * (j - 60.0) / 18.0) +
          0.15 * exp (-(j - 30.0) * (j - 30.0) / 72.0) +
          0.3 * exp (-(j - 130.0) * (j - 130.0) / 450.0);
    else
      v = -1.2 * exp (-(j - 70.0) * (j - 70.0) / 200.0) +
          0.4 * exp (-(j - 150.0) * (j - 150.0) / 800.0);
    row[j] = (gfloat) (off + amp * v + g_rand_double_range (rand, -0.02, 0.02));
  }
}

/* ---- valgrind ---- */

static inline gboolean
ecg_test_under_valgrind (void)
{
  const gchar *preload = g_getenv ("LD_PRELOAD");

  return preload && strstr (preload, "vgpreload");
}

/* run sizes: valgrind is ~50 times slower */
#define ECG_TEST_SCALE(native, vg) \
    (ecg_test_under_valgrind () ? (vg) : (native))

/* ---- temporary folders ---- */

typedef struct
{
  gchar *dir;
} EcgTestTmpDir;

static inline void
ecg_test_tmp_dir_init (EcgTestTmpDir * t)
{
  GError *err = NULL;

  t->dir = g_dir_make_tmp ("gst-ecg-test-XXXXXX", &err);
  fail_unless (t->dir != NULL, "no temporary folder: %s",
      err ? err->message : "?");
}

/* @name in the folder (transfer full) */
static inline gchar *
ecg_test_tmp_dir_file (EcgTestTmpDir * t, const gchar * name)
{
  return g_build_filename (t->dir, name, NULL);
}

/* Removes the folder, its files and its empty subfolders */
static inline void
ecg_test_tmp_dir_clear (EcgTestTmpDir * t)
{
  GDir *d = g_dir_open (t->dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (t->dir, name, NULL);

    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      g_rmdir (p);
    else
      g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (t->dir);
  g_clear_pointer (&t->dir, g_free);
}

/* ---- the bus ---- */

/* A bus of the test's own on @h's element (transfer full) */
static inline GstBus *
ecg_test_attach_bus (GstHarness * h)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  return bus;
}

/* Takes @bus (from ecg_test_attach_bus) off @h's element and drops it */
static inline void
ecg_test_detach_bus (GstHarness * h, GstBus * bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* Stops @h's element, takes @bus off it and tears @h down */
static inline void
ecg_test_teardown (GstHarness * h, GstBus * bus)
{
  gst_element_set_state (h->element, GST_STATE_NULL);
  ecg_test_detach_bus (h, bus);
  gst_harness_teardown (h);
}

/* What ecg_test_assert_one_error accepts besides the element's error */
typedef enum
{
  /* basesink's and basesrc's "Failed to start" (CORE STATE_CHANGE) may
   * follow it */
  ECG_TEST_THEN_STATE_CHANGE = 1 << 0,
  /* basesrc's "Internal data stream error" (STREAM FAILED) may follow it */
  ECG_TEST_THEN_STREAM_FAILED = 1 << 1,
  /* @has is looked for in the debug text only, not in the message */
  ECG_TEST_HAS_IN_DEBUG = 1 << 2,
} EcgTestErrorFlags;

/* The bus holds, first, exactly one error from @element with this domain
 * and code (its message or debug holding @has, if set); only the errors
 * that @flags name may follow. */
static inline void
ecg_test_assert_one_error (GstBus * bus, GstElement * element, GQuark domain,
    gint code, const gchar * has, EcgTestErrorFlags flags, const gchar * what)
{
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: no error", what);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (element));
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (err->domain == domain && err->code == code,
      "%s: got %s %d (%s / %s)", what, g_quark_to_string (err->domain),
      err->code, err->message, dbg);
  if (has && (flags & ECG_TEST_HAS_IN_DEBUG))
    fail_unless (dbg && strstr (dbg, has),
        "%s: debug \"%s\" lacks \"%s\"", what, dbg, has);
  else if (has)
    fail_unless (strstr (err->message, has) || (dbg && strstr (dbg, has)),
        "%s: \"%s\" / \"%s\" lacks \"%s\"", what, err->message, dbg, has);
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    gst_message_parse_error (msg, &err, &dbg);
    fail_unless (((flags & ECG_TEST_THEN_STATE_CHANGE) &&
            g_error_matches (err, GST_CORE_ERROR,
                GST_CORE_ERROR_STATE_CHANGE)) ||
        ((flags & ECG_TEST_THEN_STREAM_FAILED) &&
            g_error_matches (err, GST_STREAM_ERROR,
                GST_STREAM_ERROR_FAILED)),
        "%s: a second error %s %d (%s / %s)", what,
        g_quark_to_string (err->domain), err->code, err->message, dbg);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
}

/* ---- state cycling ---- */

/* Takes @h's element to NULL, which must succeed */
static inline void
ecg_test_harness_stop (GstHarness * h)
{
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

/* Plays @h's element (again) and starts a new stream of @caps: after a
 * stop the element forgot its sticky events */
static inline void
ecg_test_harness_new_stream (GstHarness * h, const gchar * caps)
{
  gst_harness_play (h);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("cycle")));
  gst_harness_set_src_caps_str (h, caps);
}

/* One state cycle: stop, play, a new stream of @caps */
static inline void
ecg_test_harness_restart (GstHarness * h, const gchar * caps)
{
  ecg_test_harness_stop (h);
  ecg_test_harness_new_stream (h, caps);
}

/* ---- bounded memory ---- */

/* the resident set and the heap in use, at one moment */
typedef struct
{
  gsize rss;
  gsize heap;
} EcgTestMemory;

static inline gsize
ecg_test_rss_bytes (void)
{
  gchar *text = NULL;
  gulong size = 0, resident = 0;

  if (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL))
    sscanf (text, "%lu %lu", &size, &resident);
  g_free (text);
  return resident * (gsize) sysconf (_SC_PAGESIZE);
}

static inline void
ecg_test_memory_mark (EcgTestMemory * m)
{
  m->rss = ecg_test_rss_bytes ();
  m->heap = mallinfo2 ().uordblks;
}

/* Since @before the heap grew by less than @heap_slack and the resident
 * set by less than @rss_slack.  valgrind keeps freed blocks aside, so its
 * resident set grows: it is only checked natively. */
static inline void
ecg_test_assert_memory_bounded (const EcgTestMemory * before, gsize heap_slack,
    gsize rss_slack)
{
  EcgTestMemory now;

  ecg_test_memory_mark (&now);
  GST_INFO ("heap %" G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT ", rss %"
      G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT, before->heap, now.heap,
      before->rss, now.rss);
  fail_unless (now.heap < before->heap + heap_slack, "heap grew from %"
      G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT, before->heap, now.heap);
  if (!ecg_test_under_valgrind ())
    fail_unless (now.rss < before->rss + rss_slack, "RSS grew from %"
        G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT, before->rss, now.rss);
}

/* ---- files ---- */

/* PNG signature and an IHDR of @w x @h */
static inline void
ecg_test_assert_png (const gchar * path, guint w, guint h)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n'
  };
  gchar *data = NULL;
  gsize size = 0;
  const guint8 *d;

  fail_unless (g_file_get_contents (path, &data, &size, NULL),
      "no plot at %s", path);
  d = (const guint8 *) data;
  fail_unless (size > 1000, "plot of %" G_GSIZE_FORMAT " bytes", size);
  fail_unless (memcmp (d, sig, 8) == 0, "not a PNG");
  fail_unless (memcmp (d + 12, "IHDR", 4) == 0);
  fail_unless_equals_int (GST_READ_UINT32_BE (d + 16), w);
  fail_unless_equals_int (GST_READ_UINT32_BE (d + 20), h);
  g_free (data);
}

/* ---- plots ---- */

/* For tests that include cairo.h and fontconfig.h before this header:
 * cairo keeps its toy font faces, and fontconfig its configuration, for
 * the life of the process; free them after the tests (an unchecked
 * fixture) so that valgrind reports no leak for the plots' labels */
#if defined (CAIRO_H) && defined (_FONTCONFIG_H_)
static inline void
ecg_test_release_font_caches (void)
{
  cairo_debug_reset_static_data ();
  FcFini ();
}
#endif

#endif /* ECG_GST_TEST_H */

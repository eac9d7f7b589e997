/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The backend choice every element shares: the "backend" (auto|cpu|cuda)
 * and "cuda-device-id" properties, the caps feature memory:CUDAMemory on
 * every pad template, one RESOURCE/NOT_FOUND error when backend=cuda finds
 * no device, and backend=auto running the CPU path on a machine without
 * one.  These run without a GPU (CI); where a device is present the
 * no-device cases are skipped and tests/check/cuda/chain.c covers the rest.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "cudadev.h"

static const gchar *elements[] = {
  "csvecgsrc", "rickerconv", "nmsgate", "beatembed", "vaescore", "vaetrain",
  "latentsink",
};

static gchar *
test_file (const gchar * name)
{
  const gchar *dir = g_getenv ("ECG_TEST_FILES");

  fail_unless (dir != NULL, "ECG_TEST_FILES is not set");
  return g_build_filename (dir, name, NULL);
}

GST_START_TEST (test_properties)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElement *e = gst_element_factory_make (elements[i], NULL);
    GParamSpec *b, *d;
    GEnumClass *ec;
    gint backend, device;

    fail_unless (e != NULL, "no element %s", elements[i]);
    b = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "backend");
    d = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "cuda-device-id");
    fail_unless (b != NULL && d != NULL, "%s lacks backend/cuda-device-id",
        elements[i]);
    fail_unless (G_IS_PARAM_SPEC_ENUM (b));
    fail_unless_equals_string (g_type_name (b->value_type), "GstEcgBackend");
    fail_unless (b->flags & GST_PARAM_MUTABLE_READY);
    fail_unless (d->flags & GST_PARAM_MUTABLE_READY);
    fail_unless_equals_int (G_PARAM_SPEC_INT (d)->minimum, -1);

    ec = g_type_class_ref (b->value_type);
    fail_unless (g_enum_get_value_by_nick (ec, "auto") != NULL);
    fail_unless (g_enum_get_value_by_nick (ec, "cpu") != NULL);
    fail_unless (g_enum_get_value_by_nick (ec, "cuda") != NULL);

    g_object_get (e, "backend", &backend, "cuda-device-id", &device, NULL);
    fail_unless_equals_string (g_enum_get_value (ec, backend)->value_nick,
        "auto");
    fail_unless_equals_int (device, -1);

    gst_util_set_object_arg (G_OBJECT (e), "backend", "cpu");
    g_object_set (e, "cuda-device-id", 1, NULL);
    g_object_get (e, "backend", &backend, "cuda-device-id", &device, NULL);
    fail_unless_equals_string (g_enum_get_value (ec, backend)->value_nick,
        "cpu");
    fail_unless_equals_int (device, 1);
    g_type_class_unref (ec);
    gst_object_unref (e);
  }
}

GST_END_TEST;

/* Every template offers system memory and memory:CUDAMemory */
GST_START_TEST (test_templates)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElementFactory *f = gst_element_factory_find (elements[i]);
    const GList *l;

    fail_unless (f != NULL);
    for (l = gst_element_factory_get_static_pad_templates (f); l; l = l->next) {
      GstStaticPadTemplate *t = l->data;
      GstCaps *caps = gst_static_caps_get (&t->static_caps);
      gboolean sys = FALSE, cuda = FALSE;
      guint j;

      for (j = 0; j < gst_caps_get_size (caps); j++) {
        GstCapsFeatures *cf = gst_caps_get_features (caps, j);

        if (gst_caps_features_contains (cf, "memory:CUDAMemory"))
          cuda = TRUE;
        if (gst_caps_features_is_equal (cf,
                GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))
          sys = TRUE;
      }
      fail_unless (sys && cuda, "%s pad %s: %" GST_PTR_FORMAT, elements[i],
          t->name_template, caps);
      gst_caps_unref (caps);
    }
    gst_object_unref (f);
  }
}

GST_END_TEST;

/* Sets @name's state to PAUSED and expects exactly one error of ours, from
 * start (): RESOURCE/NOT_FOUND naming CUDA (GstBaseSrc and GstBaseSink add
 * their generic one after it) */
static void
expect_no_device_error (const gchar * name, const gchar * device_id)
{
  GstElement *e = gst_element_factory_make (name, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *csv = test_file ("ecg-15s-360hz.csv");
  guint n_errors = 0, n_fallback = 0;

  gst_element_set_bus (e, bus);
  gst_util_set_object_arg (G_OBJECT (e), "backend", "cuda");
  gst_util_set_object_arg (G_OBJECT (e), "cuda-device-id", device_id);
  /* everything else valid, so that the backend is the only fault */
  if (!strcmp (name, "csvecgsrc"))
    g_object_set (e, "location", csv, "rate", 360, NULL);
  else if (!strcmp (name, "vaetrain"))
    g_object_set (e, "location", "/nonexistent-dir/never-written", NULL);

  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    if (n_errors++ == 0) {
      gst_message_parse_error (msg, &err, &debug);
      GST_INFO ("%s: %s (%s)", name, err->message, debug);
      fail_unless (err->domain == GST_RESOURCE_ERROR
          && err->code == GST_RESOURCE_ERROR_NOT_FOUND,
          "%s: wrong error %s", name, err->message);
      fail_unless (strstr (err->message, "CUDA") != NULL, "%s: %s", name,
          err->message);
      fail_unless (debug != NULL && strstr (debug, "cuda") != NULL);
      g_clear_error (&err);
      g_free (debug);
    } else {
      /* GstBaseSrc posts a fallback CORE/STATE_CHANGE after any failed
       * start (); ours comes first */
      gst_message_parse_error (msg, &err, &debug);
      GST_INFO ("%s: then %s (%s)", name, err->message, debug);
      fail_unless (err->domain == GST_CORE_ERROR
          && err->code == GST_CORE_ERROR_STATE_CHANGE,
          "%s: a second error that is not the base class's: %s", name,
          err->message);
      g_clear_error (&err);
      g_free (debug);
      n_fallback++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_errors - n_fallback, 1);
  /* the transforms' base class posts nothing more */
  fail_unless (n_fallback == 0 || !strcmp (name, "csvecgsrc")
      || !strcmp (name, "vaetrain") || !strcmp (name, "latentsink"));

  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (csv);
}

GST_START_TEST (test_cuda_without_device)
{
  gint n = ecg_cuda_device_count ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    /* a device index past the last one is no device either */
    if (n < 15)
      expect_no_device_error (elements[i], "15");
    if (n == 0)
      expect_no_device_error (elements[i], "-1");
  }
  if (n > 0)
    GST_INFO ("%d CUDA device(s): backend=cuda with device -1 not tested "
        "here", n);
}

GST_END_TEST;

/* Ricker output for @backend on a fixed input; returns the caps too */
static GstBuffer *
run_rickerconv (const gchar * backend, GstCaps ** caps)
{
  gchar *desc = g_strdup_printf ("rickerconv backend=%s", backend);
  /* the harness starts the element at once: backend set before that */
  GstHarness *h = gst_harness_new_parse (desc);
  GstBuffer *in, *out;
  GstMapInfo map;
  gfloat *x;
  guint i;

  g_free (desc);
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, rate=250, "
      "channels=1, layout=interleaved");
  in = gst_buffer_new_allocate (NULL, 500 * sizeof (gfloat), NULL);
  gst_buffer_map (in, &map, GST_MAP_WRITE);
  x = (gfloat *) map.data;
  for (i = 0; i < 500; i++)
    x[i] = sinf (i * 0.05f) + (i % 97 == 0 ? 2.0f : 0.0f);
  gst_buffer_unmap (in, &map);
  GST_BUFFER_OFFSET (in) = 0;
  GST_BUFFER_PTS (in) = 0;

  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  *caps = gst_pad_get_current_caps (h->sinkpad);
  gst_harness_teardown (h);
  return out;
}

GST_START_TEST (test_auto_runs_cpu)
{
  GstCaps *caps_auto, *caps_cpu;
  GstBuffer *a = run_rickerconv ("auto", &caps_auto);
  GstBuffer *c = run_rickerconv ("cpu", &caps_cpu);
  GstMapInfo ma, mc;

  /* cpu: system memory out */
  fail_if (gst_caps_features_contains (gst_caps_get_features (caps_cpu, 0),
          "memory:CUDAMemory"));
  if (ecg_cuda_device_count () == 0) {
    /* auto without a device: the CPU path, the same bytes */
    fail_unless (gst_caps_is_equal (caps_auto, caps_cpu),
        "%" GST_PTR_FORMAT " vs %" GST_PTR_FORMAT, caps_auto, caps_cpu);
    fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
    fail_unless (gst_buffer_map (c, &mc, GST_MAP_READ));
    fail_unless_equals_uint64 (ma.size, mc.size);
    fail_unless (memcmp (ma.data, mc.data, ma.size) == 0);
    gst_buffer_unmap (a, &ma);
    gst_buffer_unmap (c, &mc);
  }
  gst_caps_unref (caps_auto);
  gst_caps_unref (caps_cpu);
  gst_buffer_unref (a);
  gst_buffer_unref (c);
}

GST_END_TEST;

/* The whole chain with backend=auto (the default) runs to EOS; without a
 * device that is the CPU path */
GST_START_TEST (test_auto_pipeline)
{
  gchar *csv = test_file ("ecg-15s-360hz.csv");
  gchar *desc = g_strdup_printf ("csvecgsrc location=\"%s\" rate=360 "
      "backend=auto ! audioresample ! audio/x-raw,rate=250 ! "
      "rickerconv backend=auto ! nmsgate backend=auto ! "
      "beatembed backend=auto ! vaescore backend=auto ! fakesink", csv);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (p != NULL);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (p);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    fail ("error from %s: %s (%s)", GST_OBJECT_NAME (msg->src), err->message,
        debug);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
  g_free (csv);
}

GST_END_TEST;

static Suite *
backend_suite (void)
{
  Suite *s = suite_create ("backend");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_templates);
  tcase_add_test (tc, test_cuda_without_device);
  tcase_add_test (tc, test_auto_runs_cpu);
  tcase_add_test (tc, test_auto_pipeline);
  return s;
}

GST_CHECK_MAIN (backend);

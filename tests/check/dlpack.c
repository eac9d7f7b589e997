/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The DLPack bridge (include/ecg/ecgdlpack.h) on system-memory buffers:
 * shape, dtype, device, the data pointer is the buffer's own (no copy), the
 * tensor holds a ref until its deleter runs, and wrong caps or sizes give
 * NULL.  The CUDA case runs on the GPU machine (tests/gpu/dlpack_torch.py).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

/* the public header compiles on its own */
#include "ecg/ecgdlpack.h"

static gboolean freed;

static void
on_buffer_freed (gpointer data, GstMiniObject * obj)
{
  freed = TRUE;
}

typedef struct
{
  const gchar *caps;
  gsize floats;                 /* in the buffer */
  gint64 rows, cols;            /* expected shape; rows 0: NULL expected */
} Case;

/* *INDENT-OFF* */
static const Case cases[] = {
  {"application/x-ecg-beats, format=F32LE, length=256, rate=250", 3 * 256, 3, 256},
  {"application/x-ecg-beats, format=F32LE, length=4, rate=360", 4, 1, 4},
  {"application/x-ecg-scores, format=F32LE, latent-dims=2, rate=250", 5 * 7, 5, 7},
  {"application/x-ecg-scores, format=F32LE, latent-dims=3, rate=250", 2 * 9, 2, 9},
  /* not whole rows */
  {"application/x-ecg-beats, format=F32LE, length=256, rate=250", 300, 0, 0},
  /* not a beats or scores stream */
  {"audio/x-raw, format=F32LE, rate=250, channels=1", 256, 0, 0},
};
/* *INDENT-ON* */

GST_START_TEST (test_cpu_tensor)
{
  guint c;

  for (c = 0; c < G_N_ELEMENTS (cases); c++) {
    const Case *t = &cases[c];
    GstCaps *caps = gst_caps_from_string (t->caps);
    gfloat *data = g_new (gfloat, t->floats);
    GstBuffer *buf;
    DLManagedTensor *dl;
    GstMapInfo map;
    gsize i;

    for (i = 0; i < t->floats; i++)
      data[i] = (gfloat) i *0.5f - 3.0f;
    buf = gst_buffer_new_wrapped (data, t->floats * sizeof (gfloat));
    freed = FALSE;
    gst_mini_object_weak_ref (GST_MINI_OBJECT (buf), on_buffer_freed, NULL);

    dl = ecg_dlpack_from_buffer (buf, caps);
    if (t->rows == 0) {
      fail_unless (dl == NULL, "case %u: a tensor for bad input", c);
      gst_buffer_unref (buf);
      fail_unless (freed, "case %u: the buffer leaked", c);
      gst_caps_unref (caps);
      continue;
    }
    fail_unless (dl != NULL, "case %u: no tensor", c);
    fail_unless_equals_int (dl->dl_tensor.device.device_type, kDLCPU);
    fail_unless_equals_int (dl->dl_tensor.ndim, 2);
    fail_unless_equals_int64 (dl->dl_tensor.shape[0], t->rows);
    fail_unless_equals_int64 (dl->dl_tensor.shape[1], t->cols);
    fail_unless (dl->dl_tensor.strides == NULL);
    fail_unless_equals_int (dl->dl_tensor.dtype.code, kDLFloat);
    fail_unless_equals_int (dl->dl_tensor.dtype.bits, 32);
    fail_unless_equals_int (dl->dl_tensor.dtype.lanes, 1);
    fail_unless_equals_uint64 (dl->dl_tensor.byte_offset, 0);

    /* no copy: the tensor points into the buffer's own memory */
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (dl->dl_tensor.data == (gpointer) map.data);
    fail_unless_equals_float (((gfloat *) dl->dl_tensor.data)[t->floats - 1],
        (gfloat) (t->floats - 1) * 0.5f - 3.0f);
    gst_buffer_unmap (buf, &map);

    /* the tensor keeps the buffer alive until its deleter runs */
    gst_buffer_unref (buf);
    fail_if (freed, "case %u: buffer freed while the tensor lives", c);
    dl->deleter (dl);
    fail_unless (freed, "case %u: deleter did not release the buffer", c);
    gst_caps_unref (caps);
  }
}

GST_END_TEST;

/* A beats buffer from beatembed itself, with its meta, converts too. */
GST_START_TEST (test_from_pipeline)
{
  GstHarness *h = gst_harness_new_parse ("rickerconv ! nmsgate threshold=0 "
      "! beatembed beats-per-buffer=4 prune=false");
  GstCaps *caps;
  GstBuffer *in, *out;
  DLManagedTensor *dl;
  gfloat *x;
  guint i, n = 250 * 20;

  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, rate=250, "
      "channels=1, layout=interleaved");
  x = g_new (gfloat, n);
  for (i = 0; i < n; i++)
    x[i] = (i % 200) < 5 ? 1.0f : 0.0f;
  in = gst_buffer_new_wrapped (x, n * sizeof (gfloat));
  GST_BUFFER_OFFSET (in) = 0;
  GST_BUFFER_PTS (in) = 0;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  caps = gst_pad_get_current_caps (h->sinkpad);
  dl = ecg_dlpack_from_buffer (out, caps);
  fail_unless (dl != NULL);
  fail_unless_equals_int64 (dl->dl_tensor.shape[1], 256);
  fail_unless_equals_int64 (dl->dl_tensor.shape[0],
      ecg_buffer_get_beat_meta (out)->n_beats);
  dl->deleter (dl);
  gst_buffer_unref (out);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
dlpack_suite (void)
{
  Suite *s = suite_create ("dlpack");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cpu_tensor);
  tcase_add_test (tc, test_from_pipeline);
  return s;
}

GST_CHECK_MAIN (dlpack);

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * A tiny library for tests/gpu/dlpack_torch.py (loaded with ctypes): runs a
 * pipeline ending in "appsink name=sink", wraps the first buffer with
 * ecg_dlpack_from_buffer () and hands the DLManagedTensor over, holding no
 * ref of its own, so that the tensor's deleter is what frees the buffer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/app/gstappsink.h>

#include "ecg/ecgdlpack.h"

int ecg_dlpack_helper_init (void);
void *ecg_dlpack_helper_first_tensor (const char *desc, int *freed);

int
ecg_dlpack_helper_init (void)
{
  return gst_init_check (NULL, NULL, NULL) ? 0 : -1;
}

static void
on_freed (gpointer data, GstMiniObject * obj)
{
  *(int *) data = 1;
}

/* Returns: (transfer full) (nullable): a DLManagedTensor of the first
 * buffer that reaches the appsink; *freed becomes 1 when that buffer is
 * finalized. */
void *
ecg_dlpack_helper_first_tensor (const char *desc, int *freed)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err), *sink;
  GstSample *sample;
  DLManagedTensor *dl = NULL;

  *freed = 0;
  if (!pipeline) {
    g_printerr ("%s\n", err->message);
    g_clear_error (&err);
    return NULL;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  if (sample) {
    GstBuffer *buf = gst_sample_get_buffer (sample);

    gst_mini_object_weak_ref (GST_MINI_OBJECT (buf), on_freed, freed);
    dl = ecg_dlpack_from_buffer (buf, gst_sample_get_caps (sample));
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return dl;
}

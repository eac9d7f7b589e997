/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_ECG_UTILS_H__
#define __GST_ECG_UTILS_H__

#include <gst/gst.h>
#include "ecg/ecgmeta.h"

G_BEGIN_DECLS

GType ecg_gate_meta_api_register (void);
GType ecg_beat_meta_api_register (void);

EcgGateMeta *ecg_buffer_add_gate_meta (GstBuffer * buffer,
    const EcgGate * gates, guint n_gates);
EcgBeatMeta *ecg_buffer_add_beat_meta (GstBuffer * buffer,
    const EcgBeat * beats, guint n_beats);

/* The largest sample rate any element accepts, in Hz. */
#define ECG_MAX_RATE 100000

/**
 * GstEcgBackend:
 * @GST_ECG_BACKEND_AUTO: CUDA when a device is present, else the CPU
 * @GST_ECG_BACKEND_CPU: the CPU reference path
 * @GST_ECG_BACKEND_CUDA: CUDA; starting fails without a device
 *
 * Where an element computes (its "backend" property).
 */
typedef enum
{
  GST_ECG_BACKEND_AUTO,
  GST_ECG_BACKEND_CPU,
  GST_ECG_BACKEND_CUDA,
} GstEcgBackend;

#define GST_TYPE_ECG_BACKEND (gst_ecg_backend_get_type ())
GType gst_ecg_backend_get_type (void);

#define ECG_DEFAULT_BACKEND GST_ECG_BACKEND_AUTO
#define ECG_DEFAULT_CUDA_DEVICE_ID -1
#define ECG_MAX_CUDA_DEVICE_ID 15

void ecg_install_backend_properties (GObjectClass * klass,
    guint backend_prop_id, guint device_prop_id);

/* The GPU state of one element instance: made in start (), freed in
 * stop ().  device < 0: the element runs its CPU path. */
typedef struct
{
  gint device;
  gpointer stream;              /* cudaStream_t */
  GstAllocator *allocator;      /* the device's EcgCudaAllocator */
  gboolean resolved;            /* between start () and stop () */
} EcgCudaContext;

void ecg_cuda_context_init (EcgCudaContext * ctx);
gboolean ecg_cuda_context_wants_cuda (EcgCudaContext * ctx,
    GstElement * element, const GstEcgBackend * backend);
GstCaps *ecg_transform_caps_memory (GstCaps * caps, gboolean cuda,
    GstPadDirection direction);
#define ecg_cuda_context_active(ctx) ((ctx)->device >= 0)

gboolean ecg_cuda_context_open (EcgCudaContext * ctx, GstElement * element,
    GstEcgBackend backend, gint device_id);
void ecg_cuda_context_close (EcgCudaContext * ctx, GstElement * element);
gboolean ecg_cuda_context_start (EcgCudaContext * ctx, GstElement * element,
    const GstEcgBackend * backend, const gint * device_id);

void ecg_cuda_route_log (void);

gboolean ecg_cuda_release (GstElement * element, gint device,
    gpointer * ptr);
gboolean ecg_cuda_drain (GstElement * element, gpointer stream);

GstCaps *ecg_caps_with_cuda (GstCaps * caps, gboolean cuda_first);
GstCaps *ecg_caps_without_cuda (GstCaps * caps);
gboolean ecg_caps_is_cuda (GstCaps * caps);
GstCaps *ecg_template_caps (const gchar * caps_str);
void ecg_element_class_add_pad_template (GstElementClass * klass,
    GstStaticPadTemplate * templ);
void ecg_cuda_decide_allocation (GstQuery * query, GstAllocator * allocator);
gboolean ecg_buffer_is_cuda (GstBuffer * buffer);

/* A buffer's bytes readable on the host: mapped, or (CUDA memory on an
 * element running on CUDA) downloaded on the element's stream */
typedef struct
{
  GstBuffer *buffer;
  GstMapInfo info;
  gpointer copy;
  const guint8 *data;
  gsize size;
} EcgHostView;

gboolean ecg_host_view_map (EcgHostView * view, GstBuffer * buffer,
    EcgCudaContext * ctx, gint * status);
void ecg_host_view_unmap (EcgHostView * view);

G_END_DECLS

#endif /* __GST_ECG_UTILS_H__ */

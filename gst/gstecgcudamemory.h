/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA device memory as a GstMemory (CUDA runtime API, primary context, so
 * PyTorch and CuPy can share the pointers), negotiated with the caps
 * feature memory:CUDAMemory.  Mapping it for the CPU stages a copy through
 * host memory and is counted: it is never wrong, only slow.
 */
#ifndef __GST_ECG_CUDA_MEMORY_H__
#define __GST_ECG_CUDA_MEMORY_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define ECG_CAPS_FEATURE_MEMORY_CUDA "memory:CUDAMemory"
#define ECG_CUDA_MEMORY_TYPE "EcgCudaMemory"

/* gst_memory_map () flag: give the device pointer itself, no staging */
#define ECG_MAP_CUDA ((GstMapFlags) (GST_MAP_FLAG_LAST << 1))

#define ECG_TYPE_CUDA_ALLOCATOR (ecg_cuda_allocator_get_type ())
G_DECLARE_FINAL_TYPE (EcgCudaAllocator, ecg_cuda_allocator, ECG,
    CUDA_ALLOCATOR, GstAllocator);

typedef struct
{
  GstMemory mem;
  gint device;
  gpointer dev_ptr;             /* cudaMalloc'ed, mem.maxsize bytes */
  gpointer host;                /* staging copy, allocated on first map */
  GstMapFlags staged;           /* how the host copy is mapped now */
} EcgCudaMemory;

GstAllocator *ecg_cuda_allocator_get (gint device);
gboolean ecg_is_cuda_memory (GstMemory * mem);
gpointer ecg_cuda_memory_device_pointer (GstMemory * mem);
gint ecg_cuda_memory_device (GstMemory * mem);
guint64 ecg_cuda_staging_copies (void);

G_END_DECLS

#endif /* __GST_ECG_CUDA_MEMORY_H__ */

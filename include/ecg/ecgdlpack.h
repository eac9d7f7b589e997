/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The DLPack bridge: a beats or scores buffer as a DLManagedTensor, with no
 * copy, for PyTorch (torch.from_dlpack), CuPy or any DLPack consumer.
 * Header-only, so an application needs no library of the plugin's.
 *
 * Ownership: the DLManagedTensor holds one ref on the GstBuffer (and, for a
 * buffer in system memory, keeps it mapped for reading) until its deleter
 * runs.  The consumer calls the deleter exactly once when it no longer
 * needs the data (PyTorch does when the last tensor sharing it is freed);
 * the caller of ecg_dlpack_from_buffer () keeps its own ref on the buffer
 * and may drop it at once.  A buffer in the plugin's CUDA memory gives a
 * kDLCUDA tensor whose data pointer is the device pointer of that memory
 * (CUDA runtime, primary context); any other buffer a kDLCPU tensor.
 */
#ifndef __ECG_DLPACK_H__
#define __ECG_DLPACK_H__

#include <string.h>

#include <dlpack/dlpack.h>
#include <gst/gst.h>

#include "ecgmeta.h"

G_BEGIN_DECLS

/* The plugin's CUDA memory: its GstMemory type, and the map flag that
 * yields the device pointer itself (no staging copy). */
#define ECG_DLPACK_CUDA_MEMORY_TYPE "EcgCudaMemory"
#define ECG_DLPACK_MAP_CUDA ((GstMapFlags) (GST_MAP_FLAG_LAST << 1))

typedef struct
{
  DLManagedTensor tensor;
  GstBuffer *buffer;
  GstMemory *memory;            /* mapped memory (CUDA) or NULL */
  GstMapInfo map;
  gboolean mapped_buffer;       /* map is of the whole buffer (CPU) */
  int64_t shape[2];
} EcgDLPackContext;

static inline void
ecg_dlpack_deleter (DLManagedTensor * self)
{
  EcgDLPackContext *ctx = (EcgDLPackContext *) self->manager_ctx;

  if (ctx->mapped_buffer)
    gst_buffer_unmap (ctx->buffer, &ctx->map);
  else if (ctx->memory)
    gst_memory_unmap (ctx->memory, &ctx->map);
  gst_buffer_unref (ctx->buffer);
  g_free (ctx);
}

/**
 * ecg_dlpack_row_floats:
 * @caps: fixed caps of a beats or scores stream
 *
 * Returns: the floats per row: `length` for beats, the record size for
 *     scores; 0 for other caps
 */
static inline gint64
ecg_dlpack_row_floats (const GstCaps * caps)
{
  const GstStructure *s;
  gint v;

  if (!caps || gst_caps_get_size (caps) < 1)
    return 0;
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_name (s, ECG_BEATS_CAPS_NAME) &&
      gst_structure_get_int (s, "length", &v) && v > 0)
    return v;
  if (gst_structure_has_name (s, ECG_SCORES_CAPS_NAME) &&
      gst_structure_get_int (s, "latent-dims", &v) && v > 0)
    return ECG_SCORE_RECORD_FLOATS (v);
  return 0;
}

/**
 * ecg_dlpack_from_buffer:
 * @buffer: a beats or scores buffer (not consumed: the tensor takes its own
 *     ref)
 * @caps: the stream's caps (they give the row length)
 *
 * Wraps @buffer as a K x C float32 tensor (C = floats per row), row-major,
 * without copying.
 *
 * Returns: (transfer full) (nullable): the tensor, NULL when the caps are
 *     not beats or scores, the size is not whole rows, or the memory cannot
 *     be mapped; release it with its deleter
 */
static inline DLManagedTensor *
ecg_dlpack_from_buffer (GstBuffer * buffer, const GstCaps * caps)
{
  EcgDLPackContext *ctx;
  gint64 cols = ecg_dlpack_row_floats (caps);
  gsize size;
  GstMemory *mem = NULL;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  size = gst_buffer_get_size (buffer);
  if (cols <= 0 || size % (cols * sizeof (float)) != 0)
    return NULL;

  ctx = g_new0 (EcgDLPackContext, 1);
  ctx->buffer = gst_buffer_ref (buffer);
  if (gst_buffer_n_memory (buffer) == 1)
    mem = gst_buffer_peek_memory (buffer, 0);

  if (mem && gst_memory_is_type (mem, ECG_DLPACK_CUDA_MEMORY_TYPE)) {
    gint device = 0;

    if (!gst_memory_map (mem, &ctx->map,
            (GstMapFlags) (GST_MAP_READ | ECG_DLPACK_MAP_CUDA)))
      goto failed;
    ctx->memory = mem;
    g_object_get (mem->allocator, "device", &device, NULL);
    ctx->tensor.dl_tensor.device.device_type = kDLCUDA;
    ctx->tensor.dl_tensor.device.device_id = device;
  } else {
    if (!gst_buffer_map (buffer, &ctx->map, GST_MAP_READ))
      goto failed;
    ctx->mapped_buffer = TRUE;
    ctx->tensor.dl_tensor.device.device_type = kDLCPU;
    ctx->tensor.dl_tensor.device.device_id = 0;
  }

  ctx->shape[0] = (int64_t) (size / (cols * sizeof (float)));
  ctx->shape[1] = cols;
  ctx->tensor.dl_tensor.data = ctx->map.data;
  ctx->tensor.dl_tensor.ndim = 2;
  ctx->tensor.dl_tensor.dtype.code = kDLFloat;
  ctx->tensor.dl_tensor.dtype.bits = 32;
  ctx->tensor.dl_tensor.dtype.lanes = 1;
  ctx->tensor.dl_tensor.shape = ctx->shape;
  ctx->tensor.dl_tensor.strides = NULL;       /* compact row-major */
  ctx->tensor.dl_tensor.byte_offset = 0;
  ctx->tensor.manager_ctx = ctx;
  ctx->tensor.deleter = ecg_dlpack_deleter;
  return &ctx->tensor;

failed:
  gst_buffer_unref (ctx->buffer);
  g_free (ctx);
  return NULL;
}

G_END_DECLS

#endif /* __ECG_DLPACK_H__ */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA twin of beat_embed_f32_ref for a batch of beats: one block per row,
 * threads along the row (coalesced reads of the ring, writes of the row).
 */
#include "beat.h"
#include "cudacheck.h"

#define BEAT_CUDA_THREADS 256

__global__ static void
beat_rows_kernel (const float *__restrict__ ring, size_t ring_len,
    const uint64_t * __restrict__ starts, const uint32_t * __restrict__ lens,
    float *__restrict__ rows, size_t row_len)
{
  size_t r = blockIdx.x, j;
  size_t start = (size_t) (starts[r] % ring_len);
  size_t len = lens[r] < row_len ? lens[r] : row_len;
  float *row = rows + r * row_len;

  for (j = threadIdx.x; j < row_len; j += blockDim.x) {
    size_t p = start + j;

    if (p >= ring_len)
      p -= ring_len;
    row[j] = j < len ? ring[p] : 0.0f;
  }
}

extern "C" int
beat_embed_rows_f32_cuda (const float *ring, size_t ring_len,
    const uint64_t * starts, const uint32_t * lens, size_t k, float *rows,
    size_t row_len, void *stream)
{
  if (k == 0 || row_len == 0)
    return ECG_CUDA_OK;
  if (ring == NULL || ring_len == 0 || starts == NULL || lens == NULL
      || rows == NULL || k > 0x7fffffffu)
    return ECG_CUDA_ERR_INVALID_ARG;
  beat_rows_kernel <<< (unsigned) k, BEAT_CUDA_THREADS, 0,
      ECG_CUDA_STREAM (stream) >>> (ring, ring_len, starts, lens, rows,
      row_len);
  return ECG_CUDA_CHECK_LAUNCH ();
}

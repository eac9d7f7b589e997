/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA twin of ricker_conv_f32_ref: one thread per output, blocks of
 * RICKER_CUDA_BLOCK outputs.  A block stages the wavelet (double) and the
 * input span it needs, history included, in shared memory; each thread sums
 * k = 0 .. W-1 in double in the reference's order, with separately rounded
 * products and sums (no fused multiply-add), so the results are the
 * reference's bit for bit.
 */
#include "cudacheck.h"
#include "ricker.h"

#define RICKER_CUDA_BLOCK 256

/* v[j] = history[j] for j < h, x[j - h] after: the stream with its past */
__global__ static void
ricker_conv_kernel (const double *__restrict__ w, int taps,
    const float *__restrict__ history, const float *__restrict__ x,
    float *__restrict__ y, size_t n)
{
  extern __shared__ double sw[];
  float *sv = (float *) (sw + taps);
  size_t h = (size_t) taps - 1;
  size_t i0 = (size_t) blockIdx.x * RICKER_CUDA_BLOCK;
  size_t span = RICKER_CUDA_BLOCK + h, j;
  double acc = 0.0;
  int k;

  for (k = threadIdx.x; k < taps; k += blockDim.x)
    sw[k] = w[k];
  /* v[i0 .. i0 + span), beyond n + h unused */
  for (j = threadIdx.x; j < span; j += blockDim.x) {
    size_t v = i0 + j;

    sv[j] = v < h ? history[v] : (v - h < n ? x[v - h] : 0.0f);
  }
  __syncthreads ();

  if (i0 + threadIdx.x >= n)
    return;
  /* y[i] = sum_k w[k] v[i + h - k] */
  for (k = 0; k < taps; k++)
    acc = __dadd_rn (acc, __dmul_rn (sw[k],
            (double) sv[threadIdx.x + h - k]));
  y[i0 + threadIdx.x] = (float) acc;
}

/* new history = the last h samples of (history, x), for n < h */
__global__ static void
ricker_history_kernel (const float *__restrict__ history,
    const float *__restrict__ x, float *__restrict__ out, size_t h, size_t n)
{
  size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x;

  if (i < h)
    out[i] = i < h - n ? history[i + n] : x[i - (h - n)];
}

extern "C" size_t
ricker_conv_f32_cuda_workspace_size (int taps)
{
  return taps > 1 ? (size_t) (taps - 1) * sizeof (float) : 0;
}

extern "C" int
ricker_conv_f32_cuda (const double *w, int taps, float *history,
    const float *x, float *y, size_t n, void *workspace, void *stream)
{
  cudaStream_t s = ECG_CUDA_STREAM (stream);
  size_t h, smem, blocks;
  int ret;

  if (w == NULL || taps < 1 || taps > RICKER_MAX_TAPS || x == y
      || (taps > 1 && (history == NULL || workspace == NULL))
      || (n > 0 && (x == NULL || y == NULL)))
    return ECG_CUDA_ERR_INVALID_ARG;
  if (n == 0)
    return ECG_CUDA_OK;
  h = (size_t) taps - 1;
  smem = (size_t) taps * sizeof (double)
      + (RICKER_CUDA_BLOCK + h) * sizeof (float);
  if (smem > 48 * 1024) {
    /* up to RICKER_MAX_TAPS: 32 KiB + 17 KiB */
    ret = ECG_CUDA_CHECK (cudaFuncSetAttribute (ricker_conv_kernel,
            cudaFuncAttributeMaxDynamicSharedMemorySize, (int) smem));
    if (ret != 0)
      return ret;
  }
  blocks = (n + RICKER_CUDA_BLOCK - 1) / RICKER_CUDA_BLOCK;
  ricker_conv_kernel <<< (unsigned) blocks, RICKER_CUDA_BLOCK, smem, s >>>
      (w, taps, history, x, y, n);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;

  /* the kernel has read the old history: replace it in stream order */
  if (h == 0)
    return ECG_CUDA_OK;
  if (n >= h)
    return ECG_CUDA_CHECK (cudaMemcpyAsync (history, x + n - h,
            h * sizeof (float), cudaMemcpyDeviceToDevice, s));
  ricker_history_kernel <<< (unsigned) ((h + 255) / 256), 256, 0, s >>>
      (history, x, (float *) workspace, h, n);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  return ECG_CUDA_CHECK (cudaMemcpyAsync (history, workspace,
          h * sizeof (float), cudaMemcpyDeviceToDevice, s));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA twin of score_prepare_rows_ref: one block per row.  The block
 * checks the row, sorts it (as doubles, exact) in shared memory with a
 * bitonic network over the next power of two, +inf in the padding, and
 * takes the reference's median from the sorted values: the middle one, or
 * 0.5 * (lo + hi) of the two middle ones.  Then every sample becomes
 * (float) ((double) r[j] - c) with one correctly rounded subtraction, so
 * the rows are the reference's bit for bit.
 *
 * The sort gives the median's value but not which zero it is: when the
 * median is a zero and the row holds a -0.0 (the only case where the sign
 * of c shows: -0 - +0 = -0 but -0 - -0 = +0), one thread runs the
 * reference's selection itself on the row, so that c is the very same
 * zero.
 *
 * A row with a NaN or an infinity is left as it is and flagged; unlike
 * the reference, which stops there, the later rows are still prepared (as
 * vaescore does, calling the reference row by row).
 */
#include "cudacheck.h"
#include "score.h"

/* Threads per block: one per compare-exchange of the sort (half the
 * padded row), at least a warp; the most blocks a call uses (one row a
 * block, then the next rows in turn) */
#define SCORE_CUDA_MIN_THREADS  32
#define SCORE_CUDA_MAX_BLOCKS   65535
#define SCORE_CUDA_MAX_LEN      1024

/* select_kth and median_inplace of score_ref.c, operation for operation */
__device__ static double
score_select_kth (double *x, size_t n, size_t k)
{
  long lo = 0, hi = (long) n - 1, kk = (long) k;

  while (lo < hi) {
    double pivot = x[kk];
    long i = lo, j = hi;

    do {
      while (x[i] < pivot)
        i++;
      while (pivot < x[j])
        j--;
      if (i <= j) {
        double t = x[i];

        x[i] = x[j];
        x[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < kk)
      lo = i;
    if (kk < i)
      hi = j;
  }
  return x[kk];
}

__device__ static double
score_median_inplace (double *x, size_t n)
{
  size_t k = n / 2, i;
  double hi, lo;

  hi = score_select_kth (x, n, k);
  if (n % 2 == 1)
    return hi;
  lo = x[0];
  for (i = 1; i < k; i++)
    if (x[i] > lo)
      lo = x[i];
  return __dmul_rn (0.5, __dadd_rn (lo, hi));
}

/* p: the next power of two >= len (<= SCORE_CUDA_MAX_LEN); shared: p
 * doubles */
__global__ static void
score_prepare_kernel (float *__restrict__ rows, size_t n, int len, int p,
    int *__restrict__ nonfinite)
{
  extern __shared__ double s[];
  __shared__ double c_shared;
  size_t b;

  for (b = blockIdx.x; b < n; b += gridDim.x) {
    float *r = rows + b * (size_t) len;
    int bad = 0, negzero = 0, j, size, stride;
    double c;

    for (j = threadIdx.x; j < p; j += blockDim.x) {
      if (j < len) {
        float v = r[j];

        bad |= !isfinite (v);
        negzero |= v == 0.0f && signbit (v);
        s[j] = (double) v;
      } else {
        s[j] = INFINITY;
      }
    }
    /* also the barrier after the loads */
    bad = __syncthreads_or (bad);
    negzero = __syncthreads_or (negzero);
    if (bad) {
      /* uniform over the block: every thread skips the row */
      if (nonfinite != NULL && threadIdx.x == 0)
        nonfinite[b] = 1;
      continue;
    }

    /* bitonic sort of s[0 .. p-1], ascending */
    for (size = 2; size <= p; size <<= 1) {
      for (stride = size >> 1; stride > 0; stride >>= 1) {
        int t;

        for (t = threadIdx.x; t < p / 2; t += blockDim.x) {
          int lo = 2 * t - (t & (stride - 1));
          int hi = lo + stride;
          int up = (lo & size) == 0;
          double a = s[lo], d = s[hi];

          if ((a > d) == up) {
            s[lo] = d;
            s[hi] = a;
          }
        }
        __syncthreads ();
      }
    }

    if (len % 2 == 1)
      c = s[len / 2];
    else
      c = __dmul_rn (0.5, __dadd_rn (s[len / 2 - 1], s[len / 2]));

    if (c == 0.0 && negzero) {
      /* which zero: the reference's own selection on the row */
      __syncthreads ();         /* everyone has read the sorted values */
      if (threadIdx.x == 0) {
        for (j = 0; j < len; j++)
          s[j] = (double) r[j];
        c_shared = score_median_inplace (s, (size_t) len);
      }
      __syncthreads ();
      c = c_shared;
    }

    for (j = threadIdx.x; j < len; j += blockDim.x)
      r[j] = (float) __dsub_rn ((double) r[j], c);
    if (nonfinite != NULL && threadIdx.x == 0)
      nonfinite[b] = 0;
    /* s is rewritten by the next row */
    __syncthreads ();
  }
}

extern "C" int
score_prepare_rows_cuda (float *rows, size_t n, size_t len, int *nonfinite,
    void *stream)
{
  cudaStream_t st = ECG_CUDA_STREAM (stream);
  unsigned blocks;
  int p, threads;

  if ((rows == NULL && n > 0) || len == 0 || len > SCORE_CUDA_MAX_LEN)
    return SCORE_ERR_INVALID_ARG;
  if (n == 0)
    return ECG_CUDA_OK;
  p = 1;
  while ((size_t) p < len)
    p <<= 1;
  threads = p / 2 > SCORE_CUDA_MIN_THREADS ? p / 2 : SCORE_CUDA_MIN_THREADS;
  blocks = n < SCORE_CUDA_MAX_BLOCKS ? (unsigned) n : SCORE_CUDA_MAX_BLOCKS;
  score_prepare_kernel <<< blocks, threads,
      (size_t) p * sizeof (double), st >>> (rows, n, (int) len, p,
      nonfinite);
  return ECG_CUDA_CHECK_LAUNCH ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Causal Ricker-wavelet convolution (the seed's beat-enhancing filter).
 */
#ifndef RICKER_H
#define RICKER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RICKER_MAX_TAPS 4096

/* Number of taps for a wavelet `width_s` seconds long at `rate` Hz:
 * round (width_s * rate); 0 when that is below 2 or above RICKER_MAX_TAPS. */
int ricker_taps (double rate, double width_s);

/* w[k] = 2 exp(-t_k^2/2) (1 - t_k^2) / sqrt(W), t = linspace(-3, 3, W). */
void ricker_wavelet_ref (double *w, int taps);

/* y[i] = sum_{k=0}^{W-1} w[k] x[i-k], where x[-1], ..., x[-(W-1)] are the
 * W-1 previous samples kept in `history` (oldest first; zeros at the start of
 * a stream).  Sums in double, rounds to float.  `history` is updated to the
 * last W-1 samples of the stream.  In-place (x == y) is not allowed. */
void ricker_conv_f32_ref (const double *w, int taps, float *history,
    const float *x, float *y, size_t n);

/* CUDA twin (kernels/ricker.cu; built with the meson option cuda).  All
 * pointers are device pointers; `stream` is a cudaStream_t (NULL: the
 * legacy default stream).  Same maths as ricker_conv_f32_ref, each sum in
 * double in the same order, so y equals the reference.  `history` holds
 * taps - 1 floats on the device (zeros at the start of a stream) and is
 * updated in stream order; `workspace` holds
 * ricker_conv_f32_cuda_workspace_size (taps) bytes.  x == y is not
 * allowed.  Returns 0 or an ECG_CUDA_ERR_* status (cudadev.h,
 * ecg_cuda_strerror).  Asynchronous: the caller synchronises. */
size_t ricker_conv_f32_cuda_workspace_size (int taps);
int ricker_conv_f32_cuda (const double *w, int taps, float *history,
    const float *x, float *y, size_t n, void *workspace, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* RICKER_H */

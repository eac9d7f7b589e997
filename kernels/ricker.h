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

#ifdef __cplusplus
}
#endif
#endif /* RICKER_H */

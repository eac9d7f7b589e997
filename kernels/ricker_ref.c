/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#include <math.h>
#include <string.h>

#include "ricker.h"

int
ricker_taps (double rate, double width_s)
{
  double t = width_s * rate;

  if (!(t >= 1.5) || t > RICKER_MAX_TAPS)
    return 0;
  return (int) floor (t + 0.5);
}

/* The seed's wavelet: t_k = -3 + 6 k / (W - 1), as numpy.linspace. */
void
ricker_wavelet_ref (double *w, int taps)
{
  int k;

  for (k = 0; k < taps; k++) {
    double t = -3.0 + 6.0 * k / (taps - 1);

    w[k] = 2.0 * exp (-0.5 * t * t) * (1.0 - t * t) / sqrt ((double) taps);
  }
}

#define RICKER_BLOCK 256

/* y[i] = sum_k w[k] x[i-k] in double.  The work goes in blocks of outputs;
 * within a block the loop over outputs is innermost so that it vectorises
 * without reassociating any single sum. */
void
ricker_conv_f32_ref (const double *w, int taps, float *history,
    const float *x, float *y, size_t n)
{
  double acc[RICKER_BLOCK];
  size_t h = (size_t) taps - 1;
  size_t i0, j;
  int k;

  for (i0 = 0; i0 < n; i0 += RICKER_BLOCK) {
    size_t m = n - i0 < RICKER_BLOCK ? n - i0 : RICKER_BLOCK;

    for (j = 0; j < m; j++)
      acc[j] = 0.0;

    for (k = 0; k < taps; k++) {
      double wk = w[k];

      if (i0 >= (size_t) k) {
        const float *src = x + i0 - k;

        for (j = 0; j < m; j++)
          acc[j] += wk * src[j];
      } else {
        for (j = 0; j < m; j++) {
          /* index i0 + j - k, negative values read the history */
          size_t pos = i0 + j + h - k;
          double v = pos < h ? history[pos] : x[pos - h];

          acc[j] += wk * v;
        }
      }
    }
    for (j = 0; j < m; j++)
      y[i0 + j] = (float) acc[j];
  }

  /* keep the last W-1 samples of history followed by x */
  if (h == 0)
    return;
  if (n >= h) {
    memcpy (history, x + n - h, h * sizeof (float));
  } else {
    memmove (history, history + n, (h - n) * sizeof (float));
    memcpy (history + h - n, x, n * sizeof (float));
  }
}

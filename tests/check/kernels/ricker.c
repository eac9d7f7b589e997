/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * ricker_ref against a direct double-precision convolution on fresh random
 * input, split into random blocks to prove the history carries across.
 */
#include <stdint.h>
#include <time.h>

#include "ecgtest.h"
#include "ricker.h"

static uint64_t rng_state;

static double
rnd (void)
{
  /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (z >> 11) * (1.0 / 9007199254740992.0);
}

static int
check_taps (void)
{
  int fails = 0;

  fails += ricker_taps (250, 0.120) != 30;
  fails += ricker_taps (360, 0.120) != 43;
  fails += ricker_taps (250, 0.004) != 0;       /* one tap: unusable */
  fails += ricker_taps (250, 1000.0) != 0;      /* beyond RICKER_MAX_TAPS */
  if (fails)
    fprintf (stderr, "ricker_taps: %d wrong answers\n", fails);
  return fails;
}

static int
check_wavelet (void)
{
  double w[30];
  int k, fails = 0;

  ricker_wavelet_ref (w, 30);
  /* symmetric, peak 2/sqrt(30) at the centre of t = linspace(-3, 3, 30),
   * zero crossings at |t| = 1 */
  for (k = 0; k < 15; k++)
    fails += fabs (w[k] - w[29 - k]) > 1e-15;
  fails += !(w[14] > 0.0 && w[14] < 2.0 / sqrt (30.0));
  fails += fabs (w[0] - 2.0 * exp (-4.5) * (1.0 - 9.0) / sqrt (30.0)) > 1e-15;
  if (fails)
    fprintf (stderr, "wavelet: %d wrong values\n", fails);
  return fails;
}

static int
check_conv (int taps, size_t n)
{
  double *w = malloc (taps * sizeof (double));
  float *x = malloc (n * sizeof (float));
  float *y = malloc (n * sizeof (float));
  float *ref = malloc (n * sizeof (float));
  float *hist = calloc (taps, sizeof (float));
  size_t i, pos;
  long bad;
  int k;

  ricker_wavelet_ref (w, taps);
  for (i = 0; i < n; i++)
    x[i] = (float) (4.0 * rnd () - 2.0);
  for (i = 0; i < n; i++) {
    double acc = 0.0;

    for (k = 0; k < taps && (size_t) k <= i; k++)
      acc += w[k] * x[i - k];
    ref[i] = (float) acc;
  }
  for (pos = 0; pos < n;) {
    size_t m = 1 + (size_t) (rnd () * 700);

    if (m > n - pos)
      m = n - pos;
    ricker_conv_f32_ref (w, taps, hist, x + pos, y + pos, m);
    pos += m;
  }
  /* double sums in another order, then rounded: equal to a float ulp */
  bad = ecg_test_compare_floats (y, ref, n, 1e-6, 1e-6, "ricker_conv");
  free (w);
  free (x);
  free (y);
  free (ref);
  free (hist);
  return bad >= 0;
}

int
main (void)
{
  int fails = 0;

  rng_state = (uint64_t) time (NULL);
  printf ("seed %llu\n", (unsigned long long) rng_state);
  fails += check_taps ();
  fails += check_wavelet ();
  fails += check_conv (30, 100000);
  fails += check_conv (43, 50000);
  fails += check_conv (2, 1000);
  fails += check_conv (1000, 5000);
  printf ("%s\n", fails ? "FAIL" : "PASS");
  return fails ? 1 : 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * ricker_conv_f32_cuda against ricker_conv_f32_ref: a random stream in
 * random chunks (some shorter than the history) for several wavelet
 * lengths; outputs and the history after the stream.  Then timings.
 * Exit 0 pass, 1 fail, 77 no device.
 */
#include "cudatest.h"
#include "ricker.h"

#define STREAM_LEN 20000

static void
test_taps (VaeRng * rng, int taps)
{
  double *w = xmalloc (taps * sizeof (double));
  float *x = xmalloc (STREAM_LEN * sizeof (float));
  float *y = xmalloc (STREAM_LEN * sizeof (float));
  float *yg = xmalloc (STREAM_LEN * sizeof (float));
  float *hist = xmalloc (taps * sizeof (float));
  float *histg = xmalloc (taps * sizeof (float));
  size_t h = (size_t) taps - 1, pos = 0;
  double *dw = dmalloc (taps * sizeof (double));
  float *dx = dmalloc (STREAM_LEN * sizeof (float));
  float *dy = dmalloc (STREAM_LEN * sizeof (float));
  float *dh = dmalloc (taps * sizeof (float));
  void *dws = dmalloc (ricker_conv_f32_cuda_workspace_size (taps));
  double worst;
  size_t i, n_diff = 0;
  int chunks = 0, ret, ok = 1;

  ricker_wavelet_ref (w, taps);
  upload (dw, w, taps * sizeof (double));
  vae_rng_normal (rng, x, STREAM_LEN);
  for (i = 0; i < STREAM_LEN; i++)
    x[i] = x[i] * 0.2f + (vae_rng_below (rng, 300) == 0 ? 3.0f : 0.0f);
  memset (hist, 0, taps * sizeof (float));
  CK (cudaMemset (dh, 0, taps * sizeof (float)));
  upload (dx, x, STREAM_LEN * sizeof (float));
  poison (dy, STREAM_LEN * sizeof (float));

  /* chunk sizes: mostly random up to 3000, sometimes 1 or below h */
  while (pos < STREAM_LEN) {
    size_t n, r = vae_rng_below (rng, 4);

    n = r == 0 ? 1 : (r == 1 && h > 1 ? 1 + vae_rng_below (rng, h) :
        1 + vae_rng_below (rng, 3000));
    if (n > STREAM_LEN - pos)
      n = STREAM_LEN - pos;
    ricker_conv_f32_ref (w, taps, hist, x + pos, y + pos, n);
    ret = ricker_conv_f32_cuda (dw, taps, dh, dx + pos, dy + pos, n, dws, NULL);
    if (ret != 0) {
      ok = 0;
      printf ("# ricker_conv_f32_cuda: %s\n", ecg_cuda_strerror (ret));
      break;
    }
    pos += n;
    chunks++;
  }
  CK (cudaDeviceSynchronize ());
  download (yg, dy, STREAM_LEN * sizeof (float));
  if (h > 0)
    download (histg, dh, h * sizeof (float));
  worst = max_rel (yg, y, STREAM_LEN, 1e-30);
  for (i = 0; i < STREAM_LEN; i++)
    n_diff += memcmp (&yg[i], &y[i], sizeof (float)) != 0;
  check (ok && worst <= 1e-6, "taps %d, %d chunks: y max rel error %.3g "
      "(%zu of %d not bit-equal)", taps, chunks, worst, n_diff, STREAM_LEN);
  check (h == 0 || memcmp (histg, hist, h * sizeof (float)) == 0,
      "taps %d: history equals the reference's", taps);

  free (w);
  free (x);
  free (y);
  free (yg);
  free (hist);
  free (histg);
  CK (cudaFree (dw));
  CK (cudaFree (dx));
  CK (cudaFree (dy));
  CK (cudaFree (dh));
  CK (cudaFree (dws));
}

static void
bench (int taps, size_t n)
{
  double *w = xmalloc (taps * sizeof (double)), t[20], t0;
  double *dw = dmalloc (taps * sizeof (double));
  float *dx = dmalloc (n * sizeof (float)), *dy = dmalloc (n * sizeof (float));
  float *dh = dmalloc (taps * sizeof (float));
  void *dws = dmalloc (ricker_conv_f32_cuda_workspace_size (taps));
  float *x = xmalloc (n * sizeof (float)), *hist, *y, ms;
  cudaEvent_t e0, e1;
  int i;

  ricker_wavelet_ref (w, taps);
  upload (dw, w, taps * sizeof (double));
  for (i = 0; i < (int) n; i++)
    x[i] = (float) sin (i * 0.01);
  upload (dx, x, n * sizeof (float));
  CK (cudaMemset (dh, 0, taps * sizeof (float)));
  CK (cudaEventCreate (&e0));
  CK (cudaEventCreate (&e1));
  ricker_conv_f32_cuda (dw, taps, dh, dx, dy, n, dws, NULL);
  for (i = 0; i < 20; i++) {
    CK (cudaEventRecord (e0, NULL));
    ricker_conv_f32_cuda (dw, taps, dh, dx, dy, n, dws, NULL);
    CK (cudaEventRecord (e1, NULL));
    CK (cudaEventSynchronize (e1));
    CK (cudaEventElapsedTime (&ms, e0, e1));
    t[i] = ms;
  }
  hist = xmalloc (taps * sizeof (float));
  y = xmalloc (n * sizeof (float));
  memset (hist, 0, taps * sizeof (float));
  t0 = now_s ();
  ricker_conv_f32_ref (w, taps, hist, x, y, n);
  t0 = now_s () - t0;
  printf ("# timing: taps %d, %zu samples: cuda %.3f ms (median of 20, "
      "%.0f Msamples/s), ref %.1f ms\n", taps, n, median (t, 20),
      n / median (t, 20) / 1e3, t0 * 1e3);
  free (w);
  free (x);
  free (hist);
  free (y);
  CK (cudaFree (dw));
  CK (cudaFree (dx));
  CK (cudaFree (dy));
  CK (cudaFree (dh));
  CK (cudaFree (dws));
  CK (cudaEventDestroy (e0));
  CK (cudaEventDestroy (e1));
}

int
main (void)
{
  /* ricker_taps () gives 2 .. RICKER_MAX_TAPS (one tap is a NaN wavelet) */
  static const int taps[] = { 2, 3, 17, 90, 251, 1000, RICKER_MAX_TAPS };
  VaeRng rng;
  size_t i;

  require_device ();
  vae_rng_seed (&rng, test_seed ());
  for (i = 0; i < sizeof (taps) / sizeof (taps[0]); i++)
    test_taps (&rng, taps[i]);
  check (ricker_conv_f32_cuda (NULL, 3, NULL, NULL, NULL, 0, NULL, NULL)
      == ECG_CUDA_ERR_INVALID_ARG, "NULL wavelet is ECG_CUDA_ERR_INVALID_ARG");
  bench (90, 1 << 20);
  bench (RICKER_MAX_TAPS, 1 << 20);
  return finish ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * beat_embed_rows_f32_cuda against beat_embed_f32_ref row by row: random
 * starts (wrapping the ring, far beyond its length) and lengths (0, short,
 * longer than the row).  Exit 0 pass, 1 fail, 77 no device.
 */
#include "beat.h"
#include "cudatest.h"

static void
test_rows (VaeRng * rng, size_t ring_len, size_t k, size_t row_len, int bench)
{
  float *ring = xmalloc (ring_len * sizeof (float));
  float *seg = xmalloc (ring_len * sizeof (float));
  float *rows = xmalloc (k * row_len * sizeof (float));
  float *rowsg = xmalloc (k * row_len * sizeof (float));
  uint64_t *starts = xmalloc (k * sizeof (uint64_t));
  uint32_t *lens = xmalloc (k * sizeof (uint32_t));
  float *dring = dmalloc (ring_len * sizeof (float));
  float *drows = dmalloc (k * row_len * sizeof (float));
  uint64_t *dstarts = dmalloc (k * sizeof (uint64_t));
  uint32_t *dlens = dmalloc (k * sizeof (uint32_t));
  size_t r, j;
  int ret;

  vae_rng_normal (rng, ring, ring_len);
  for (r = 0; r < k; r++) {
    uint64_t c = vae_rng_below (rng, 8);
    size_t maxlen = 2 * row_len < ring_len ? 2 * row_len : ring_len;

    starts[r] = vae_rng_next (rng) >> (c == 0 ? 1 : 20);
    lens[r] = c == 1 ? 0 : (uint32_t) vae_rng_below (rng, maxlen + 1);
    if (c == 2)
      starts[r] = ring_len - 1 - vae_rng_below (rng, 8);        /* wraps */
    for (j = 0; j < lens[r]; j++)
      seg[j] = ring[(starts[r] % ring_len + j) % ring_len];
    beat_embed_f32_ref (seg, lens[r], rows + r * row_len, row_len);
  }
  upload (dring, ring, ring_len * sizeof (float));
  upload (dstarts, starts, k * sizeof (uint64_t));
  upload (dlens, lens, k * sizeof (uint32_t));
  poison (drows, k * row_len * sizeof (float));
  ret = beat_embed_rows_f32_cuda (dring, ring_len, dstarts, dlens, k, drows,
      row_len, NULL);
  CK (cudaDeviceSynchronize ());
  download (rowsg, drows, k * row_len * sizeof (float));
  check (ret == 0 && memcmp (rows, rowsg, k * row_len * sizeof (float)) == 0,
      "ring %zu, %zu rows of %zu: equal to beat_embed_f32_ref (%s)",
      ring_len, k, row_len, ecg_cuda_strerror (ret));

  if (bench) {
    cudaEvent_t e0, e1;
    double t[20];
    float ms;
    int i;

    CK (cudaEventCreate (&e0));
    CK (cudaEventCreate (&e1));
    for (i = 0; i < 20; i++) {
      CK (cudaEventRecord (e0, NULL));
      beat_embed_rows_f32_cuda (dring, ring_len, dstarts, dlens, k, drows,
          row_len, NULL);
      CK (cudaEventRecord (e1, NULL));
      CK (cudaEventSynchronize (e1));
      CK (cudaEventElapsedTime (&ms, e0, e1));
      t[i] = ms;
    }
    printf ("# timing: %zu rows of %zu: %.3f ms (median of 20)\n", k,
        row_len, median (t, 20));
    CK (cudaEventDestroy (e0));
    CK (cudaEventDestroy (e1));
  }

  free (ring);
  free (seg);
  free (rows);
  free (rowsg);
  free (starts);
  free (lens);
  CK (cudaFree (dring));
  CK (cudaFree (drows));
  CK (cudaFree (dstarts));
  CK (cudaFree (dlens));
}

int
main (void)
{
  VaeRng rng;

  require_device ();
  vae_rng_seed (&rng, test_seed ());
  test_rows (&rng, 1000, 1, 256, 0);
  test_rows (&rng, 100000, 4097, 256, 0);
  test_rows (&rng, 300, 777, 512, 0);
  test_rows (&rng, 1 << 20, 75000, 256, 1);
  check (beat_embed_rows_f32_cuda (NULL, 10, NULL, NULL, 3, NULL, 256, NULL)
      == ECG_CUDA_ERR_INVALID_ARG, "NULL ring is ECG_CUDA_ERR_INVALID_ARG");
  return finish ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * score_prepare_rows_cuda against score_prepare_rows_ref called row by row
 * (as vaescore does): random rows of several lengths, some of them full of
 * duplicates, of zeros of both signs (a zero median, the one case where
 * the sign of the median shows), constant, or with a NaN or an infinity
 * (left as they are and flagged).  Bit-equal rows and the right flags.
 * Then a timing.  Exit 0 pass, 1 fail, 77 no device.
 */
#include "cudatest.h"
#include "score.h"

enum
{
  ROW_NORMAL,                   /* normal samples plus a baseline */
  ROW_QUANTISED,                /* a few distinct values, -0.0 among them */
  ROW_ZEROS,                    /* mostly +-0.0: a zero median */
  ROW_CONSTANT,
  ROW_NAN,                      /* a normal row with one NaN */
  ROW_INF,                      /* a normal row with one +-inf */
  N_ROW_KINDS
};

static const char *const kind_names[N_ROW_KINDS] = {
  "normal", "quantised", "zeros", "constant", "nan", "inf"
};

static void
fill_row (VaeRng * rng, float *r, size_t len, int kind)
{
  float base = (float) (vae_rng_uniform (rng) * 4.0 - 2.0);
  size_t j;

  vae_rng_normal (rng, r, len);
  switch (kind) {
    case ROW_QUANTISED:
      /* rounding small negatives gives -0.0 */
      for (j = 0; j < len; j++)
        r[j] = roundf (r[j] * 1.5f) / 4.0f;
      break;
    case ROW_ZEROS:
      for (j = 0; j < len; j++) {
        uint64_t u = vae_rng_below (rng, 8);

        r[j] = u < 3 ? 0.0f : (u < 6 ? -0.0f : r[j]);
      }
      break;
    case ROW_CONSTANT:
      for (j = 0; j < len; j++)
        r[j] = vae_rng_below (rng, 2) ? -0.0f : 0.0f;
      if (vae_rng_below (rng, 2))
        for (j = 0; j < len; j++)
          r[j] = base;
      break;
    default:
      for (j = 0; j < len; j++)
        r[j] = r[j] * 0.3f + base;
      if (kind == ROW_NAN)
        r[vae_rng_below (rng, len)] = NAN;
      else if (kind == ROW_INF)
        r[vae_rng_below (rng, len)] = vae_rng_below (rng, 2) ?
            INFINITY : -INFINITY;
      break;
  }
}

/* n rows of len: kinds at random, every kind at least once when n allows */
static void
test_len (VaeRng * rng, size_t len, size_t n)
{
  float *x = xmalloc (n * len * sizeof (float));
  float *want = xmalloc (n * len * sizeof (float));
  float *got = xmalloc (n * len * sizeof (float));
  int *kind = xmalloc (n * sizeof (int)), *flag = xmalloc (n * sizeof (int));
  int *want_flag = xmalloc (n * sizeof (int));
  float *dx = dmalloc (n * len * sizeof (float));
  int *dflag = dmalloc (n * sizeof (int));
  size_t b, n_diff = 0, n_flag_diff = 0, n_negzero = 0, first = n;
  int ret;

  for (b = 0; b < n; b++) {
    kind[b] = b < N_ROW_KINDS ? (int) b : (int) vae_rng_below (rng,
        N_ROW_KINDS);
    fill_row (rng, x + b * len, len, kind[b]);
  }
  memcpy (want, x, n * len * sizeof (float));
  for (b = 0; b < n; b++) {
    ret = score_prepare_rows_ref (want + b * len, 1, len);
    want_flag[b] = ret == SCORE_ERR_NONFINITE;
  }
  for (b = 0; b < n * len; b++)
    n_negzero += want[b] == 0.0f && signbit (want[b]);

  upload (dx, x, n * len * sizeof (float));
  poison (dflag, n * sizeof (int));
  ret = score_prepare_rows_cuda (dx, n, len, dflag, NULL);
  CK (cudaDeviceSynchronize ());
  download (got, dx, n * len * sizeof (float));
  download (flag, dflag, n * sizeof (int));

  for (b = 0; b < n; b++) {
    int row_diff = memcmp (got + b * len, want + b * len,
        len * sizeof (float)) != 0;

    n_diff += row_diff;
    n_flag_diff += flag[b] != want_flag[b];
    if ((row_diff || flag[b] != want_flag[b]) && first == n)
      first = b;
  }
  check (ret == SCORE_OK && n_diff == 0, "len %zu, %zu rows: %zu rows not "
      "bit-equal to the reference (%zu -0.0 in the output)%s%s", len, n,
      n_diff, n_negzero, ret != SCORE_OK ? ", " : "",
      ret != SCORE_OK ? ecg_cuda_strerror (ret) : "");
  check (ret == SCORE_OK && n_flag_diff == 0, "len %zu: %zu wrong "
      "non-finite flags", len, n_flag_diff);
  if (first < n) {
    size_t j;

    printf ("# first bad row %zu (%s, flag %d, want %d):\n", first,
        kind_names[kind[first]], flag[first], want_flag[first]);
    for (j = 0; j < len && j < 8; j++)
      printf ("#   x %a got %a want %a\n", x[first * len + j],
          got[first * len + j], want[first * len + j]);
  }

  /* without the flags */
  upload (dx, x, n * len * sizeof (float));
  ret = score_prepare_rows_cuda (dx, n, len, NULL, NULL);
  CK (cudaDeviceSynchronize ());
  download (got, dx, n * len * sizeof (float));
  check (ret == SCORE_OK && memcmp (got, want, n * len * sizeof (float)) == 0,
      "len %zu: the same without flags", len);

  free (x);
  free (want);
  free (got);
  free (kind);
  free (flag);
  free (want_flag);
  CK (cudaFree (dx));
  CK (cudaFree (dflag));
}

static void
test_args (void)
{
  float *dx = dmalloc (4 * sizeof (float));

  check (score_prepare_rows_cuda (dx, 1, 0, NULL, NULL) ==
      SCORE_ERR_INVALID_ARG, "len 0 is SCORE_ERR_INVALID_ARG");
  check (score_prepare_rows_cuda (dx, 1, 1025, NULL, NULL) ==
      SCORE_ERR_INVALID_ARG, "len 1025 is SCORE_ERR_INVALID_ARG");
  check (score_prepare_rows_cuda (NULL, 1, 4, NULL, NULL) ==
      SCORE_ERR_INVALID_ARG, "NULL rows is SCORE_ERR_INVALID_ARG");
  check (score_prepare_rows_cuda (NULL, 0, 4, NULL, NULL) == SCORE_OK,
      "no rows is SCORE_OK");
  CK (cudaDeviceSynchronize ());
  CK (cudaFree (dx));
}

static void
bench (VaeRng * rng, size_t len, size_t n)
{
  float *x = xmalloc (n * len * sizeof (float)), *dx, ms;
  double t[20], t0;
  cudaEvent_t e0, e1;
  size_t b;
  int i;

  for (b = 0; b < n; b++)
    fill_row (rng, x + b * len, len, ROW_NORMAL);
  dx = dmalloc (n * len * sizeof (float));
  upload (dx, x, n * len * sizeof (float));
  CK (cudaEventCreate (&e0));
  CK (cudaEventCreate (&e1));
  score_prepare_rows_cuda (dx, n, len, NULL, NULL);
  for (i = 0; i < 20; i++) {
    /* prepared rows again: same work */
    CK (cudaEventRecord (e0, NULL));
    score_prepare_rows_cuda (dx, n, len, NULL, NULL);
    CK (cudaEventRecord (e1, NULL));
    CK (cudaEventSynchronize (e1));
    CK (cudaEventElapsedTime (&ms, e0, e1));
    t[i] = ms;
  }
  t0 = now_s ();
  score_prepare_rows_ref (x, n, len);
  t0 = now_s () - t0;
  printf ("# timing: %zu rows of %zu: cuda %.3f ms (median of 20), "
      "ref %.1f ms\n", n, len, median (t, 20), t0 * 1e3);
  free (x);
  CK (cudaFree (dx));
  CK (cudaEventDestroy (e0));
  CK (cudaEventDestroy (e1));
}

int
main (void)
{
  static const size_t lens[] = { 1, 2, 3, 4, 5, 255, 256, 257, 1000, 1024 };
  VaeRng rng;
  size_t i;

  require_device ();
  vae_rng_seed (&rng, test_seed ());
  for (i = 0; i < sizeof (lens) / sizeof (lens[0]); i++)
    test_len (&rng, lens[i], lens[i] >= 255 ? 600 : 3000);
  /* more rows than one grid of blocks */
  test_len (&rng, 256, 70000);
  test_args ();
  bench (&rng, 256, 4096);
  return finish ();
}

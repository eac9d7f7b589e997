/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * nms_detector_push_cuda against nms_detector_push: the CPU detector in
 * one block against the CUDA path in random blocks (some shorter than the
 * history, some longer than the prepared size, so split into passes),
 * seed and adaptive rules, on fresh random ECG-like signals (spike
 * trains, noise, flat pauses, clipped plateaus, NaN) and, when
 * $ECG_SHARED_DATA/golden holds them, on records 119 and 208. The gates
 * must be identical. Then timings for 20 M samples.
 * Exit 0 pass, 1 fail, 77 no device.
 */
#include "cudatest.h"
#include "nms.h"
#include "ricker.h"

/* y = causal Ricker response of x, the rickerconv way */
static void
make_y (const float *x, float *y, size_t n, double rate)
{
  int taps = ricker_taps (rate, 0.120);
  double *w = xmalloc (taps * sizeof (double));
  float *hist = xmalloc (taps * sizeof (float));

  ricker_wavelet_ref (w, taps);
  memset (hist, 0, taps * sizeof (float));
  ricker_conv_f32_ref (w, taps, hist, x, y, n);
  free (w);
  free (hist);
}

/* An ECG-like signal: QRS-like spikes at a jittered rhythm with P and T
 * waves, noise bursts, baseline wander, flat pauses, clipped plateaus,
 * exact zeros and a few NaN. */
static void
make_ecg (VaeRng * rng, float *x, size_t n, double rate)
{
  float *noise = xmalloc (n * sizeof (float));
  double rr = 0.8 * rate, next = 0.3 * rate, amp = 1.0;
  size_t i;

  vae_rng_normal (rng, noise, n);
  for (i = 0; i < n; i++)
    x[i] = 0.02f * noise[i] + 0.2f * (float) sin (i * 2.0 * M_PI * 0.3 / rate);
  while (next < n) {
    size_t k = (size_t) next;
    int j, wq = (int) (0.02 * rate) + 1;

    amp = 0.5 + 1.5 * vae_rng_uniform (rng);
    for (j = -4 * wq; j <= 4 * wq; j++) {
      double u = (double) j / wq;
      size_t p = k + j, pt = k + j + (size_t) (0.3 * rate);

      if (j >= -(int) k && p < n)
        x[p] += (float) (amp * exp (-0.5 * u * u));
      if (j >= -(int) k && pt < n)
        x[pt] += (float) (0.25 * amp * exp (-0.5 * u * u / 16.0));
    }
    if (vae_rng_below (rng, 20) == 0)
      rr = (0.4 + 0.8 * vae_rng_uniform (rng)) * rate;
    next += rr * (0.9 + 0.2 * vae_rng_uniform (rng));
    /* pauses: several seconds without beats */
    if (vae_rng_below (rng, 60) == 0)
      next += (2.0 + 6.0 * vae_rng_uniform (rng)) * rate;
  }
  /* stretches: flat (held value), zeros, strong noise, clipping */
  for (i = 0; i + 10 * rate < n; i += (size_t) (10 * rate)) {
    size_t len = (size_t) ((0.5 + 4.0 * vae_rng_uniform (rng)) * rate), k;
    size_t s = i + vae_rng_below (rng, (uint64_t) (5 * rate));
    int kind = (int) vae_rng_below (rng, 6);

    for (k = s; k < s + len && k < n; k++) {
      if (kind == 0)
        x[k] = x[s];
      else if (kind == 1)
        x[k] = 0.0f;
      else if (kind == 2)
        x[k] += 0.5f * noise[(k * 7) % n];
      else if (kind == 3 && x[k] > 0.6f)
        x[k] = 0.6f;
    }
  }
  for (i = 0; i < 3; i++)
    x[vae_rng_below (rng, n)] = NAN;
  free (noise);
}

static size_t
cpu_gates (const NmsConfig * cfg, const float *x, const float *y, size_t n,
    NmsGate * g)
{
  NmsDetector *d = nms_detector_new (cfg);
  size_t ng;

  ng = nms_detector_push (d, x, y, n, g);
  ng += nms_detector_flush (d, g + ng);
  nms_detector_free (d);
  return ng;
}

/* CUDA pushes in random blocks up to max_block (prepared for prep);
 * mix > 0: every so often a CPU push of a block from host memory */
static size_t
cuda_gates (const NmsConfig * cfg, const float *x, const float *y,
    const float *dx, const float *dy, size_t n, size_t prep,
    size_t max_block, int mix, NmsGate * g, int *status)
{
  NmsDetector *d = nms_detector_new (cfg);
  NmsGate *tmp = xmalloc ((nms_detector_max_gates (d, max_block) + 1) *
      sizeof (NmsGate));
  size_t pos = 0, ng = 0, m;
  int ret;

  *status = nms_detector_cuda_prepare (d, prep, 0);
  if (*status != 0)
    goto out;
  while (pos < n) {
    size_t b, r;
    VaeRng br;

    vae_rng_seed (&br, pos * 0x9e3779b97f4a7c15ULL + n + max_block);
    r = vae_rng_below (&br, 5);
    b = r == 0 ? 1 + vae_rng_below (&br, 40) : 1 + vae_rng_below (&br,
        max_block);
    if (b > n - pos)
      b = n - pos;
    if (mix && vae_rng_below (&br, 8) == 0) {
      m = nms_detector_push (d, x ? x + pos : NULL, y + pos, b, tmp);
    } else {
      m = nms_detector_push_cuda (d, dx ? dx + pos : NULL, dy + pos, b, tmp,
          NULL, &ret);
      if (ret != 0) {
        *status = ret;
        goto out;
      }
    }
    memcpy (g + ng, tmp, m * sizeof (NmsGate));
    ng += m;
    pos += b;
  }
  m = nms_detector_flush (d, tmp);
  memcpy (g + ng, tmp, m * sizeof (NmsGate));
  ng += m;
out:
  free (tmp);
  nms_detector_free (d);
  return ng;
}

static int
first_diff (const NmsGate * a, size_t na, const NmsGate * b, size_t nb)
{
  size_t i;

  for (i = 0; i < na && i < nb; i++)
    if (a[i].gate != b[i].gate || a[i].rpeak != b[i].rpeak)
      return (int) i;
  return na == nb ? -1 : (int) i;
}

static void
compare (const char *what, const float *x, const float *y, size_t n,
    double rate)
{
  static const char *names[] = { "seed", "seed+floor", "adaptive",
    "adaptive no-gate", "adaptive no-x", "adaptive short"
  };
  float *dx = dmalloc (n * sizeof (float)), *dy = dmalloc (n * sizeof (float));
  NmsGate *g1 = xmalloc ((n / 2 + 16) * sizeof (NmsGate));
  NmsGate *g2 = xmalloc ((n / 2 + 16) * sizeof (NmsGate));
  int c, v;

  upload (dx, x, n * sizeof (float));
  upload (dy, y, n * sizeof (float));
  for (c = 0; c < 6; c++) {
    NmsConfig cfg;
    const float *xx = x, *dxx = dx;

    nms_config_init (&cfg, rate);
    if (c == 0)
      cfg.threshold = 0.0;
    if (c == 1)
      cfg.threshold = 0.3;
    if (c == 3)
      cfg.quality_gate = 0;
    if (c == 4)
      xx = dxx = NULL;
    if (c == 5) {
      cfg.refractory_s = 0.2;
      cfg.lookahead_s = 0.6;
    }
    /* variants: blocks up to 3000 in passes up to 5000; blocks up to
     * 20000 split in passes of 4096; blocks up to 3000 mixed with CPU
     * pushes */
    for (v = 0; v < 3; v++) {
      static const size_t prep[] = { 5000, 4096, 3000 };
      static const size_t maxb[] = { 3000, 20000, 3000 };
      size_t n1, n2;
      int status, dpos;

      n1 = cpu_gates (&cfg, xx, y, n, g1);
      n2 = cuda_gates (&cfg, xx, y, dxx, dy, n, prep[v], maxb[v], v == 2,
          g2, &status);
      dpos = first_diff (g1, n1, g2, n2);
      check (status == 0 && dpos < 0, "%s, %s, blocks <= %zu (passes <= "
          "%zu%s): cpu %zu gates, cuda %zu%s (%s)", what, names[c], maxb[v],
          prep[v], v == 2 ? ", CPU pushes mixed in" : "", n1, n2,
          dpos < 0 ? ", identical" : "", ecg_cuda_strerror (status));
      if (dpos >= 0)
        printf ("#   first difference at gate %d: cpu %" PRIu64 "/%" PRIu64
            " cuda %" PRIu64 "/%" PRIu64 "\n", dpos,
            dpos < (int) n1 ? g1[dpos].gate : 0,
            dpos < (int) n1 ? g1[dpos].rpeak : 0,
            dpos < (int) n2 ? g2[dpos].gate : 0,
            dpos < (int) n2 ? g2[dpos].rpeak : 0);
    }
  }
  free (g1);
  free (g2);
  CK (cudaFree (dx));
  CK (cudaFree (dy));
}

static float *
read_column (const char *path, size_t *n)
{
  FILE *f = fopen (path, "r");
  char line[256];
  size_t cap = 1 << 16, len = 0;
  float *v;

  if (f == NULL)
    return NULL;
  v = xmalloc (cap * sizeof (float));
  if (fgets (line, sizeof (line), f) == NULL) {
    fclose (f);
    free (v);
    return NULL;
  }
  while (fgets (line, sizeof (line), f)) {
    if (len == cap) {
      cap *= 2;
      v = realloc (v, cap * sizeof (float));
      if (v == NULL)
        exit (1);
    }
    v[len++] = strtof (line, NULL);
  }
  fclose (f);
  *n = len;
  return v;
}

static void
bench (const float *x0, size_t n0, double rate, size_t n)
{
  float *x = xmalloc (n * sizeof (float)), *y = xmalloc (n * sizeof (float));
  float *dx = dmalloc (n * sizeof (float)), *dy = dmalloc (n * sizeof (float));
  NmsGate *g1 = xmalloc ((n / 2 + 16) * sizeof (NmsGate));
  NmsGate *g2 = xmalloc ((n / 2 + 16) * sizeof (NmsGate));
  static const size_t blocks[] = { 0, 1 << 20, 65536, 4096 };
  size_t i, n1, n2, b;
  int c, status;
  double t;

  for (i = 0; i < n; i++)
    x[i] = x0[i % n0];
  make_y (x, y, n, rate);
  upload (dx, x, n * sizeof (float));
  upload (dy, y, n * sizeof (float));
  for (c = 0; c < 2; c++) {
    NmsConfig cfg;

    nms_config_init (&cfg, rate);
    if (c == 0)
      cfg.threshold = 0.0;
    t = now_s ();
    n1 = cpu_gates (&cfg, x, y, n, g1);
    t = now_s () - t;
    printf ("# timing: %s, %zu samples: cpu %.1f ms (%.0f Msamples/s), "
        "%zu gates\n", c == 0 ? "seed" : "adaptive", n, t * 1e3,
        n / t / 1e6, n1);
    for (b = 0; b < sizeof (blocks) / sizeof (blocks[0]); b++) {
      size_t blk = blocks[b] ? blocks[b] : n, pos, rep;
      double best = 1e30;

      for (rep = 0; rep < (blk == 4096 ? 1 : 3); rep++) {
        NmsDetector *d = nms_detector_new (&cfg);

        status = nms_detector_cuda_prepare (d, blk, 0);
        CK (cudaDeviceSynchronize ());
        t = now_s ();
        n2 = 0;
        for (pos = 0; pos < n && status == 0; pos += blk) {
          size_t m = n - pos < blk ? n - pos : blk;

          n2 += nms_detector_push_cuda (d, dx + pos, dy + pos, m, g2 + n2,
              NULL, &status);
        }
        n2 += nms_detector_flush (d, g2 + n2);
        t = now_s () - t;
        if (t < best)
          best = t;
        nms_detector_free (d);
      }
      check (status == 0 && first_diff (g1, n1, g2, n2) < 0,
          "timing run identical (%s, blocks of %zu)",
          c == 0 ? "seed" : "adaptive", blk);
      printf ("# timing: %s, %zu samples in blocks of %zu: cuda %.1f ms "
          "(%.0f Msamples/s, best of %d)\n", c == 0 ? "seed" : "adaptive",
          n, blk, best * 1e3, n / best / 1e6, blk == 4096 ? 1 : 3);
    }
  }
  free (x);
  free (y);
  free (g1);
  free (g2);
  CK (cudaFree (dx));
  CK (cudaFree (dy));
}

int
main (void)
{
  static const char *recs[] = { "119_250", "208_250" };
  const char *dir = getenv ("ECG_SHARED_DATA");
  VaeRng rng;
  float *x, *y, *gx = NULL;
  size_t n, gn = 0, i;
  int k;

  require_device ();
  vae_rng_seed (&rng, test_seed ());

  /* random signals at 250 and 360 Hz */
  for (k = 0; k < 4; k++) {
    double rate = k % 2 ? 360.0 : 250.0;
    char what[64];

    n = (size_t) ((120 + vae_rng_below (&rng, 240)) * rate);
    x = xmalloc (n * sizeof (float));
    y = xmalloc (n * sizeof (float));
    make_ecg (&rng, x, n, rate);
    make_y (x, y, n, rate);
    snprintf (what, sizeof (what), "random %d (%.0f Hz, %zu samples)", k,
        rate, n);
    compare (what, x, y, n, rate);
    free (x);
    free (y);
  }

  for (k = 0; dir != NULL && k < 2; k++) {
    char path[4096];

    snprintf (path, sizeof (path), "%s/golden/%s.csv", dir, recs[k]);
    x = read_column (path, &n);
    if (x == NULL) {
      printf ("# no %s: golden records skipped\n", path);
      break;
    }
    y = xmalloc (n * sizeof (float));
    make_y (x, y, n, 250.0);
    compare (recs[k], x, y, n, 250.0);
    free (y);
    if (gx == NULL) {
      gx = x;
      gn = n;
    } else {
      free (x);
    }
  }
  if (dir == NULL)
    printf ("# ECG_SHARED_DATA unset: golden records skipped\n");

  check (nms_detector_push_cuda (NULL, NULL, NULL, 1, NULL, NULL, &k) == 0
      && k == ECG_CUDA_ERR_INVALID_ARG, "NULL detector is invalid");

  if (gx == NULL) {
    gn = 250 * 600;
    gx = xmalloc (gn * sizeof (float));
    make_ecg (&rng, gx, gn, 250.0);
    for (i = 0; i < gn; i++)
      if (isnan (gx[i]))
        gx[i] = 0.0f;
  }
  bench (gx, gn, 250.0, 20 * 1000 * 1000);
  free (gx);
  return finish ();
}

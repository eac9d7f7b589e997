/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Standalone test of kernels/nms (no GStreamer): seed rule against the
 * golden gates, streaming equivalence, latency, silence on flat lines,
 * noise (muscle, baseline wander, bursty muscle) and pauses, bad
 * configurations, throughput.
 *
 * Data: $ECG_SHARED_DATA, else $ECG_SOURCE_ROOT/../shared/data. Exit 77
 * (skip) when the golden files are missing, 1 on failure, 0 on success.
 */

#include "nms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf (stderr, __VA_ARGS__); \
      fprintf (stderr, "\n"); \
      failures++; \
    } \
  } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng (void)
{
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t) (rng_state >> 33);
}

static double
gauss (void)
{
  double u1 = (rng () + 1.0) / 4294967296.0, u2 = rng () / 4294967296.0;

  return sqrt (-2.0 * log (u1)) * cos (6.283185307179586 * u2);
}

/* one column after a header line */
static double *
read_csv (const char *path, size_t *n)
{
  FILE *f = fopen (path, "r");
  char line[256];
  size_t cap = 1 << 16, len = 0;
  double *v;

  if (f == NULL)
    return NULL;
  v = malloc (cap * sizeof (double));
  if (v == NULL || fgets (line, sizeof (line), f) == NULL) {
    fclose (f);
    free (v);
    return NULL;
  }
  while (fgets (line, sizeof (line), f)) {
    if (len == cap) {
      cap *= 2;
      v = realloc (v, cap * sizeof (double));
      if (v == NULL)
        break;
    }
    v[len++] = strtod (line, NULL);
  }
  fclose (f);
  *n = len;
  return v;
}

/* y[n] = sum_k w[k] x[n-k], Ricker of width w on [-3, 3], in double */
static void
ricker (const double *x, size_t n, int w, float *xf, float *y)
{
  double k[256];
  size_t i;
  int j;

  for (j = 0; j < w; j++) {
    double t = -3.0 + 6.0 * j / (w - 1);

    k[j] = 2.0 * exp (-0.5 * t * t) * (1.0 - t * t) / sqrt ((double) w);
  }
  for (i = 0; i < n; i++) {
    double s = 0.0;

    for (j = 0; j < w && (size_t) j <= i; j++)
      s += k[j] * x[i - j];
    y[i] = (float) s;
    xf[i] = (float) x[i];
  }
}

/* Runs a detector over x/y in blocks (max_block 0: one block; 1: sample
 * by sample with a latency check). Returns the gates (caller frees). */
static NmsGate *
run (const NmsConfig * cfg, const float *x, const float *y, size_t n,
    size_t max_block, size_t *ng_out)
{
  NmsDetector *d = nms_detector_new (cfg);
  NmsGate *g, *tmp;
  size_t pos = 0, ng = 0, k, m, cap;
  uint64_t lat;

  if (d == NULL)
    return NULL;
  lat = nms_detector_latency (d);
  cap = nms_detector_max_gates (d, n) + nms_detector_max_gates (d, 0);
  g = malloc (cap * sizeof (NmsGate));
  tmp = malloc ((nms_detector_max_gates (d, max_block ? max_block : n) + 1) *
      sizeof (NmsGate));
  while (pos < n) {
    size_t b = max_block ? 1 + rng () % max_block : n;

    if (b > n - pos)
      b = n - pos;
    m = nms_detector_push (d, x ? x + pos : NULL, y + pos, b, tmp);
    CHECK (m <= nms_detector_max_gates (d, b), "max_gates exceeded");
    for (k = 0; k < m; k++) {
      /* the decision came no later than lat samples after the gate's
       * sample arrived (exact when b == 1) */
      CHECK (b > 1 || pos + b - 1 <= tmp[k].gate + lat,
          "gate %llu decided at %zu, latency %llu",
          (unsigned long long) tmp[k].gate, pos + b - 1,
          (unsigned long long) lat);
      CHECK (ng == 0 || tmp[k].gate > g[ng - 1].gate, "gates not ascending");
      if (ng < cap)
        g[ng++] = tmp[k];
    }
    pos += b;
  }
  m = nms_detector_flush (d, tmp);
  CHECK (m <= nms_detector_max_gates (d, 0), "max_gates exceeded at flush");
  for (k = 0; k < m && ng < cap; k++)
    g[ng++] = tmp[k];
  free (tmp);
  nms_detector_free (d);
  *ng_out = ng;
  return g;
}

static int
same_gates (const NmsGate * a, size_t na, const NmsGate * b, size_t nb)
{
  size_t i;

  if (na != nb)
    return 0;
  for (i = 0; i < na; i++)
    if (a[i].gate != b[i].gate || a[i].rpeak != b[i].rpeak)
      return 0;
  return 1;
}

static void
test_seed_golden (const char *dir, const char *rec)
{
  char path[4096];
  double *xd, *gd;
  size_t n, ngold, ng, ng2, i, j, exact = 0, off1 = 0;
  float *x, *y;
  NmsConfig cfg;
  NmsGate *g, *g2;

  snprintf (path, sizeof (path), "%s/golden/%s.csv", dir, rec);
  xd = read_csv (path, &n);
  snprintf (path, sizeof (path), "%s/golden/%s.gates.csv", dir, rec);
  gd = read_csv (path, &ngold);
  CHECK (xd != NULL && gd != NULL, "cannot read %s", rec);
  if (xd == NULL || gd == NULL)
    return;
  x = malloc (n * sizeof (float));
  y = malloc (n * sizeof (float));
  ricker (xd, n, 30, x, y);

  nms_config_init (&cfg, 250.0);
  cfg.threshold = 0.0;
  CHECK (cfg.window == 180, "default window %d", cfg.window);
  g = run (&cfg, x, y, n, 0, &ng);
  /* match golden and ours in order, allowing one sample of jitter */
  for (i = j = 0; i < ngold && j < ng;) {
    double dd = (double) g[j].gate - gd[i];

    if (dd == 0.0) {
      exact++;
      i++;
      j++;
    } else if (fabs (dd) <= 1.0) {
      off1++;
      i++;
      j++;
    } else if (dd < 0) {
      j++;
    } else {
      i++;
    }
  }
  printf ("seed %s: golden %zu, ours %zu, identical %zu, 1 off %zu\n", rec,
      ngold, ng, exact, off1);
  CHECK (ng == ngold && exact + off1 == ngold, "%s: gates differ", rec);
  CHECK (exact >= 0.999 * ngold, "%s: %zu of %zu identical", rec, exact, ngold);
  for (i = 0; i < ng; i++)
    CHECK (g[i].rpeak == g[i].gate + 75, "rpeak %llu for gate %llu",
        (unsigned long long) g[i].rpeak, (unsigned long long) g[i].gate);

  /* streaming equivalence, seed and adaptive */
  g2 = run (&cfg, x, y, n, 3000, &ng2);
  CHECK (same_gates (g, ng, g2, ng2), "%s: seed blocks differ", rec);
  free (g2);
  free (g);
  cfg.threshold = -1.0;
  g = run (&cfg, x, y, n, 0, &ng);
  g2 = run (&cfg, x, y, n, 5000, &ng2);
  CHECK (same_gates (g, ng, g2, ng2), "%s: adaptive blocks differ", rec);
  free (g2);
  g2 = run (&cfg, x, y, n, 1, &ng2);
  CHECK (same_gates (g, ng, g2, ng2), "%s: adaptive 1-sample blocks differ",
      rec);
  printf ("adaptive %s: %zu gates\n", rec, ng);
  free (g2);
  free (g);

  /* a 10 s pause (held at the last value) at 100 s: no beat inside */
  for (i = 25000; i < 27500; i++)
    xd[i] = xd[25000];
  ricker (xd, n, 30, x, y);
  g = run (&cfg, x, y, n, 4000, &ng);
  for (i = 0, j = 0; i < ng; i++)
    if (g[i].rpeak >= 25000 + 75 && g[i].rpeak < 27500 - 75)
      j++;
  CHECK (j == 0, "%s: %zu gates in a 10 s pause", rec, j);
  free (g);

  free (x);
  free (y);
  free (xd);
  free (gd);
}

static void
test_silence (void)
{
  size_t n = 250 * 120, i, ng;
  double *xd = malloc (n * sizeof (double));
  float *x = malloc (n * sizeof (float)), *y = malloc (n * sizeof (float));
  NmsConfig cfg;
  NmsGate *g;
  double sd[] = { 0.0, 0.005, 0.01 };
  size_t s;

  nms_config_init (&cfg, 250.0);
  for (s = 0; s < sizeof (sd) / sizeof (sd[0]); s++) {
    for (i = 0; i < n; i++)
      xd[i] = (s ? -0.3 : 0.0) + sd[s] * gauss ();
    ricker (xd, n, 30, x, y);
    g = run (&cfg, x, y, n, 2000, &ng);
    CHECK (ng == 0, "noise sd %g mV: %zu gates", sd[s], ng);
    free (g);
  }
  free (xd);
  free (x);
  free (y);
}

/* RBJ band-pass biquad (0 dB peak) between f1 and f2 Hz, in place */
static void
bandpass (double *v, size_t n, double rate, double f1, double f2)
{
  double f0 = sqrt (f1 * f2), q = f0 / (f2 - f1);
  double w0 = 6.283185307179586 * f0 / rate, al = sin (w0) / (2.0 * q);
  double a0 = 1.0 + al, b0 = al / a0, b2 = -al / a0;
  double a1 = -2.0 * cos (w0) / a0, a2 = (1.0 - al) / a0;
  double x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0;
  size_t i;

  for (i = 0; i < n; i++) {
    double x = v[i], y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;

    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    v[i] = y;
  }
}

static void
scale_rms (double *v, size_t n, double rms)
{
  double s = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    s += v[i] * v[i];
  s = rms / sqrt (s / n);
  for (i = 0; i < n; i++)
    v[i] *= s;
}

/* Noise without any ECG: muscle-artifact-like (Gaussian, 20-100 Hz, two
 * passes of the band-pass, 0.2 mV rms) and baseline-wander-like (slow
 * noise of 1 mV rms plus a 0.3 Hz sinusoid, plus 0.03 mV broadband noise).
 * The signal-quality gate must report (almost) nothing; without it the
 * adaptive rule finds hundreds of beats in both. Muscle noise in 1 s
 * bursts of 3x (kind 2) is sparse and peaky enough to pass the kurtosis
 * test; the muscle-band energy test rejects it, but only when x is given
 * (with x NULL it is still let through: printed, not checked). */
static void
test_noise_only (void)
{
  size_t n = 250 * 300, i, ng, ng_off;
  double *xd = malloc (n * sizeof (double)), *e = malloc (n * sizeof (double));
  float *x = malloc (n * sizeof (float)), *y = malloc (n * sizeof (float));
  NmsConfig cfg;
  NmsGate *g;
  int kind;
  static const char *names[] = { "muscle", "baseline-wander",
    "bursty muscle"
  };
  size_t ng_nox;

  for (kind = 0; kind < 3; kind++) {
    for (i = 0; i < n; i++)
      xd[i] = gauss ();
    if (kind != 1) {
      bandpass (xd, n, 250.0, 20.0, 100.0);
      bandpass (xd, n, 250.0, 20.0, 100.0);
      for (i = 0; kind == 2 && i < n; i++)
        if ((i / 250) % 7 == 3)
          xd[i] *= 3.0;
      scale_rms (xd, n, 0.2);
    } else {
      for (i = 0; i < n; i++)
        e[i] = gauss ();
      bandpass (e, n, 250.0, 0.05, 0.5);
      scale_rms (e, n, 1.0);
      scale_rms (xd, n, 0.03);
      for (i = 0; i < n; i++)
        xd[i] += e[i] + 0.5 * sin (6.283185307179586 * 0.3 * i / 250.0);
    }
    ricker (xd, n, 30, x, y);
    nms_config_init (&cfg, 250.0);
    g = run (&cfg, x, y, n, 3000, &ng);
    free (g);
    g = run (&cfg, NULL, y, n, 3000, &ng_nox);
    free (g);
    cfg.quality_gate = 0;
    g = run (&cfg, x, y, n, 3000, &ng_off);
    free (g);
    printf ("%s noise, 300 s: %zu gates (%zu without x, %zu without quality "
        "gate)\n", names[kind], ng, ng_nox, ng_off);
    CHECK (ng <= 3, "%s noise: %zu gates in 300 s", names[kind], ng);
    CHECK (kind == 2 || ng_nox <= 3, "%s noise without x: %zu gates in 300 s",
        names[kind], ng_nox);
  }
  free (xd);
  free (e);
  free (x);
  free (y);
}

/* The nstdb noise recordings (360 Hz, 30 min, no ECG), run at their own
 * rate. Bounds: see the comment in main. */
static void
test_nstdb_noise (const char *dir, const char *rec, size_t bound)
{
  char path[4096];
  double *xd;
  size_t n, ng;
  float *x, *y;
  NmsConfig cfg;
  NmsGate *g;

  snprintf (path, sizeof (path), "%s/nstdb/%s.csv", dir, rec);
  xd = read_csv (path, &n);
  if (xd == NULL) {
    printf ("no %s: skipped\n", path);
    return;
  }
  x = malloc (n * sizeof (float));
  y = malloc (n * sizeof (float));
  ricker (xd, n, 43, x, y);
  nms_config_init (&cfg, 360.0);
  g = run (&cfg, x, y, n, 5000, &ng);
  printf ("nstdb %s (%.0f s of noise): %zu gates\n", rec, n / 360.0, ng);
  CHECK (ng <= bound, "nstdb %s: %zu gates, more than %zu", rec, ng, bound);
  free (g);
  free (x);
  free (y);
  free (xd);
}

static void
test_config (void)
{
  NmsConfig cfg;
  NmsDetector *d;

  nms_config_init (&cfg, 250.0);
  CHECK (cfg.threshold < 0 && cfg.window == 180 && cfg.quality_gate == 1,
      "defaults");
  d = nms_detector_new (&cfg);
  CHECK (d != NULL, "default config refused");
  CHECK (nms_detector_latency (d) <= 2 * 250, "latency %llu > 2 s",
      (unsigned long long) nms_detector_latency (d));
  nms_detector_free (d);
  cfg.rate = 0.0;
  CHECK (nms_detector_new (&cfg) == NULL, "rate 0 accepted");
  nms_config_init (&cfg, 250.0);
  cfg.window = 1;
  CHECK (nms_detector_new (&cfg) == NULL, "window 1 accepted");
  nms_config_init (&cfg, 250.0);
  cfg.threshold = NAN;
  CHECK (nms_detector_new (&cfg) == NULL, "NaN threshold accepted");
  nms_config_init (&cfg, 250.0);
  cfg.refractory_s = 0.0;
  CHECK (nms_detector_new (&cfg) == NULL, "refractory 0 accepted");
  nms_detector_free (NULL);
}

int
main (void)
{
  char dir[4096], path[4200];
  const char *env = getenv ("ECG_SHARED_DATA");
  FILE *f;

  if (env != NULL)
    snprintf (dir, sizeof (dir), "%s", env);
  else
    snprintf (dir, sizeof (dir), "%s/../shared/data",
        getenv ("ECG_SOURCE_ROOT") ? getenv ("ECG_SOURCE_ROOT") : ".");
  test_config ();
  test_silence ();
  test_noise_only ();
  snprintf (path, sizeof (path), "%s/golden/119_250.gates.csv", dir);
  f = fopen (path, "r");
  if (f == NULL) {
    fprintf (stderr, "SKIP: no golden data under %s\n", dir);
    return failures ? 1 : 77;
  }
  fclose (f);
  test_seed_golden (dir, "119_250");
  test_seed_golden (dir, "208_250");
  /* 30 min of pure noise each, run at 360 Hz. Regression bounds, about
   * 15 % above what the quality gate lets through today (61 and 10; 175
   * and 1053 with the kurtosis test alone; without any gate the adaptive
   * rule reports 877 and 1634 through the 250 Hz pipeline). The clinical
   * target is 0: what bw still lets through are sharp, sparse transients
   * with little energy in the muscle band. */
  test_nstdb_noise (dir, "bw", 70);
  test_nstdb_noise (dir, "ma", 15);
  if (failures)
    fprintf (stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}

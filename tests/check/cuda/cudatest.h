/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Helpers of the CUDA kernel tests (suite "cuda"): TAP-style checks, the
 * seed, the device check (exit 77 = SKIP without a device), a timer and a
 * CUDA runtime call check.  The tests compare each *_cuda function with
 * its *_ref twin on seeded random input.
 */
#ifndef ECG_CUDA_TEST_H
#define ECG_CUDA_TEST_H

#include <cuda_runtime_api.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cudadev.h"
#include "vae.h"                /* VaeRng: the tests' random numbers */
#include "tap.h"

/* A failed runtime call in a test is fatal */
#define CK(call) do { \
    cudaError_t e_ = (call); \
    if (e_ != cudaSuccess) { \
      fprintf (stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call, \
          cudaGetErrorName (e_), cudaGetErrorString (e_)); \
      exit (1); \
    } \
  } while (0)

/* Exits 77 (meson: SKIP) with the reason when there is no device */
static inline void
require_device (void)
{
  struct cudaDeviceProp prop;

  if (!ecg_cuda_built ()) {
    printf ("SKIP: built without CUDA\n");
    exit (77);
  }
  if (ecg_cuda_device_count () < 1) {
    printf ("SKIP: no CUDA device (cudaGetDeviceCount found none or "
        "failed: no GPU or no driver)\n");
    exit (77);
  }
  CK (cudaGetDeviceProperties (&prop, 0));
  printf ("# device 0: %s, %d SMs, compute %d.%d\n", prop.name,
      prop.multiProcessorCount, prop.major, prop.minor);
}

/* $ECG_TEST_SEED, else from the clock; printed for reruns */
static inline uint64_t
test_seed (void)
{
  const char *env = getenv ("ECG_TEST_SEED");
  uint64_t seed;

  if (env != NULL && *env != '\0')
    seed = strtoull (env, NULL, 0);
  else
    seed = (uint64_t) time (NULL) * 2654435761u ^ (uint64_t) clock ();
  printf ("# seed %" PRIu64 " (rerun with ECG_TEST_SEED=%" PRIu64 ")\n",
      seed, seed);
  return seed;
}

static inline double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void *
dmalloc (size_t bytes)
{
  void *p = NULL;

  CK (cudaMalloc (&p, bytes > 0 ? bytes : 1));
  return p;
}

static inline void *
xmalloc (size_t bytes)
{
  void *p = malloc (bytes > 0 ? bytes : 1);

  if (p == NULL) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  return p;
}

static inline void
upload (void *d, const void *h, size_t bytes)
{
  CK (cudaMemcpy (d, h, bytes, cudaMemcpyHostToDevice));
}

static inline void
download (void *h, const void *d, size_t bytes)
{
  CK (cudaMemcpy (h, d, bytes, cudaMemcpyDeviceToHost));
}

/* Fills device memory with NaN bytes so unwritten outputs show */
static inline void
poison (void *d, size_t bytes)
{
  CK (cudaMemset (d, 0xff, bytes));
}

/* max_i |a - b| / (|b| + floor) */
static inline double
max_rel (const float *a, const float *b, size_t n, double floor)
{
  double worst = 0.0;
  size_t i;

  for (i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - b[i]) / (fabs ((double) b[i]) + floor);

    if (!(d <= worst))
      worst = isnan (d) ? INFINITY : d;
  }
  return worst;
}

/* ||a - b|| / ||b|| */
static inline double
norm_rel (const float *a, const float *b, size_t n)
{
  double num = 0.0, den = 0.0;
  size_t i;

  for (i = 0; i < n; i++) {
    double d = (double) a[i] - b[i];

    num += d * d;
    den += (double) b[i] * b[i];
  }
  if (isnan (num))
    return INFINITY;
  return den > 0.0 ? sqrt (num / den) : (num == 0.0 ? 0.0 : INFINITY);
}

static inline double
max_abs (const float *a, size_t n)
{
  double m = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    if (fabs ((double) a[i]) > m)
      m = fabs ((double) a[i]);
  return m;
}

static inline int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static inline double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof (double), cmp_double);
  return v[n / 2];
}

#endif /* ECG_CUDA_TEST_H */

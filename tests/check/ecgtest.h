/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Helpers shared by the tests: float comparison with absolute and relative
 * tolerances, the location of the shared data, and writing a whole text to
 * a pipe.
 */
#ifndef ECG_TEST_H
#define ECG_TEST_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Returns -1 when every |a[i] - b[i]| <= atol + rtol |b[i]|, else the first
 * bad index (and prints it). */
static inline long
ecg_test_compare_floats (const float *a, const float *b, size_t n,
    double atol, double rtol, const char *what)
{
  size_t i;

  for (i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - (double) b[i]);

    if (!(d <= atol + rtol * fabs ((double) b[i]))) {
      fprintf (stderr, "%s: index %zu: %.9g != %.9g (|d| = %.3g)\n", what, i,
          a[i], b[i], d);
      return (long) i;
    }
  }
  return -1;
}

/* The shared data folder (../shared/data beside the checkout), or NULL. */
static inline const char *
ecg_test_shared_data (void)
{
  static char path[4096];
  const char *env = getenv ("ECG_SHARED_DATA");
  FILE *f;

  if (!env)
    return NULL;
  snprintf (path, sizeof (path), "%s/golden/README.md", env);
  f = fopen (path, "r");
  if (!f)
    return NULL;
  fclose (f);
  return env;
}

/* Writes @len bytes of @data to @fd, at most @chunk (0: no limit) a call,
 * until done or an error other than EINTR; then closes @fd. */
static inline void
ecg_test_write_all_and_close (int fd, const char *data, size_t len,
    size_t chunk)
{
  size_t done = 0;

  while (done < len) {
    size_t n = len - done;
    ssize_t r;

    if (chunk && n > chunk)
      n = chunk;
    r = write (fd, data + done, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    done += r;
  }
  close (fd);
}

#endif /* ECG_TEST_H */

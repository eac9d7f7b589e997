/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * TAP-style checks of the test programs that are not GstCheck suites (the
 * cuda suite): one "ok - ..." or "not ok - ..." line per check, and a
 * summary whose exit status fails the test if any check failed.
 */
#ifndef ECG_TAP_H
#define ECG_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int n_pass, n_fail;

static inline void
check (int ok, const char *fmt, ...)
{
  va_list ap;

  printf ("%s - ", ok ? "ok" : "not ok");
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  fflush (stdout);
  if (ok)
    n_pass++;
  else
    n_fail++;
}

static inline int
finish (void)
{
  printf ("%d passed, %d failed\n", n_pass, n_fail);
  return n_fail > 0 ? 1 : 0;
}

#endif /* ECG_TAP_H */

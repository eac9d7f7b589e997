/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Test of kernels/csvfloat.h, the exact decimal -> float conversion that
 * the CUDA CSV parser runs on the device, compiled here for the host.
 * Standalone, libc + libm only, so it runs in the CPU build and in CI.
 *
 *   csvfloat [--seed N] [--scale F]
 *
 * On random fields of many kinds (see gen_text ()), some with blanks
 * around them and with bytes after the end that would change the value if
 * read, csv_float_parse_field () must either
 *  - give CSV_FLOAT_EXACT and the bits of (float) strtod () of the text,
 *    which csv_field_parse_float () (the CPU reader) must also accept with
 *    the same bits, or
 *  - give CSV_FLOAT_NEEDS_CPU, which is required when the CPU reader
 *    rejects the field (not a number, nan, inf, overflow) and allowed for
 *    a number only when its significand has more than 19 digits (the
 *    undecided cases of the w, w + 1 test, counted and printed).
 * Pass A uses a fixed seed, pass B a fresh one (printed; --seed replays
 * it).  Then fixed cases, and a sweep over float bit patterns printed with
 * %.9g and %.17g.  Default: 2 x 3,000,000 texts.
 *
 * Exit status 0 on success, 1 on any failure.
 */

#include "../../../kernels/csvfloat.h"
#include "../../../kernels/csvparse.h"
#include "numtext.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

/* ---- text generators ---- */

enum
{
  K_DIGITS,                     /* random digits, point, zeros, exponent */
  K_FLOAT_G,                    /* random float bits, %.1g .. %.12g */
  K_DOUBLE_G,                   /* doubles in the float range, %.15g .. %.20g */
  K_ECG,                        /* ECG-like: %.17g, %.3f, %.6f, %.9g */
  K_FLOAT_MID,                  /* at and next to float midpoints */
  K_DOUBLE_TIE,                 /* exact double midpoints of <= 20 digits */
  K_SUBNORMAL,                  /* float subnormals and their edge */
  K_HUGE,                       /* near FLT_MAX, overflow, huge exponents */
  K_FUZZ,                       /* short random texts, special words */
  K_N
};

/* *INDENT-OFF* */
static const NumTextKind kinds[K_N] = {
  { "random digits",   250 },
  { "float %.Ng",      100 },
  { "double %.Ng",      80 },
  { "ECG",             150 },
  { "float midpoints", 150 },
  { "double ties",      60 },
  { "subnormals",       60 },
  { "huge/overflow",    50 },
  { "fuzz/special",    100 },
};
/* *INDENT-ON* */

/* M 2^e with M odd of 54 bits: exactly between two doubles; printed in
 * full (19 or 20 digits), or one unit of the last digit off */
static void
gen_double_tie (Rng * r, char *b)
{
  uint64_t m = (rng_next (r) >> 10) | (UINT64_C (1) << 53) | 1;
  int e = (int) rng_below (r, 13) - 2, k, len;
  char digits[32];

  if (rng_below (r, 4) == 0)
    m += rng_below (r, 2) ? 2 : -2;     /* still odd: another tie */
  if (e >= 0) {
    m <<= e;
  } else {
    for (k = 0; k < -e; k++)
      m *= 5;                   /* m 2^e = m 5^-e / 10^-e */
  }
  if (rng_below (r, 4) == 0)
    m += rng_below (r, 2) ? 1 : -1;     /* next to the tie */
  len = sprintf (digits, "%llu", (unsigned long long) m);
  if (e >= 0) {
    strcpy (b, digits);
  } else {
    memcpy (b, digits, len + e);
    b[len + e] = '.';
    strcpy (b + len + e + 1, digits + len + e);
  }
}

static void
gen_text (Rng * r, int kind, char *b)
{
  static const char alpha[] = "0123456789.eE+-nNaAiIfF x\"',\r";
  static const char *const words[] = {
    "nan", "NaN", "-nan", "nan(1)", "inf", "-inf", "+Inf", "infinity",
    "-Infinity", "", "-", "+", ".", "-.", "+.e1", ".e1", "e5", "1e", "1e+",
    "1e-", "1.e5", ".5e-3", "5.", "-0", "+0", "-0.0e99999", "0e-99999",
    "00000", "0.000", "-0.000e-400", "1e99999999999999999999",
    "1e-99999999999999999999", "x1", "--1", "+-1", "1..2", "1.2.3", "1e5e5",
    "1e+-5", "0x10", "0x1p3", "1,5", "\"1.5\"", "'1.5'", "1.5\r", "1 5",
    "3.4028234663852886e38", "3.4028235677973366e38",
    "3.4028235677973367e38", "340282356779733661637539395458142568448",
    "340282356779733661637539395458142568447", "1.4e-45", "1.401298464e-45",
    "7.006492321624085e-46", "7.006492321624086e-46", "7e-46", "1e-46",
    "9007199254740993", "9007199254740992.5", "123456789012345678901234567",
    "0.000000000000000000000000000001", "1000000000000000000000000000000",
    "9999999999999999999", "99999999999999999999", "18446744073709551615",
    "18446744073709551616", "0.30000000000000000000000001", NULL
  };
  double d, mid;
  long double lm;
  float f;

  switch (kind) {
    case K_DIGITS:
      gen_digits (r, b, 50, 20);
      break;
    case K_FLOAT_G:
      f = rng_float_bits (r);
      sprintf (b, "%.*g", 1 + (int) rng_below (r, 12), f);
      break;
    case K_DOUBLE_G:
      d = rng_scaled (r, 130) * (rng_below (r, 2) ? 1 : -1);
      sprintf (b, "%.*g", 15 + (int) rng_below (r, 6), d);
      break;
    case K_ECG:
      /* shortest: Python's repr (), as the benchmark file has */
      gen_ecg (r, b, NUM_TEXT_SHORTEST);
      break;
    case K_FLOAT_MID:
      mid = rng_float_midpoint (r);
      switch (rng_below (r, 5)) {
        case 0:
          break;
        case 1:
          mid = nextafter (mid, 0);
          break;
        case 2:
          mid = nextafter (mid, INFINITY);
          break;
        case 3:
          lm = rng_beside_midpoint (r, mid);
          sprintf (b, "%.*Lg", 17 + (int) rng_below (r, 30), lm);
          return;
        default:
          sprintf (b, "%.*g", 9 + (int) rng_below (r, 3), mid);
          return;
      }
      sprintf (b, "%.*g", 16 + (int) rng_below (r, 8), mid);
      break;
    case K_DOUBLE_TIE:
      gen_double_tie (r, b);
      break;
    case K_SUBNORMAL:
      if (rng_below (r, 2)) {
        f = rng_float_subnormal (r);
        sprintf (b, "%.*g", 1 + (int) rng_below (r, 18), f);
      } else {
        /* around the smallest float subnormal and its half */
        d = ldexp (1.0 + rng_unit (r), -152 + (int) rng_below (r, 5));
        sprintf (b, "%.*g", 1 + (int) rng_below (r, 22), d);
      }
      break;
    case K_HUGE:
      gen_huge (r, b, 0, -100, 200, -50);
      break;
    default:
      gen_fuzz (r, b, words, alpha, 12);
      break;
  }
}

/* ---- comparison ---- */

/* significant digits of the significand: from the first nonzero digit
 * before the exponent (0 when none) */
static int
sig_digits (const char *s)
{
  int n = 0, started = 0;

  for (; *s && *s != 'e' && *s != 'E'; s++) {
    if (*s < '0' || *s > '9')
      continue;
    if (*s != '0')
      started = 1;
    n += started;
  }
  return n;
}

static size_t n_texts, n_exact, n_bad, kind_count[K_N], kind_cpu[K_N],
    kind_long_cpu[K_N], kind_bad[K_N];

/* One text: blanks around it at random, bytes after it that would change
 * the value if read */
static void
check_text (Rng * r, const char *text, int kind)
{
  static char buf[512], trimmed[512];
  static const char *const blanks[] = { "", "", "", " ", "\t", "  ", " \t" };
  const char *pre = blanks[rng_below (r, 7)], *post = blanks[rng_below (r, 7)];
  size_t len;
  float got = 12345.0f, cpu = 54321.0f, want;
  char *end;
  int g, c, sd = sig_digits (text), ok = 1;

  len = (size_t) snprintf (buf, sizeof (buf) - 8, "%s%s%s", pre, text, post);
  memcpy (buf + len, "17e1.5", 7);
  g = csv_float_parse_field (buf, buf + len, &got);
  c = csv_field_parse_float (buf, len, &cpu);
  /* strtod () on the text alone, with a NUL */
  snprintf (trimmed, sizeof (trimmed), "%s", text);
  want = (float) strtod (trimmed, &end);
  while (*end == ' ' || *end == '\t')
    end++;

  n_texts++;
  kind_count[kind]++;
  if (g == CSV_FLOAT_EXACT) {
    n_exact++;
    ok = c == CSV_OK && same_float_bits (got, cpu) &&
        same_float_bits (got, want) && *end == '\0';
  } else if (g == CSV_FLOAT_NEEDS_CPU) {
    if (c == CSV_OK) {
      /* the device leaves a number to the CPU: only undecided long ones */
      kind_cpu[kind]++;
      if (sd > CSV_FLOAT_MAX_DIGITS)
        kind_long_cpu[kind]++;
      else
        ok = 0;
    }
  } else {
    ok = 0;
  }
  if (!ok) {
    n_bad++;
    kind_bad[kind]++;
    failures++;
    if (n_bad <= 20)
      printf ("  MISMATCH [%s] \"%s\": csvfloat %d %a, CPU reader %d %a, "
          "(float) strtod %a\n", kinds[kind].name, buf, g, got, c, cpu, want);
  }
}

static void
random_pass (const char *name, uint64_t seed, size_t count)
{
  static char text[256];
  Rng r = { seed };
  size_t i, before = n_texts, bad_before = n_bad;
  int k;
  clock_t t0 = clock ();

  for (i = 0; i < count; i++) {
    k = rng_pick_kind (&r, kinds, K_N);
    gen_text (&r, k, text);
    check_text (&r, text, k);
  }
  printf ("%s - pass %s: seed %llu: %zu texts, %zu mismatches (%.1f s)\n",
      n_bad == bad_before ? "ok" : "not ok", name,
      (unsigned long long) seed, n_texts - before, n_bad - bad_before,
      (double) (clock () - t0) / CLOCKS_PER_SEC);
}

/* Every step-th float bit pattern, as %.9g (shortest round trip of a
 * float), %.17g of its double and %.8e */
static void
float_sweep (uint32_t step)
{
  Rng r = { 7 };
  char text[64];
  uint64_t u;
  size_t before = n_texts, bad_before = n_bad, cpu_before = kind_cpu[K_FLOAT_G];
  float f;

  for (u = 0; u < (UINT64_C (1) << 32); u += step) {
    uint32_t b = (uint32_t) u;

    memcpy (&f, &b, 4);
    if (!isfinite (f))
      continue;
    sprintf (text, "%.9g", f);
    check_text (&r, text, K_FLOAT_G);
    sprintf (text, "%.17g", (double) f);
    check_text (&r, text, K_FLOAT_G);
    sprintf (text, "%.8e", f);
    check_text (&r, text, K_FLOAT_G);
  }
  printf ("%s - float sweep (every %u-th pattern): %zu texts, %zu "
      "mismatches, %zu left to the CPU\n", n_bad == bad_before ? "ok" :
      "not ok", step, n_texts - before, n_bad - bad_before,
      kind_cpu[K_FLOAT_G] - cpu_before);
}

/* Known answers */
static void
fixed_cases (void)
{
  /* *INDENT-OFF* */
  static const struct
  {
    const char *text;
    int result;
    float value;
  } cases[] = {
    { "0", CSV_FLOAT_EXACT, 0.0f },
    { "-0", CSV_FLOAT_EXACT, -0.0f },
    { " -0.000e+5\t", CSV_FLOAT_EXACT, -0.0f },
    { "1", CSV_FLOAT_EXACT, 1.0f },
    { "+1.", CSV_FLOAT_EXACT, 1.0f },
    { ".5", CSV_FLOAT_EXACT, 0.5f },
    { "-.5e1", CSV_FLOAT_EXACT, -5.0f },
    { "0.1", CSV_FLOAT_EXACT, 0.1f },
    { "-0.145", CSV_FLOAT_EXACT, -0.145f },
    { "-0.28793373107910156", CSV_FLOAT_EXACT, -0.28793373107910156f },
    { "1e-46", CSV_FLOAT_EXACT, 0.0f },
    { "-1e-400", CSV_FLOAT_EXACT, -0.0f },
    { "1.401298464324817e-45", CSV_FLOAT_EXACT, 0x1p-149f },
    /* strtod gives 2^-150 exactly, a tie between floats: even, 0; the
     * float nearest to the text is 2^-149 */
    { "7.006492321624086e-46", CSV_FLOAT_EXACT, 0.0f },
    { "7.0064923216240862e-46", CSV_FLOAT_EXACT, 0x1p-149f },
    { "7.006492321624085e-46", CSV_FLOAT_EXACT, 0.0f },
    { "3.4028234663852886e38", CSV_FLOAT_EXACT, FLT_MAX },
    { "3.4028235677973366e38", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "1e39", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "1e", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "1e+", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { ".", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "  ", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "nan", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "inf", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "0x10", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "\"1\"", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "1 2", CSV_FLOAT_NEEDS_CPU, 0.0f },
    { "1.5\r", CSV_FLOAT_NEEDS_CPU, 0.0f },
  };
  /* *INDENT-ON* */
  size_t i;
  int bad = 0;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
    const char *t = cases[i].text;
    float v = 12345.0f;
    int g = csv_float_parse_field (t, t + strlen (t), &v);

    if (g != cases[i].result || (g == CSV_FLOAT_EXACT &&
            !same_float_bits (v, cases[i].value))) {
      printf ("  FAIL \"%s\": %d %a, want %d %a\n", t, g, v,
          cases[i].result, cases[i].value);
      bad++;
    }
  }
  /* 2^53 + 1 is a tie between doubles: even, 2^53; 2^53 + 3 rounds up */
  {
    float v = 0.0f;
    const char *t = "9007199254740993";

    if (csv_float_parse_field (t, t + strlen (t), &v) != CSV_FLOAT_EXACT ||
        v != (float) strtod (t, NULL)) {
      printf ("  FAIL \"%s\"\n", t);
      bad++;
    }
  }
  printf ("%s - %zu fixed cases\n", bad ? "not ok" : "ok",
      sizeof (cases) / sizeof (cases[0]) + 1);
  failures += bad;
}

int
main (int argc, char **argv)
{
  uint64_t fresh;
  double scale;
  size_t count = num_test_start (argc, argv, 3000000, &fresh, &scale);
  int i;

  fixed_cases ();
  random_pass ("A (fixed seed)", 20260101, count);
  random_pass ("B (fresh seed)", fresh, count);
  float_sweep (scale >= 1.0 ? 2039 : (uint32_t) (2039 / scale));

  printf ("texts per kind (left to the CPU although numbers; of them with "
      "more than %d digits):\n", CSV_FLOAT_MAX_DIGITS);
  for (i = 0; i < K_N; i++)
    printf ("  %-16s %9zu texts, %7zu to the CPU, %7zu long, %zu bad\n",
        kinds[i].name, kind_count[i], kind_cpu[i], kind_long_cpu[i],
        kind_bad[i]);
  printf ("TOTAL: %zu texts, %zu exact on the device path, %zu mismatches;"
      " %d failed checks\n", n_texts, n_exact, n_bad, failures);
  return failures ? 1 : 0;
}

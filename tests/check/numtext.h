/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Random numbers and random number texts shared by the CSV tests
 * (kernels/csvfloat.c, kernels/csvparse.c, cuda/csvparse.c).  Rng is
 * splitmix64; every generator draws in a fixed order, so a seed replays
 * the same texts.  The tests keep their own mix of kinds and checks; what
 * differs between them (exponent range, lengths, word lists) is an
 * argument here.
 */
#ifndef ECG_NUM_TEXT_H
#define ECG_NUM_TEXT_H

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- random numbers: splitmix64 ---- */

typedef struct
{
  uint64_t s;
} Rng;

static inline uint64_t
rng_next (Rng * r)
{
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* uniform in [0, n) */
static inline uint32_t
rng_below (Rng * r, uint32_t n)
{
  return (uint32_t) (((rng_next (r) >> 32) * n) >> 32);
}

/* uniform in [0, 1), 53 bits */
static inline double
rng_unit (Rng * r)
{
  return (rng_next (r) >> 11) * 0x1p-53;
}

/* A kind of text and its share */
typedef struct
{
  const char *name;
  int weight;                   /* per mille of the texts */
} NumTextKind;

/* index of one of the n kinds, with the probability of its weight */
static inline int
rng_pick_kind (Rng * r, const NumTextKind * kinds, int n)
{
  int total = 0, w, k;

  for (k = 0; k < n; k++)
    total += kinds[k].weight;
  w = rng_below (r, total);
  for (k = 0; k < n - 1 && w >= kinds[k].weight; k++)
    w -= kinds[k].weight;
  return k;
}

/* random bits, drawn again until finite */
static inline float
rng_float_bits (Rng * r)
{
  uint32_t b;
  float f;

  do {
    b = (uint32_t) rng_next (r);
    memcpy (&f, &b, 4);
  } while (!isfinite (f));
  return f;
}

static inline double
rng_double_bits (Rng * r)
{
  uint64_t b;
  double d;

  do {
    b = rng_next (r);
    memcpy (&d, &b, 8);
  } while (!isfinite (d));
  return d;
}

/* a float subnormal (or zero) of either sign */
static inline float
rng_float_subnormal (Rng * r)
{
  uint32_t u = (uint32_t) rng_next (r) & 0x807FFFFF;
  float f;

  memcpy (&f, &u, 4);
  return f;
}

/* a double whose binary exponent is within [-range, range) */
static inline double
rng_scaled (Rng * r, int range)
{
  return ldexp (1.0 + rng_unit (r), (int) rng_below (r, 2 * range) - range);
}

/* The midpoint between a positive float (random bits, or binary exponent
 * within [-40, 40)) and the next one up: exact in a double */
static inline double
rng_float_midpoint (Rng * r)
{
  float a, c;

  a = fabsf (rng_below (r, 2) ? rng_float_bits (r) :
      (float) rng_scaled (r, 40));
  c = nextafterf (a, INFINITY);
  if (!isfinite (c)) {
    c = a;
    a = nextafterf (c, 0);
  }
  return ((double) a + (double) c) / 2;
}

/* One of the double midpoints on either side of mid (a float midpoint): a
 * wrong double rounding step changes the float */
static inline long double
rng_beside_midpoint (Rng * r, double mid)
{
  long double lm = mid, h = (nextafter (mid, INFINITY) - mid) / 2;

  return lm + (rng_below (r, 2) ? h : -h / 2);
}

/* whether a and b have the same bits (NaNs included) */
static inline int
same_float_bits (float a, float b)
{
  uint32_t x, y;

  memcpy (&x, &a, 4);
  memcpy (&y, &b, 4);
  return x == y;
}

/* Start of a random test: the "C" locale, stdout line-buffered, and the
 * options "--seed N --scale F": the seed of the fresh pass (else one from
 * the time and the process id) and a factor on the work (else 1; scale
 * may be NULL).  Returns n_texts times that factor. */
static inline size_t
num_test_start (int argc, char **argv, size_t n_texts, uint64_t * seed,
    double *scale)
{
  double f = 1.0;
  int i;

  *seed = (uint64_t) time (NULL) * 1000003u ^ (uint64_t) getpid ();
  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp (argv[i], "--seed") == 0)
      *seed = strtoull (argv[i + 1], NULL, 0);
    else if (strcmp (argv[i], "--scale") == 0)
      f = atof (argv[i + 1]);
  }
  if (scale)
    *scale = f;
  setlocale (LC_ALL, "C");
  setvbuf (stdout, NULL, _IOLBF, 0);
  return (size_t) (n_texts * f);
}

/* ---- number texts ---- */

/* Near and past the top of the range, one time in four each: a double in
 * [2^127, 2^128) as %.7g .. %.20g; a double within 5e-8 of FLT_MAX as
 * %.8g .. %.19g, or for dbl_top one in [2^1023, 2^1024) as
 * %.15g .. %.20g; d.ddd (0 to 9 decimals) with an exponent in
 * [e_min, e_min + e_span); a whole number below 100 with one in
 * [e2_min, e2_min + 100) */
static inline void
gen_huge (Rng * r, char *b, int dbl_top, int e_min, uint32_t e_span, int e2_min)
{
  double d;

  switch (rng_below (r, 4)) {
    case 0:
      d = ldexp (1.0 + rng_unit (r), 127);
      sprintf (b, "%.*g", 7 + (int) rng_below (r, 14), d);
      break;
    case 1:
      if (dbl_top) {
        d = ldexp (1.0 + rng_unit (r), 1023);
        sprintf (b, "%.*g", 15 + (int) rng_below (r, 6), d);
      } else {
        d = (1.0 + (rng_unit (r) - 0.5) * 1e-7) * FLT_MAX;
        sprintf (b, "%.*g", 8 + (int) rng_below (r, 12), d);
      }
      break;
    case 2:
      sprintf (b, "%.*fe%d", (int) rng_below (r, 10), rng_unit (r) * 10,
          (int) rng_below (r, e_span) + e_min);
      break;
    default:
      sprintf (b, "%de%d", (int) rng_below (r, 100),
          (int) rng_below (r, 100) + e2_min);
      break;
  }
}

/* How CSV writers print a sample: NUM_TEXT_SHORTEST is Python's repr () */
enum
{
  NUM_TEXT_FLOAT_17G,           /* %.17g of (float) d */
  NUM_TEXT_17G,                 /* %.17g */
  NUM_TEXT_3F,                  /* %.3f */
  NUM_TEXT_6F,                  /* %.6f */
  NUM_TEXT_FLOAT_9G,            /* %.9g of (float) d */
  NUM_TEXT_SHORTEST,            /* shortest %.Ng that reads back as d */
  NUM_TEXT_FLOAT_SHORTEST       /* the same for (float) d */
};

/* the shortest %.Ng text that strtod () reads back as d */
static inline void
gen_shortest (double d, char *b)
{
  int prec;

  for (prec = 1; prec <= 17; prec++) {
    sprintf (b, "%.*g", prec, d);
    if (strtod (b, NULL) == d)
      return;
  }
}

/* d printed in one of the NUM_TEXT_* styles */
static inline void
num_text_print (char *b, int style, double d)
{
  switch (style) {
    case NUM_TEXT_FLOAT_17G:
      sprintf (b, "%.17g", (double) (float) d);
      break;
    case NUM_TEXT_17G:
      sprintf (b, "%.17g", d);
      break;
    case NUM_TEXT_3F:
      sprintf (b, "%.3f", d);
      break;
    case NUM_TEXT_6F:
      sprintf (b, "%.6f", d);
      break;
    case NUM_TEXT_FLOAT_9G:
      sprintf (b, "%.9g", (float) d);
      break;
    case NUM_TEXT_SHORTEST:
      gen_shortest (d, b);
      break;
    default:
      gen_shortest ((double) (float) d, b);
      break;
  }
}

/* An ECG-like value, within [-1, 1) or [-12, 12), in one of the first
 * five styles or, one time in six, in shortest (NUM_TEXT_SHORTEST or
 * NUM_TEXT_FLOAT_SHORTEST) */
static inline void
gen_ecg (Rng * r, char *b, int shortest)
{
  double d = (rng_unit (r) * 2 - 1) * (rng_below (r, 2) ? 1 : 12);
  int style = rng_below (r, 6);

  num_text_print (b, style == NUM_TEXT_SHORTEST ? shortest : style, d);
}

/* Random digits: 1 to 25, after an optional sign and up to 5 leading
 * zeros, with a point (two times in three) anywhere, runs of 0 and 9 (they
 * reach carries and exact halves), and half the time an exponent within
 * [-max_exp, max_exp], times 10 one time in x10_one_in (0: never).
 * The sign is '-' or '+' half the time. */
static inline void
gen_digits (Rng * r, char *b, int max_exp, uint32_t x10_one_in)
{
  int n = 1 + rng_below (r, 25), dp = -1, i, k = 0, z;
  uint32_t sign = rng_below (r, 4);

  if (sign < 2)
    b[k++] = "-+"[sign];
  if (rng_below (r, 3))
    dp = rng_below (r, n + 1);
  z = rng_below (r, 4) == 0 ? rng_below (r, 6) : 0;
  for (i = 0; i < z; i++)
    b[k++] = '0';
  for (i = 0; i < n; i++) {
    if (i == dp)
      b[k++] = '.';
    switch (rng_below (r, 6)) {
      case 0:
        b[k++] = '0';
        break;
      case 1:
        b[k++] = '9';
        break;
      default:
        b[k++] = '0' + rng_below (r, 10);
    }
  }
  if (dp == n)
    b[k++] = '.';
  if (rng_below (r, 2)) {
    int e = (int) rng_below (r, 2 * max_exp + 1) - max_exp;

    if (x10_one_in > 0 && rng_below (r, x10_one_in) == 0)
      e *= 10;
    b[k++] = rng_below (r, 2) ? 'e' : 'E';
    if (e < 0 || rng_below (r, 2))
      b[k++] = e < 0 ? '-' : '+';
    if (rng_below (r, 8) == 0)
      b[k++] = '0';
    k += sprintf (b + k, "%d", e < 0 ? -e : e);
  }
  b[k] = '\0';
}

/* One time in three a word of the NULL-terminated list words, else up to
 * max_len - 1 characters of alpha */
static inline void
gen_fuzz (Rng * r, char *b, const char *const *words, const char *alpha,
    uint32_t max_len)
{
  uint32_t n_words = 0, i, n;

  while (words[n_words])
    n_words++;
  if (rng_below (r, 3) == 0) {
    strcpy (b, words[rng_below (r, n_words)]);
  } else {
    n = rng_below (r, max_len);
    for (i = 0; i < n; i++)
      b[i] = alpha[rng_below (r, (uint32_t) strlen (alpha))];
    b[n] = '\0';
  }
}

#endif /* ECG_NUM_TEXT_H */

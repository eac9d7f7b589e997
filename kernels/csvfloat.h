/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Exact decimal text -> float for the CUDA CSV parser (csvparse.cu):
 * static inline C99 that nvcc compiles as __host__ __device__, so the host
 * test (tests/check/kernels/csvfloat.c) checks the very code the device
 * runs against strtod () in the CPU build too.  No libc calls, no CUDA or
 * GLib types.
 *
 * csv_float_parse_field () reads one whole CSV field, blanks around it
 * allowed, and either stores exactly (float) strtod (text), the double
 * rounding decimal -> double -> float that csv_parse_float () defines, or
 * says that the caller must take the CPU parser.  It takes only
 *   [blanks] [+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits] [blanks]
 * with a finite float result; nan, inf, hexadecimal, quotes, an "e" without
 * digits, trailing text and float overflow all go to the CPU.
 *
 * The algorithm: the text is w * 10^q with w the first 19 significant
 * digits (w < 10^19 < 2^64).  The correctly rounded double of w * 10^q is
 * computed with the Eisel-Lemire algorithm (Lemire, "Number parsing at a
 * gigabyte per second", Software: Practice and Experience 51 (2021); the
 * product is always wide enough with these tables: Mushtak and Lemire,
 * "Fast number parsing without fallback", SPE 53 (2023)) and rounded to
 * float (one IEEE conversion), which is exactly what strtod () and the
 * cast do.  When nonzero digits beyond the 19th were dropped the text lies
 * strictly between w * 10^q and (w + 1) * 10^q; both rounding steps are
 * monotonic, so if both ends give the same float so does the text, and
 * otherwise the CPU decides.
 *
 * Only q in [-64, 38] needs the algorithm: below, w * 10^q < 10^-46, less
 * than half the smallest float subnormal (2^-150 ~ 7.0e-46), so the float is
 * 0; above, w * 10^q >= 10^39 overflows float.  In that range the double
 * is always normal, so the subnormal and infinite branches of the general
 * algorithm are not needed (they are kept as a "needs CPU" guard).
 */
#ifndef CSV_FLOAT_H
#define CSV_FLOAT_H

#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define CSV_FLOAT_FN static __host__ __device__ __forceinline__
#else
#define CSV_FLOAT_FN static inline
#endif

/* Return values of csv_float_parse_field () */
#define CSV_FLOAT_EXACT      0  /* *out = (float) strtod (text) */
#define CSV_FLOAT_NEEDS_CPU  1  /* not taken: parse the text on the CPU */

#define CSV_FLOAT_Q_MIN    (-64)
#define CSV_FLOAT_Q_MAX      38
#define CSV_FLOAT_MAX_DIGITS 19

/* 5^q for q in [CSV_FLOAT_Q_MIN, CSV_FLOAT_Q_MAX] as 128 bits, high word
 * first, shifted so bit 127 is set: truncated for q >= 0; for q < 0,
 * floor (2^b / 5^-q) + 1 truncated to 128 bits with b = z + 127 for
 * q >= -17 and b = 2 z + 64 below, z the bit length of 5^-q (the table of
 * the fast_float library, on which the bound of Mushtak and Lemire rests).
 * Generated with Python's integers; the host test checks the result
 * against strtod (). */
/* *INDENT-OFF* */
#define CSV_FLOAT_POW5_TABLE { \
  0xa87fea27a539e9a5ULL, 0x3f2398d747b36224ULL, /* 5^-64 */ \
  0xd29fe4b18e88640eULL, 0x8eec7f0d19a03aadULL, /* 5^-63 */ \
  0x83a3eeeef9153e89ULL, 0x1953cf68300424acULL, /* 5^-62 */ \
  0xa48ceaaab75a8e2bULL, 0x5fa8c3423c052dd7ULL, /* 5^-61 */ \
  0xcdb02555653131b6ULL, 0x3792f412cb06794dULL, /* 5^-60 */ \
  0x808e17555f3ebf11ULL, 0xe2bbd88bbee40bd0ULL, /* 5^-59 */ \
  0xa0b19d2ab70e6ed6ULL, 0x5b6aceaeae9d0ec4ULL, /* 5^-58 */ \
  0xc8de047564d20a8bULL, 0xf245825a5a445275ULL, /* 5^-57 */ \
  0xfb158592be068d2eULL, 0xeed6e2f0f0d56712ULL, /* 5^-56 */ \
  0x9ced737bb6c4183dULL, 0x55464dd69685606bULL, /* 5^-55 */ \
  0xc428d05aa4751e4cULL, 0xaa97e14c3c26b886ULL, /* 5^-54 */ \
  0xf53304714d9265dfULL, 0xd53dd99f4b3066a8ULL, /* 5^-53 */ \
  0x993fe2c6d07b7fabULL, 0xe546a8038efe4029ULL, /* 5^-52 */ \
  0xbf8fdb78849a5f96ULL, 0xde98520472bdd033ULL, /* 5^-51 */ \
  0xef73d256a5c0f77cULL, 0x963e66858f6d4440ULL, /* 5^-50 */ \
  0x95a8637627989aadULL, 0xdde7001379a44aa8ULL, /* 5^-49 */ \
  0xbb127c53b17ec159ULL, 0x5560c018580d5d52ULL, /* 5^-48 */ \
  0xe9d71b689dde71afULL, 0xaab8f01e6e10b4a6ULL, /* 5^-47 */ \
  0x9226712162ab070dULL, 0xcab3961304ca70e8ULL, /* 5^-46 */ \
  0xb6b00d69bb55c8d1ULL, 0x3d607b97c5fd0d22ULL, /* 5^-45 */ \
  0xe45c10c42a2b3b05ULL, 0x8cb89a7db77c506aULL, /* 5^-44 */ \
  0x8eb98a7a9a5b04e3ULL, 0x77f3608e92adb242ULL, /* 5^-43 */ \
  0xb267ed1940f1c61cULL, 0x55f038b237591ed3ULL, /* 5^-42 */ \
  0xdf01e85f912e37a3ULL, 0x6b6c46dec52f6688ULL, /* 5^-41 */ \
  0x8b61313bbabce2c6ULL, 0x2323ac4b3b3da015ULL, /* 5^-40 */ \
  0xae397d8aa96c1b77ULL, 0xabec975e0a0d081aULL, /* 5^-39 */ \
  0xd9c7dced53c72255ULL, 0x96e7bd358c904a21ULL, /* 5^-38 */ \
  0x881cea14545c7575ULL, 0x7e50d64177da2e54ULL, /* 5^-37 */ \
  0xaa242499697392d2ULL, 0xdde50bd1d5d0b9e9ULL, /* 5^-36 */ \
  0xd4ad2dbfc3d07787ULL, 0x955e4ec64b44e864ULL, /* 5^-35 */ \
  0x84ec3c97da624ab4ULL, 0xbd5af13bef0b113eULL, /* 5^-34 */ \
  0xa6274bbdd0fadd61ULL, 0xecb1ad8aeacdd58eULL, /* 5^-33 */ \
  0xcfb11ead453994baULL, 0x67de18eda5814af2ULL, /* 5^-32 */ \
  0x81ceb32c4b43fcf4ULL, 0x80eacf948770ced7ULL, /* 5^-31 */ \
  0xa2425ff75e14fc31ULL, 0xa1258379a94d028dULL, /* 5^-30 */ \
  0xcad2f7f5359a3b3eULL, 0x096ee45813a04330ULL, /* 5^-29 */ \
  0xfd87b5f28300ca0dULL, 0x8bca9d6e188853fcULL, /* 5^-28 */ \
  0x9e74d1b791e07e48ULL, 0x775ea264cf55347eULL, /* 5^-27 */ \
  0xc612062576589ddaULL, 0x95364afe032a81a0ULL, /* 5^-26 */ \
  0xf79687aed3eec551ULL, 0x3a83ddbd83f52210ULL, /* 5^-25 */ \
  0x9abe14cd44753b52ULL, 0xc4926a9672793580ULL, /* 5^-24 */ \
  0xc16d9a0095928a27ULL, 0x75b7053c0f178400ULL, /* 5^-23 */ \
  0xf1c90080baf72cb1ULL, 0x5324c68b12dd6800ULL, /* 5^-22 */ \
  0x971da05074da7beeULL, 0xd3f6fc16ebca8000ULL, /* 5^-21 */ \
  0xbce5086492111aeaULL, 0x88f4bb1ca6bd0000ULL, /* 5^-20 */ \
  0xec1e4a7db69561a5ULL, 0x2b31e9e3d0700000ULL, /* 5^-19 */ \
  0x9392ee8e921d5d07ULL, 0x3aff322e62600000ULL, /* 5^-18 */ \
  0xb877aa3236a4b449ULL, 0x09befeb9fad487c3ULL, /* 5^-17 */ \
  0xe69594bec44de15bULL, 0x4c2ebe687989a9b4ULL, /* 5^-16 */ \
  0x901d7cf73ab0acd9ULL, 0x0f9d37014bf60a11ULL, /* 5^-15 */ \
  0xb424dc35095cd80fULL, 0x538484c19ef38c95ULL, /* 5^-14 */ \
  0xe12e13424bb40e13ULL, 0x2865a5f206b06fbaULL, /* 5^-13 */ \
  0x8cbccc096f5088cbULL, 0xf93f87b7442e45d4ULL, /* 5^-12 */ \
  0xafebff0bcb24aafeULL, 0xf78f69a51539d749ULL, /* 5^-11 */ \
  0xdbe6fecebdedd5beULL, 0xb573440e5a884d1cULL, /* 5^-10 */ \
  0x89705f4136b4a597ULL, 0x31680a88f8953031ULL, /* 5^-9 */ \
  0xabcc77118461cefcULL, 0xfdc20d2b36ba7c3eULL, /* 5^-8 */ \
  0xd6bf94d5e57a42bcULL, 0x3d32907604691b4dULL, /* 5^-7 */ \
  0x8637bd05af6c69b5ULL, 0xa63f9a49c2c1b110ULL, /* 5^-6 */ \
  0xa7c5ac471b478423ULL, 0x0fcf80dc33721d54ULL, /* 5^-5 */ \
  0xd1b71758e219652bULL, 0xd3c36113404ea4a9ULL, /* 5^-4 */ \
  0x83126e978d4fdf3bULL, 0x645a1cac083126eaULL, /* 5^-3 */ \
  0xa3d70a3d70a3d70aULL, 0x3d70a3d70a3d70a4ULL, /* 5^-2 */ \
  0xccccccccccccccccULL, 0xcccccccccccccccdULL, /* 5^-1 */ \
  0x8000000000000000ULL, 0x0000000000000000ULL, /* 5^0 */ \
  0xa000000000000000ULL, 0x0000000000000000ULL, /* 5^1 */ \
  0xc800000000000000ULL, 0x0000000000000000ULL, /* 5^2 */ \
  0xfa00000000000000ULL, 0x0000000000000000ULL, /* 5^3 */ \
  0x9c40000000000000ULL, 0x0000000000000000ULL, /* 5^4 */ \
  0xc350000000000000ULL, 0x0000000000000000ULL, /* 5^5 */ \
  0xf424000000000000ULL, 0x0000000000000000ULL, /* 5^6 */ \
  0x9896800000000000ULL, 0x0000000000000000ULL, /* 5^7 */ \
  0xbebc200000000000ULL, 0x0000000000000000ULL, /* 5^8 */ \
  0xee6b280000000000ULL, 0x0000000000000000ULL, /* 5^9 */ \
  0x9502f90000000000ULL, 0x0000000000000000ULL, /* 5^10 */ \
  0xba43b74000000000ULL, 0x0000000000000000ULL, /* 5^11 */ \
  0xe8d4a51000000000ULL, 0x0000000000000000ULL, /* 5^12 */ \
  0x9184e72a00000000ULL, 0x0000000000000000ULL, /* 5^13 */ \
  0xb5e620f480000000ULL, 0x0000000000000000ULL, /* 5^14 */ \
  0xe35fa931a0000000ULL, 0x0000000000000000ULL, /* 5^15 */ \
  0x8e1bc9bf04000000ULL, 0x0000000000000000ULL, /* 5^16 */ \
  0xb1a2bc2ec5000000ULL, 0x0000000000000000ULL, /* 5^17 */ \
  0xde0b6b3a76400000ULL, 0x0000000000000000ULL, /* 5^18 */ \
  0x8ac7230489e80000ULL, 0x0000000000000000ULL, /* 5^19 */ \
  0xad78ebc5ac620000ULL, 0x0000000000000000ULL, /* 5^20 */ \
  0xd8d726b7177a8000ULL, 0x0000000000000000ULL, /* 5^21 */ \
  0x878678326eac9000ULL, 0x0000000000000000ULL, /* 5^22 */ \
  0xa968163f0a57b400ULL, 0x0000000000000000ULL, /* 5^23 */ \
  0xd3c21bcecceda100ULL, 0x0000000000000000ULL, /* 5^24 */ \
  0x84595161401484a0ULL, 0x0000000000000000ULL, /* 5^25 */ \
  0xa56fa5b99019a5c8ULL, 0x0000000000000000ULL, /* 5^26 */ \
  0xcecb8f27f4200f3aULL, 0x0000000000000000ULL, /* 5^27 */ \
  0x813f3978f8940984ULL, 0x4000000000000000ULL, /* 5^28 */ \
  0xa18f07d736b90be5ULL, 0x5000000000000000ULL, /* 5^29 */ \
  0xc9f2c9cd04674edeULL, 0xa400000000000000ULL, /* 5^30 */ \
  0xfc6f7c4045812296ULL, 0x4d00000000000000ULL, /* 5^31 */ \
  0x9dc5ada82b70b59dULL, 0xf020000000000000ULL, /* 5^32 */ \
  0xc5371912364ce305ULL, 0x6c28000000000000ULL, /* 5^33 */ \
  0xf684df56c3e01bc6ULL, 0xc732000000000000ULL, /* 5^34 */ \
  0x9a130b963a6c115cULL, 0x3c7f400000000000ULL, /* 5^35 */ \
  0xc097ce7bc90715b3ULL, 0x4b9f100000000000ULL, /* 5^36 */ \
  0xf0bdc21abb48db20ULL, 0x1e86d40000000000ULL, /* 5^37 */ \
  0x96769950b50d88f4ULL, 0x1314448000000000ULL, /* 5^38 */ \
}
/* *INDENT-ON* */

static const uint64_t csv_float_pow5[2 * (CSV_FLOAT_Q_MAX - CSV_FLOAT_Q_MIN + 1)]
    = CSV_FLOAT_POW5_TABLE;
#ifdef __CUDACC__
static __device__ const uint64_t
    csv_float_pow5_dev[2 * (CSV_FLOAT_Q_MAX - CSV_FLOAT_Q_MIN + 1)]
    = CSV_FLOAT_POW5_TABLE;
#endif

/* high 64 bits of a * b; the low 64 in *lo */
CSV_FLOAT_FN uint64_t
csv_float_mul128 (uint64_t a, uint64_t b, uint64_t * lo)
{
#ifdef __CUDA_ARCH__
  *lo = a * b;
  return __umul64hi (a, b);
#else
  uint64_t a0 = (uint32_t) a, a1 = a >> 32, b0 = (uint32_t) b, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (uint32_t) p01 + (uint32_t) p10;

  *lo = (mid << 32) | (uint32_t) p00;
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* leading zero bits of w != 0 */
CSV_FLOAT_FN int
csv_float_clz64 (uint64_t w)
{
#ifdef __CUDA_ARCH__
  return __clzll ((long long) w);
#elif defined (__GNUC__)
  return __builtin_clzll (w);
#else
  int n = 0;

  while (!(w & (UINT64_C (1) << 63))) {
    w <<= 1;
    n++;
  }
  return n;
#endif
}

/* floor (q log2 (10)) + 63 for |q| < 350: (217706 q) / 2^16 rounded down
 * (fast_float's detail::power) */
CSV_FLOAT_FN int
csv_float_power (int q)
{
  int32_t t = 217706 * q;

  return (t >= 0 ? t >> 16 : -((-t + 65535) >> 16)) + 63;
}

/* The float of the correctly rounded double of w * 10^q, for w != 0 and q
 * in [CSV_FLOAT_Q_MIN, CSV_FLOAT_Q_MAX].  Eisel-Lemire: w is normalised
 * (top bit set) and multiplied by the 128-bit 5^q; the top 55 bits of the
 * product (54 plus the one the top bit may lose) give the 53-bit
 * significand and its round bit, the binary exponent comes from
 * csv_float_power ().  The first 64x64 product is exact enough unless its
 * low 9 bits below the 55 are all ones, then the low word of 5^q is added.
 * An exact tie (the dropped bits all zero and the product exact, possible
 * only for q in [-4, 23]) rounds to even.  Returns 0 (needs the CPU) in
 * the cases the older fast_float versions sent to their slow path, which
 * Mushtak and Lemire showed never happen; kept as a guard. */
CSV_FLOAT_FN int
csv_float_from_decimal (uint64_t w, int q, float *out)
{
#ifdef __CUDA_ARCH__
  const uint64_t *t = csv_float_pow5_dev + 2 * (q - CSV_FLOAT_Q_MIN);
#else
  const uint64_t *t = csv_float_pow5 + 2 * (q - CSV_FLOAT_Q_MIN);
#endif
  uint64_t hi, lo, hi2, lo2, m, bits;
  int lz, upper, shift, e2;
  double d;

  lz = csv_float_clz64 (w);
  w <<= lz;
  hi = csv_float_mul128 (w, t[0], &lo);
  if ((hi & 0x1FF) == 0x1FF) {
    hi2 = csv_float_mul128 (w, t[1], &lo2);
    lo += hi2;
    if (lo < hi2)
      hi++;
  }
  if (lo == UINT64_MAX && (q < -27 || q > 55))
    return 0;
  upper = (int) (hi >> 63);
  shift = upper + 9;
  m = hi >> shift;
  e2 = csv_float_power (q) + upper - lz + 1023;
  if (e2 <= 0)
    return 0;                   /* double subnormal: not in this q range */
  if (lo <= 1 && q >= -4 && q <= 23 && (m & 3) == 1 && (m << shift) == hi)
    m &= ~UINT64_C (1);         /* exact tie: round to even */
  m += m & 1;
  m >>= 1;
  if (m >= (UINT64_C (2) << 52)) {
    m = UINT64_C (1) << 52;
    e2++;
  }
  if (e2 >= 0x7FF)
    return 0;                   /* double overflow: not in this q range */
  bits = ((uint64_t) e2 << 52) | (m & ((UINT64_C (1) << 52) - 1));
#ifdef __CUDA_ARCH__
  d = __longlong_as_double ((long long) bits);
  *out = __double2float_rn (d);
#else
  memcpy (&d, &bits, sizeof (d));
  *out = (float) d;
#endif
  return 1;
}

CSV_FLOAT_FN int
csv_float_is_digit (char c)
{
  return (unsigned char) (c - '0') < 10;
}

CSV_FLOAT_FN int
csv_float_is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Reads the whole field [s, end) (no NUL needed) into *out, see the top of
 * this file.  Returns CSV_FLOAT_EXACT with *out == (float) strtod (text),
 * -0.0 for negative zero and underflow, or CSV_FLOAT_NEEDS_CPU (*out
 * unchanged). */
CSV_FLOAT_FN int
csv_float_parse_field (const char *s, const char *end, float *out)
{
  const char *p = s;
  uint64_t w = 0;
  int64_t q = 0, ex;
  int nd = 0, any = 0, dropped = 0, neg = 0, eneg;
  float f, f2;

  while (p < end && csv_float_is_blank (*p))
    p++;
  if (p < end && (*p == '+' || *p == '-')) {
    neg = *p == '-';
    p++;
  }
  /* integer digits: leading zeros skipped, beyond 19 only scale */
  for (; p < end && csv_float_is_digit (*p); p++) {
    int dg = *p - '0';

    any = 1;
    if (nd == 0 && dg == 0)
      continue;
    if (nd < CSV_FLOAT_MAX_DIGITS) {
      w = w * 10 + dg;
      nd++;
    } else {
      q++;
      dropped |= dg;
    }
  }
  /* fraction: zeros before the first significant digit only scale */
  if (p < end && *p == '.') {
    for (p++; p < end && csv_float_is_digit (*p); p++) {
      int dg = *p - '0';

      any = 1;
      if (nd == 0 && dg == 0) {
        q--;
      } else if (nd < CSV_FLOAT_MAX_DIGITS) {
        w = w * 10 + dg;
        nd++;
        q--;
      } else {
        dropped |= dg;
      }
    }
  }
  if (!any)
    return CSV_FLOAT_NEEDS_CPU;
  /* exponent: strtod leaves an "e" without digits unread, so the field
   * would not be a number; the CPU reports it */
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    eneg = 0;
    if (p < end && (*p == '+' || *p == '-')) {
      eneg = *p == '-';
      p++;
    }
    if (!(p < end && csv_float_is_digit (*p)))
      return CSV_FLOAT_NEEDS_CPU;
    for (ex = 0; p < end && csv_float_is_digit (*p); p++) {
      if (ex < 100000000)
        ex = ex * 10 + (*p - '0');
    }
    q += eneg ? -ex : ex;
  }
  while (p < end && csv_float_is_blank (*p))
    p++;
  if (p != end)
    return CSV_FLOAT_NEEDS_CPU;

  if (w == 0 || q < CSV_FLOAT_Q_MIN) {
    f = 0.0f;
  } else if (q > CSV_FLOAT_Q_MAX) {
    return CSV_FLOAT_NEEDS_CPU;
  } else {
    if (!csv_float_from_decimal (w, (int) q, &f))
      return CSV_FLOAT_NEEDS_CPU;
    /* the text lies strictly between w and w + 1 (w + 1 <= 10^19) */
    if (dropped && (!csv_float_from_decimal (w + 1, (int) q, &f2) ||
            f2 != f))
      return CSV_FLOAT_NEEDS_CPU;
    if (!(f <= 3.40282346638528859812e+38f))
      return CSV_FLOAT_NEEDS_CPU;       /* overflow to inf */
  }
  *out = neg ? -f : f;
  return CSV_FLOAT_EXACT;
}

#endif /* CSV_FLOAT_H */

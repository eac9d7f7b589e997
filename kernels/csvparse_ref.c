/* CSV parsing kernel for ECG recordings: CPU implementation.
 *
 * Portable C99 plus libc.  See csvparse.h for the accepted format.
 */

#include "csvparse.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

/* The x87 fast path needs the 80-bit extended format: 64-bit significand
 * with an explicit integer bit in the low 8 bytes of the object. */
#if (defined (__x86_64__) || defined (__i386__)) && LDBL_MANT_DIG == 64
#define CSV_HAVE_X87 1
#endif

/* Clinger's fast path needs double operations rounded once, to double. */
#if defined (FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0 && DBL_MANT_DIG == 53
#define CSV_HAVE_CLINGER 1
#endif

/* Eight ASCII digits at once (SWAR) needs a little-endian uint64 and
 * __builtin_ctzll (GCC, clang). */
#if defined (__GNUC__) && defined (__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSV_HAVE_SWAR 1
#endif

/* Significant digits kept by the slow path; see csv_slow_path (). */
#define CSV_SLOW_DIGITS 800

/* *INDENT-OFF* */
#ifdef CSV_HAVE_CLINGER
static const double csv_p10d[23] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
  1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};
#endif

#ifdef CSV_HAVE_X87
/* 10^k = 2^k * 5^k is exact in a 64-bit significand while 5^k < 2^64,
 * that is for k <= 27. */
static const long double csv_p10l[28] = {
  1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
  1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
  1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L
};
#endif
/* *INDENT-ON* */

const char *
csv_strerror (int status)
{
  switch (status) {
    case CSV_OK:
      return "ok";
    case CSV_FULL:
      return "output full";
    case CSV_ERR_INVAL:
      return "invalid argument";
    case CSV_ERR_EMPTY_LINE:
      return "empty line";
    case CSV_ERR_RAGGED:
      return "wrong number of fields";
    case CSV_ERR_NOT_NUMERIC:
      return "cell is not a number";
    case CSV_ERR_NOT_FINITE:
      return "cell is not a finite number";
    default:
      return "unknown status";
  }
}

static inline int
csv_is_digit (char c)
{
  return (unsigned) (c - '0') < 10;
}

static inline int
csv_is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Case-insensitive match of the lowercase letters lit at p. */
static int
csv_match_ci (const char *p, const char *end, const char *lit)
{
  for (; *lit; lit++, p++) {
    if (p >= end || (*p | 0x20) != *lit)
      return 0;
  }
  return 1;
}

#ifdef CSV_HAVE_SWAR
/* *INDENT-OFF* */
static const uint64_t csv_p10u[9] = {
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
};
/* *INDENT-ON* */

/* Value of eight ASCII digits, the first in the low byte: (v * 10) +
 * (v >> 8) pairs the digits into bytes 0..99, then two multiplies fold
 * the pairs into 4-digit and 8-digit values (the fast_float / simdjson
 * sequence). */
static inline uint64_t
csv_swar8 (uint64_t v)
{
  v -= 0x3030303030303030ULL;
  v = (v * 10) + (v >> 8);
  v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
      (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
  return (uint32_t) v;
}
#endif

/* Appends the digits at p to m while m holds fewer than 19 significant
 * digits (nd) and returns the first byte not taken.  The caller has
 * skipped leading zeros when nd == 0.  With SWAR, 8 bytes are loaded at
 * once: a byte is a digit iff its high nibble is 3 and stays 3 after adding
 * 6 (a carry only starts at a non-digit, so the bytes before the first
 * non-digit are judged right), so k, the number of leading digits, is the
 * count of trailing zero bytes of the mismatch mask.  The k digits are
 * shifted to the top of the word behind '0' padding and converted as
 * eight, with no data-dependent loop.  No byte at or past end is loaded. */
static inline const char *
csv_digits (const char *p, const char *end, uint64_t * mp, int *ndp)
{
  uint64_t m = *mp;
  int nd = *ndp;

#ifdef CSV_HAVE_SWAR
  while (end - p >= 8) {
    uint64_t v, t;
    int k;

    memcpy (&v, p, 8);
    t = ((v & 0xF0F0F0F0F0F0F0F0ULL) |
        (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ^
        0x3333333333333333ULL;
    k = t ? __builtin_ctzll (t) >> 3 : 8;
    if (k > 19 - nd)
      k = 19 - nd;
    if (k == 0)
      break;
    if (k < 8)
      v = (v << (64 - 8 * k)) | (0x3030303030303030ULL >> (8 * k));
    m = m * csv_p10u[k] + csv_swar8 (v);
    nd += k;
    p += k;
    if (k < 8)
      break;
  }
#endif
  for (; nd < 19 && p < end && csv_is_digit (*p); p++, nd++)
    m = m * 10 + (*p - '0');
  *mp = m;
  *ndp = nd;
  return p;
}

#ifdef CSV_HAVE_X87
/* RN53 (m * 10^e10) for |e10| <= 27 through one x87 operation.
 *
 * m < 2^64 and 10^|e10| are exact in the 64-bit significand, so
 * L = RN64 (m * 10^e10) (or m / 10^-e10) is one correctly rounded
 * operation (the x87 precision control is 64 bits on Linux and the BSDs).
 * The result stays far from the double subnormal and overflow ranges.
 * Every midpoint M between adjacent doubles has 54 significant bits, so it
 * is representable in 64 bits; RN64 is monotonic, so if x < M then L <= M
 * and if x > M then L >= M.  Hence RN53 (L) == RN53 (x) unless L is itself a
 * midpoint, whose low 11 significand bits are 0x400.  We refuse 0x3ff..0x401
 * (a margin that costs nothing) and let the caller take the slow path. */
static inline int
csv_x87_round (uint64_t m, int e10, double *d)
{
  long double l = (long double) m;
  uint64_t bits;

  if (e10 < 0)
    l = l / csv_p10l[-e10];
  else
    l = l * csv_p10l[e10];
  memcpy (&bits, &l, sizeof (bits));
  if ((bits & 0x7ff) - 0x3ff <= 2)
    return 0;
  *d = (double) l;
  return 1;
}
#endif

/* Correctly rounded double of the unsigned decimal text at [s, stop) which
 * csv_parse_number () has validated (sign already skipped).
 *
 * The text is rewritten as "DDDDeEEE" with no decimal point, so strtod ()
 * reads it the same in every locale (only the radix character and grouping
 * are locale dependent and neither appears).  At most CSV_SLOW_DIGITS
 * significant digits are kept; if a dropped digit is nonzero a final '1' is
 * appended as a sticky digit.  That keeps the value strictly between the
 * same pair of double midpoints as the full text, because every midpoint
 * (and every double) has at most 767 significant decimal digits and
 * therefore lies on the grid of the kept digits.  The exponent is clamped to
 * +-99999, beyond which a value with <= 801 digits is 0 or inf anyway. */
static double
csv_slow_path (const char *s, const char *stop)
{
  char buf[CSV_SLOW_DIGITS + 32];
  const char *q = s;
  int n = 0, seen_nz = 0, in_frac = 0, sticky = 0;
  int64_t e10 = 0;

  for (; q < stop; q++) {
    char c = *q;

    if (c == '.') {
      in_frac = 1;
      continue;
    }
    if (!csv_is_digit (c))
      break;
    if (!seen_nz && c == '0') {
      if (in_frac)
        e10--;
      continue;
    }
    seen_nz = 1;
    if (n < CSV_SLOW_DIGITS) {
      buf[n++] = c;
      if (in_frac)
        e10--;
    } else {
      if (c != '0')
        sticky = 1;
      if (!in_frac)
        e10++;
    }
  }
  if (n == 0)
    return 0.0;
  if (sticky) {
    buf[n++] = '1';
    e10--;
  }
  if (q < stop && (*q | 0x20) == 'e') {
    int eneg = 0;
    int64_t ex = 0;

    q++;
    if (*q == '+' || *q == '-')
      eneg = *q++ == '-';
    for (; q < stop && csv_is_digit (*q); q++) {
      if (ex < 100000000)
        ex = ex * 10 + (*q - '0');
    }
    e10 += eneg ? -ex : ex;
  }
  if (e10 > 99999)
    e10 = 99999;
  if (e10 < -99999)
    e10 = -99999;
  snprintf (buf + n, sizeof (buf) - n, "e%d", (int) e10);
  return strtod (buf, NULL);
}

/* nan, nan(n-char-sequence), inf, infinity (any case) at p, as strtod ()
 * reads them: the longest form that matches is consumed. */
static int
csv_parse_special (const char *p, const char *end, int neg, double *out,
    const char **stop)
{
  const char *q;

  if (csv_match_ci (p, end, "inf")) {
    q = p + 3;
    if (csv_match_ci (q, end, "inity"))
      q += 5;
    *out = neg ? -(double) INFINITY : (double) INFINITY;
  } else if (csv_match_ci (p, end, "nan")) {
    q = p + 3;
    if (q < end && *q == '(') {
      const char *r = q + 1;

      while (r < end && (csv_is_digit (*r) || *r == '_' ||
              ((*r | 0x20) >= 'a' && (*r | 0x20) <= 'z')))
        r++;
      if (r < end && *r == ')')
        q = r + 1;
    }
    *out = neg ? -(double) NAN : (double) NAN;
  } else {
    return CSV_FLOAT_NONE;
  }
  *stop = q;
  return CSV_FLOAT_NOT_FINITE;
}

/* The parser behind csv_parse_double () and csv_parse_float (): stores the
 * correctly rounded double (also nan and +-inf), see csv_parse_double ()
 * for the algorithm.  Returns CSV_FLOAT_OK or CSV_FLOAT_NONE (special
 * words give CSV_FLOAT_NOT_FINITE). */
static inline int
csv_parse_number (const char *s, const char *end, double *out,
    const char **stop)
{
  const char *p = s, *q, *r;
  uint64_t m = 0;
  int nd = 0;                   /* significant digits in m */
  int64_t e10 = 0;
  int dropped = 0;              /* a nonzero digit did not fit in m */
  int neg = 0, seen = 0;
  double d;

  if (p < end && (*p == '-' || *p == '+')) {
    neg = *p == '-';
    p++;
  }
  /* integer part */
  while (p < end && *p == '0') {
    p++;
    seen = 1;
  }
  q = csv_digits (p, end, &m, &nd);
  seen |= q > p;
  /* digits beyond 19 only scale */
  for (p = q; p < end && csv_is_digit (*p); p++) {
    seen = 1;
    e10++;
    dropped |= *p - '0';
  }
  /* fraction */
  if (p < end && *p == '.') {
    q = p + 1;
    if (nd == 0) {
      /* leading zeros of the fraction only move the exponent */
      while (q < end && *q == '0') {
        q++;
        e10--;
      }
    }
    r = csv_digits (q, end, &m, &nd);
    e10 -= r - q;
    for (q = r; q < end && csv_is_digit (*q); q++)
      dropped |= *q - '0';
    if (seen || q > p + 1) {
      seen = 1;
      p = q;
    }
  }
  if (!seen) {
    int sr = csv_parse_special (p, end, neg, out, stop);

    if (sr == CSV_FLOAT_NONE)
      *stop = s;
    return sr;
  }
  /* exponent: only consumed if at least one digit follows */
  if (p < end && (*p | 0x20) == 'e') {
    int eneg = 0;
    int64_t ex = 0;

    q = p + 1;
    if (q < end && (*q == '+' || *q == '-'))
      eneg = *q++ == '-';
    if (q < end && csv_is_digit (*q)) {
      for (; q < end && csv_is_digit (*q); q++) {
        if (ex < 100000000)
          ex = ex * 10 + (*q - '0');
      }
      e10 += eneg ? -ex : ex;
      p = q;
    }
  }
  *stop = p;

  if (m == 0) {
    d = 0.0;
    goto done;
  }
#ifdef CSV_HAVE_CLINGER
  if (!dropped && m <= (UINT64_C (1) << 53) && e10 >= -22 && e10 <= 22) {
    if (e10 < 0)
      d = (double) m / csv_p10d[-e10];
    else
      d = csv_p10d[e10] * (double) m;
    goto done;
  }
#endif
#ifdef CSV_HAVE_X87
  if (e10 >= -27 && e10 <= 27) {
    double d2;

    if (csv_x87_round (m, (int) e10, &d) && (!dropped ||
            (csv_x87_round (m + 1, (int) e10, &d2) && d2 == d)))
      goto done;
  }
#endif
  /* skip the sign: csv_slow_path () reads digits only */
  d = csv_slow_path (s + (*s == '-' || *s == '+'), p);

done:
  *out = neg ? -d : d;
  return CSV_FLOAT_OK;
}

/**
 * csv_parse_double:
 * @s: start of the text
 * @end: end of the text (exclusive); the text needs no terminating NUL
 * @out: (out): the value
 * @stop: (out): first byte after the number, or @s if there is none
 *
 * Reads the longest prefix of [s, end) that is a decimal number and stores
 * exactly what strtod () gives for it in the "C" locale, whatever the
 * current locale, with *stop where strtod () would set its end pointer.
 * Leading blanks are not skipped (the field scanner trims them) and
 * hexadecimal texts are not read ("0x1p3" reads as 0, stopping at 'x').
 * Overflow gives +-inf (HUGE_VAL) as strtod () does; underflow gives the
 * correctly rounded subnormal or zero.
 *
 * Algorithm: the significand is read into m, at most 19 significant digits
 * (m < 10^19 < 2^64), with e10 the decimal exponent so that the text is
 * m * 10^e10 when no nonzero digit was dropped.  Digits go in up to eight
 * at a time with SWAR when the bytes are there (csv_digits ()).  Then, for m != 0:
 *  1. Clinger: m <= 2^53 and |e10| <= 22: m and 10^|e10| are exact doubles,
 *     so one IEEE multiply or divide gives the correctly rounded double.
 *  2. x87 (where long double has a 64-bit significand) for |e10| <= 27:
 *     see csv_x87_round ().  If nonzero digits were dropped the text lies
 *     strictly between m * 10^e10 and (m + 1) * 10^e10; when both ends round
 *     to the same double, so does the text (rounding is monotonic).
 *  3. Otherwise csv_slow_path () (strtod on a locale-free rewrite).
 * Assumes the default round-to-nearest mode.
 *
 * Returns: CSV_FLOAT_OK for a finite value, CSV_FLOAT_NOT_FINITE for nan
 * or +-inf (value stored), CSV_FLOAT_NONE if no number starts at @s.
 */
int
csv_parse_double (const char *s, const char *end, double *out,
    const char **stop)
{
  int r = csv_parse_number (s, end, out, stop);

  if (r == CSV_FLOAT_OK && !isfinite (*out))
    r = CSV_FLOAT_NOT_FINITE;
  return r;
}

/**
 * csv_parse_float:
 * @s: start of the text
 * @end: end of the text (exclusive); the text needs no terminating NUL
 * @out: (out): the value
 * @stop: (out): first byte after the number, or @s if there is none
 *
 * As csv_parse_double (), then cast to float: the result is exactly
 * (float) strtod (text), the double rounding decimal -> double -> float
 * that the reference defines (not a direct decimal -> float rounding).  A
 * finite double beyond the float range becomes +-inf and is reported as
 * not finite; tiny values become float subnormals or zero.
 *
 * Returns: CSV_FLOAT_OK for a finite float, CSV_FLOAT_NOT_FINITE for nan
 * or +-inf (value stored), CSV_FLOAT_NONE if no number starts at @s.
 */
int
csv_parse_float (const char *s, const char *end, float *out, const char **stop)
{
  double d;
  float f;

  if (csv_parse_number (s, end, &d, stop) == CSV_FLOAT_NONE)
    return CSV_FLOAT_NONE;
  f = (float) d;
  *out = f;
  return isfinite (f) ? CSV_FLOAT_OK : CSV_FLOAT_NOT_FINITE;
}

/**
 * csv_field_parse_float:
 * @field: a field as csv_fields_next () returns it
 * @len: its length
 * @out: (out): the value
 *
 * Parses a whole field: blanks around the number are allowed, anything
 * else makes the field non-numeric.
 *
 * Returns: CSV_OK, CSV_ERR_NOT_FINITE (value stored) or CSV_ERR_NOT_NUMERIC.
 */
int
csv_field_parse_float (const char *field, size_t len, float *out)
{
  const char *p = field, *end = field + len, *stop;
  int r;

  while (p < end && csv_is_blank (*p))
    p++;
  r = csv_parse_float (p, end, out, &stop);
  if (r == CSV_FLOAT_NONE)
    return CSV_ERR_NOT_NUMERIC;
  while (stop < end && csv_is_blank (*stop))
    stop++;
  if (stop != end)
    return CSV_ERR_NOT_NUMERIC;
  return r == CSV_FLOAT_OK ? CSV_OK : CSV_ERR_NOT_FINITE;
}

/**
 * csv_bom_length:
 * @buf: start of a file
 * @len: bytes available
 *
 * Returns: 3 if @buf starts with a UTF-8 byte order mark, else 0.  The
 * caller skips it at the start of the file; csv_fields_init () skips it
 * by itself.
 */
size_t
csv_bom_length (const char *buf, size_t len)
{
  if (len >= 3 && (unsigned char) buf[0] == 0xEF &&
      (unsigned char) buf[1] == 0xBB && (unsigned char) buf[2] == 0xBF)
    return 3;
  return 0;
}

/**
 * csv_fields_init:
 * @it: (out): iterator
 * @line: one line, with or without its "\n" or "\r\n"
 * @len: its length
 *
 * Prepares to walk the fields of @line.  A UTF-8 byte order mark and the
 * line terminator are dropped; a line that is empty or blank has no fields.
 */
void
csv_fields_init (CsvFieldIter * it, const char *line, size_t len)
{
  const char *end = line + len, *p;

  line += csv_bom_length (line, len);
  while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
    end--;
  for (p = line; p < end && csv_is_blank (*p); p++);
  it->p = line;
  it->end = end;
  it->done = p == end;
}

/**
 * csv_fields_next:
 * @it: iterator
 * @field: (out): start of the field, blanks trimmed, quotes stripped
 * @flen: (out): its length
 * @quoted: (out) (nullable): 1 if it was in double quotes (then any ""
 *   inside stands for one "), 2 if in single quotes, else 0
 *
 * Splits at ',' outside double quotes.  In a double-quoted field, text
 * between the closing quote and the next ',' is ignored; an unclosed quote
 * runs to the end of the line.  A field in single quotes ('MLII') is
 * unquoted only if it starts and ends with one, and may not hold a ','.
 *
 * Returns: 1 if a field was stored, 0 at the end of the line.
 */
int
csv_fields_next (CsvFieldIter * it, const char **field, size_t *flen,
    int *quoted)
{
  const char *p = it->p, *end = it->end, *start, *fe;
  int q = 0;

  if (it->done)
    return 0;
  while (p < end && csv_is_blank (*p))
    p++;
  if (p < end && *p == '"') {
    start = p + 1;
    for (fe = start; fe < end; fe++) {
      if (*fe == '"') {
        if (fe + 1 < end && fe[1] == '"')
          fe++;
        else
          break;
      }
    }
    q = 1;
    p = fe < end ? fe + 1 : end;
    while (p < end && *p != ',')
      p++;
  } else {
    start = p;
    while (p < end && *p != ',')
      p++;
    fe = p;
    while (fe > start && csv_is_blank (fe[-1]))
      fe--;
    if (fe - start >= 2 && *start == '\'' && fe[-1] == '\'') {
      start++;
      fe--;
      q = 2;
    }
  }
  *field = start;
  *flen = fe - start;
  if (quoted)
    *quoted = q;
  if (p < end)
    it->p = p + 1;
  else
    it->done = 1;
  return 1;
}

/**
 * csv_line_count_fields:
 * @line: one line
 * @len: its length
 *
 * Returns: the number of fields (0 for an empty or blank line).
 */
int
csv_line_count_fields (const char *line, size_t len)
{
  CsvFieldIter it;
  const char *f;
  size_t fl;
  int n = 0;

  csv_fields_init (&it, line, len);
  while (csv_fields_next (&it, &f, &fl, NULL))
    n++;
  return n;
}

/**
 * csv_line_get_field:
 * @line: one line
 * @len: its length
 * @index: field index, from 0
 * @field: (out): the field, as csv_fields_next () gives it
 * @flen: (out): its length
 * @quoted: (out) (nullable): as for csv_fields_next ()
 *
 * Returns: 1 if the field exists, else 0.
 */
int
csv_line_get_field (const char *line, size_t len, int index,
    const char **field, size_t *flen, int *quoted)
{
  CsvFieldIter it;
  int i;

  if (index < 0)
    return 0;
  csv_fields_init (&it, line, len);
  for (i = 0; csv_fields_next (&it, field, flen, quoted); i++) {
    if (i == index)
      return 1;
  }
  return 0;
}

/**
 * csv_line_is_header:
 * @line: the first line of a file
 * @len: its length
 *
 * A first line is a header if any of its non-empty fields is not a number
 * (nan and inf count as numbers, as strtod () reads them).  Empty fields
 * decide nothing, so a blank line is not a header.
 *
 * Returns: 1 for a header, else 0.
 */
int
csv_line_is_header (const char *line, size_t len)
{
  CsvFieldIter it;
  const char *f;
  size_t fl;
  float v;

  csv_fields_init (&it, line, len);
  while (csv_fields_next (&it, &f, &fl, NULL)) {
    if (fl > 0 && csv_field_parse_float (f, fl, &v) == CSV_ERR_NOT_NUMERIC)
      return 1;
  }
  return 0;
}

/* Compares a field (with "" escapes if quoted == 1) to a NUL-terminated
 * name, optionally ignoring ASCII case. */
static int
csv_field_equal (const char *f, size_t fl, int quoted, const char *name, int ci)
{
  const char *end = f + fl;

  for (; f < end; f++, name++) {
    char a = *f, b = *name;

    if (b == '\0')
      return 0;
    if (ci) {
      if (a >= 'A' && a <= 'Z')
        a += 'a' - 'A';
      if (b >= 'A' && b <= 'Z')
        b += 'a' - 'A';
    }
    if (a != b)
      return 0;
    if (quoted == 1 && *f == '"' && f + 1 < end && f[1] == '"')
      f++;
  }
  return *name == '\0';
}

/**
 * csv_header_find_column:
 * @line: a header line
 * @len: its length
 * @name: column name, NUL-terminated, without quotes
 *
 * Fields are trimmed and unquoted as csv_fields_next () does.  An exact
 * match wins; failing that, the first match ignoring ASCII case.
 *
 * Returns: the column index, or -1 if no field is @name.
 */
int
csv_header_find_column (const char *line, size_t len, const char *name)
{
  CsvFieldIter it;
  const char *f;
  size_t fl;
  int i, q, ci;

  if (!line || !name)
    return -1;
  for (ci = 0; ci < 2; ci++) {
    csv_fields_init (&it, line, len);
    for (i = 0; csv_fields_next (&it, &f, &fl, &q); i++) {
      if (csv_field_equal (f, fl, q, name, ci))
        return i;
    }
  }
  return -1;
}

/* Generic (slow) handling of one complete line [line, le), le excluding the
 * terminator: the specification that the fast path of csv_parse_block ()
 * must agree with. */
static int
csv_line_value (const char *line, const char *le, int column, int n_columns,
    float *v, int *nf)
{
  const char *f;
  size_t fl;

  *nf = csv_line_count_fields (line, le - line);
  if (*nf == 0)
    return CSV_ERR_EMPTY_LINE;
  if (*nf <= column || (n_columns >= 0 && *nf != n_columns))
    return CSV_ERR_RAGGED;
  csv_line_get_field (line, le - line, column, &f, &fl, NULL);
  return csv_field_parse_float (f, fl, v);
}

/**
 * csv_parse_block:
 * @buf: bytes of the file, starting at the start of a line
 * @len: number of bytes
 * @at_eof: nonzero if @buf ends at the end of the file, so that a last
 *   line without "\n" is complete
 * @column: index of the field to read, from 0
 * @n_columns: fields every line must have, or -1 for any number (then a
 *   line needs only more than @column fields)
 * @out: (out): values, one per line
 * @max_out: room in @out
 * @res: (out): what was done, see #CsvBlockResult
 *
 * Parses the selected field of each complete line until the first bad
 * line, an incomplete last line or a full @out.  Line i of the call (from
 * 0) gave out[i], so the caller numbers lines by counting n_values.
 *
 * Chunked reading: keep buf[res->consumed .. len) (an incomplete line),
 * append the next read () after it and call again; if that tail fills the
 * whole buffer, the line is too long.  On an error, the bad line is at
 * buf + res->consumed with res->line_len bytes: report it, skip it and call
 * again.  A UTF-8 BOM at the start of the file must be skipped by the caller
 * (csv_bom_length ()).
 *
 * Fast path: fields before @column are skipped byte by byte up to ','; the
 * selected field is read with csv_parse_float () in place; the rest of the
 * line is found with memchr (n_columns < 0) or by counting ','.  Anything
 * unusual (quotes in skipped fields, blanks, errors, a missing "\n") falls
 * back to csv_line_value (), the generic splitter, so both agree.
 *
 * Returns: CSV_OK when all complete lines are consumed, CSV_FULL when @out
 * is full first, a line error (CSV_ERR_EMPTY_LINE, CSV_ERR_RAGGED,
 * CSV_ERR_NOT_NUMERIC, CSV_ERR_NOT_FINITE) or CSV_ERR_INVAL.
 */
int
csv_parse_block (const char *buf, size_t len, int at_eof, int column,
    int n_columns, float *out, size_t max_out, CsvBlockResult * res)
{
  const char *p = buf, *end = buf + len;
  size_t n = 0;
  int status = CSV_OK;

  if (!res || (!buf && len) || (!out && max_out) || column < 0 ||
      n_columns == 0 || (n_columns > 0 && column >= n_columns))
    return CSV_ERR_INVAL;
  memset (res, 0, sizeof (*res));

  while (p < end) {
    const char *line = p, *f = p, *q, *le, *after;
    float v;
    int i, r, nf;

    if (n == max_out) {
      status = CSV_FULL;
      break;
    }
    /* fast path */
    for (i = 0; i < column; i++) {
      while (f < end && *f != ',' && *f != '\n' && *f != '"')
        f++;
      if (f == end || *f != ',')
        goto slow;
      f++;
    }
    r = csv_parse_float (f, end, &v, &q);
    if (r != CSV_FLOAT_OK || q == end)
      goto slow;
    nf = column + 1;
    if (*q == '\n') {
      after = q + 1;
    } else if (*q == '\r' && q + 1 < end && q[1] == '\n') {
      after = q + 2;
    } else if (*q == ',') {
      if (n_columns < 0) {
        le = memchr (q, '\n', end - q);
        if (!le)
          goto slow;
        after = le + 1;
      } else {
        for (; q < end && *q != '\n' && *q != '"'; q++)
          nf += *q == ',';
        if (q == end || *q != '\n')
          goto slow;
        after = q + 1;
      }
    } else {
      goto slow;
    }
    if (n_columns >= 0 && nf != n_columns)
      goto slow;
    out[n++] = v;
    p = after;
    continue;

  slow:
    le = memchr (line, '\n', end - line);
    if (le) {
      after = le + 1;
    } else if (at_eof) {
      le = after = end;
    } else {
      break;                    /* incomplete line: need more data */
    }
    v = 0.0f;
    r = csv_line_value (line, le, column, n_columns, &v, &nf);
    if (r != CSV_OK) {
      res->line_len = after - line;
      res->n_fields = nf;
      /* only a non-finite cell has a value; the others leave v unset */
      res->value = r == CSV_ERR_NOT_FINITE ? v : 0.0f;
      status = r;
      break;
    }
    out[n++] = v;
    p = after;
  }
  res->consumed = p - buf;
  res->n_values = n;
  return status;
}

/* ---- a persistent pool of threads ---- */

struct _CsvPool
{
  pthread_mutex_t lock;
  pthread_cond_t work;          /* a run was posted, or quit */
  pthread_cond_t done;          /* the last task of a run finished */
  pthread_t *threads;
  int n_workers;                /* threads started (the caller is one more) */
  int quit;
  /* the current run, under lock */
  CsvPoolFunc func;
  void *data;
  int n_tasks, next, pending;
};

/* Takes tasks of the current run until none is left; called and returns
 * with the lock held.  func and data are read under the lock at each
 * claim, so a thread that wakes late cannot run a finished run's task. */
static void
csv_pool_drain (CsvPool * pool)
{
  while (pool->next < pool->n_tasks) {
    int i = pool->next++;
    CsvPoolFunc func = pool->func;
    void *data = pool->data;

    pthread_mutex_unlock (&pool->lock);
    func (data, i);
    pthread_mutex_lock (&pool->lock);
    if (--pool->pending == 0)
      pthread_cond_signal (&pool->done);
  }
}

static void *
csv_pool_worker (void *arg)
{
  CsvPool *pool = arg;

  pthread_mutex_lock (&pool->lock);
  for (;;) {
    while (!pool->quit && pool->next >= pool->n_tasks)
      pthread_cond_wait (&pool->work, &pool->lock);
    if (pool->quit)
      break;
    csv_pool_drain (pool);
  }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

/**
 * csv_pool_new:
 * @n_threads: threads that run tasks, the caller of csv_pool_run ()
 *   included; <= 0 for the online processors; at most CSV_POOL_MAX_THREADS
 *
 * Starts @n_threads - 1 threads that sleep until csv_pool_run () posts
 * work.  If the system refuses a thread, the pool has fewer.
 *
 * Returns: (transfer full) (nullable): the pool, NULL if out of memory
 */
CsvPool *
csv_pool_new (int n_threads)
{
  CsvPool *pool;
  int i;

  if (n_threads <= 0) {
    long n = sysconf (_SC_NPROCESSORS_ONLN);

    n_threads = n > 0 ? (int) (n < CSV_POOL_MAX_THREADS ? n :
        CSV_POOL_MAX_THREADS) : 1;
  }
  if (n_threads > CSV_POOL_MAX_THREADS)
    n_threads = CSV_POOL_MAX_THREADS;
  pool = calloc (1, sizeof (*pool));
  if (!pool)
    return NULL;
  pool->threads = calloc (n_threads, sizeof (pthread_t));
  if (!pool->threads || pthread_mutex_init (&pool->lock, NULL) != 0) {
    free (pool->threads);
    free (pool);
    return NULL;
  }
  pthread_cond_init (&pool->work, NULL);
  pthread_cond_init (&pool->done, NULL);
  for (i = 1; i < n_threads; i++) {
    if (pthread_create (&pool->threads[pool->n_workers], NULL,
            csv_pool_worker, pool) != 0)
      break;
    pool->n_workers++;
  }
  return pool;
}

/**
 * csv_pool_free:
 * @pool: (transfer full) (nullable): a pool, not running
 *
 * Stops and joins the threads.
 */
void
csv_pool_free (CsvPool * pool)
{
  int i;

  if (!pool)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->quit = 1;
  pthread_cond_broadcast (&pool->work);
  pthread_mutex_unlock (&pool->lock);
  for (i = 0; i < pool->n_workers; i++)
    pthread_join (pool->threads[i], NULL);
  pthread_cond_destroy (&pool->work);
  pthread_cond_destroy (&pool->done);
  pthread_mutex_destroy (&pool->lock);
  free (pool->threads);
  free (pool);
}

/**
 * csv_pool_threads:
 * @pool: (nullable): a pool
 *
 * Returns: the threads that run tasks, the caller included (1 for NULL)
 */
int
csv_pool_threads (const CsvPool * pool)
{
  return pool ? pool->n_workers + 1 : 1;
}

/**
 * csv_pool_run:
 * @pool: (nullable): a pool; NULL runs the tasks in the caller
 * @n_tasks: tasks
 * @func: called once with each index 0 .. @n_tasks - 1, in any order
 * @data: passed to @func
 *
 * Runs the tasks on the pool's threads and the calling one and returns
 * when all have returned.  One caller at a time per pool.
 */
void
csv_pool_run (CsvPool * pool, int n_tasks, CsvPoolFunc func, void *data)
{
  int i;

  if (n_tasks <= 0)
    return;
  if (!pool || pool->n_workers == 0 || n_tasks == 1) {
    for (i = 0; i < n_tasks; i++)
      func (data, i);
    return;
  }
  pthread_mutex_lock (&pool->lock);
  pool->func = func;
  pool->data = data;
  pool->n_tasks = n_tasks;
  pool->next = 0;
  pool->pending = n_tasks;
  pthread_cond_broadcast (&pool->work);
  csv_pool_drain (pool);
  while (pool->pending > 0)
    pthread_cond_wait (&pool->done, &pool->lock);
  pool->func = NULL;
  pool->data = NULL;
  pthread_mutex_unlock (&pool->lock);
}

/* ---- parallel block parsing ---- */

/* parts of at least this many bytes: a thread costs more than it saves on
 * less */
#define CSV_MIN_PART (32 * 1024)

/* Number of "\n" in [p, p + n): 16 byte counters that cannot wrap within
 * 255 rounds, a loop compilers turn into vector compares and adds. */
static size_t
csv_count_newlines (const char *p, size_t n)
{
  size_t c = 0, i;
  int j, k;

  while (n >= 16 * 255) {
    unsigned char acc[16];

    memset (acc, 0, sizeof (acc));
    for (k = 0; k < 255; k++, p += 16) {
      for (j = 0; j < 16; j++)
        acc[j] += p[j] == '\n';
    }
    for (j = 0; j < 16; j++)
      c += acc[j];
    n -= 16 * 255;
  }
  for (i = 0; i < n; i++)
    c += p[i] == '\n';
  return c;
}

typedef struct
{
  const char *buf;
  size_t len;
  int at_eof;
  float *out;
  size_t lines;                 /* lines that give a value or an error */
  size_t max_out;
  CsvBlockResult res;
  int status;
} CsvPart;

typedef struct
{
  CsvPart *parts;
  int column, n_columns;
} CsvPartJob;

static void
csv_part_count (void *data, int i)
{
  CsvPart *p = &((CsvPartJob *) data)->parts[i];

  p->lines = csv_count_newlines (p->buf, p->len);
  if (p->at_eof && p->len > 0 && p->buf[p->len - 1] != '\n')
    p->lines++;
}

static void
csv_part_parse (void *data, int i)
{
  CsvPartJob *job = data;
  CsvPart *p = &job->parts[i];

  p->status = csv_parse_block (p->buf, p->len, p->at_eof, job->column,
      job->n_columns, p->out, p->max_out, &p->res);
}

/**
 * csv_parse_block_pool:
 * @pool: (nullable): threads to use; NULL parses in the caller
 * @buf, @len, @at_eof, @column, @n_columns, @out, @max_out, @res: as for
 *   csv_parse_block ()
 *
 * csv_parse_block () on the threads of @pool: the status, @res and the
 * res->n_values values in @out are exactly those of csv_parse_block ()
 * with the same arguments; parts after the one that stopped may have
 * written @out past them (up to @max_out).  No scratch memory.
 *
 * Parts: [start_k, start_k+1) with start_k the first line start at or after
 * k len / T (T parts of at least 32 KiB, at most one per thread), so every
 * part but the last ends with "\n" and only the last sees @at_eof.  First
 * the "\n" of every part are counted at once: a part whose lines all give
 * values gives one per line, so if the parts before it did, its values
 * start at out + (lines before it).  Then the parts are parsed at once,
 * each into its place with room for its lines plus one (so an incomplete
 * last line still gives CSV_OK, as it would in one call) but never past
 * @max_out, which makes the part where @out fills stop with CSV_FULL where
 * one call would.  Joining in order, the first part that stopped early (a
 * bad line, @out full, an incomplete line) gives the status and @res,
 * offsets made relative to @buf; the parts after it are ignored.
 */
int
csv_parse_block_pool (CsvPool * pool, const char *buf, size_t len,
    int at_eof, int column, int n_columns, float *out, size_t max_out,
    CsvBlockResult * res)
{
  CsvPart parts[CSV_POOL_MAX_THREADS];
  CsvPartJob job;
  size_t start = 0, off = 0;
  int t, k, n_parse, n_threads = csv_pool_threads (pool);

  if ((size_t) n_threads > len / CSV_MIN_PART)
    n_threads = (int) (len / CSV_MIN_PART);
  if (n_threads <= 1)
    return csv_parse_block (buf, len, at_eof, column, n_columns, out,
        max_out, res);
  if (!res || !buf || (!out && max_out) || column < 0 || n_columns == 0 ||
      (n_columns > 0 && column >= n_columns))
    return CSV_ERR_INVAL;

  for (t = 0; t < n_threads && start < len; t++) {
    size_t end = t == n_threads - 1 ? len : (size_t) (t + 1) * len / n_threads;
    const char *nl;

    if (end < start)
      end = start;
    nl = end < len ? memchr (buf + end, '\n', len - end) : NULL;
    end = nl ? (size_t) (nl - buf) + 1 : len;
    parts[t].buf = buf + start;
    parts[t].len = end - start;
    parts[t].at_eof = end == len ? at_eof : 1;
    start = end;
  }
  k = t;
  job.parts = parts;
  job.column = column;
  job.n_columns = n_columns;
  /* the last part's count places nothing */
  csv_pool_run (pool, k - 1, csv_part_count, &job);

  for (n_parse = 0; n_parse < k && off < max_out; n_parse++) {
    CsvPart *p = &parts[n_parse];
    size_t room = max_out - off;

    p->out = out + off;
    p->max_out = n_parse < k - 1 && p->lines + 1 < room ? p->lines + 1 : room;
    if (n_parse < k - 1)
      off += p->lines;
  }
  csv_pool_run (pool, n_parse, csv_part_parse, &job);

  memset (res, 0, sizeof (*res));
  start = 0;
  off = 0;
  for (t = 0; t < k; t++) {
    CsvPart *p = &parts[t];

    if (t == n_parse) {
      /* out is full and text is left: what one call says at this point */
      res->consumed = start;
      res->n_values = off;
      return CSV_FULL;
    }
    if (p->status != CSV_OK || p->res.consumed < p->len) {
      /* a bad line, out full, or an incomplete last line */
      *res = p->res;
      res->consumed += start;
      res->n_values += off;
      return p->status;
    }
    start += p->len;
    off += p->res.n_values;
  }
  res->consumed = start;
  res->n_values = off;
  return CSV_OK;
}

size_t
csv_parse_block_mt_workspace_size (size_t len, int n_threads)
{
  if (n_threads < 1)
    n_threads = 1;
  if (n_threads > CSV_MT_MAX_THREADS)
    n_threads = CSV_MT_MAX_THREADS;
  /* a value needs a line of at least one byte, a part ends in a line end:
   * len + 1 values cover every part */
  return (len + (size_t) n_threads) * sizeof (float);
}

/**
 * csv_parse_block_mt:
 *
 * csv_parse_block_pool () on a pool of @n_threads (at most
 * CSV_POOL_MAX_THREADS) made for this call.  @workspace is no longer used,
 * but NULL still means one thread.
 */
int
csv_parse_block_mt (const char *buf, size_t len, int at_eof, int column,
    int n_columns, float *out, size_t max_out, CsvBlockResult * res,
    int n_threads, void *workspace)
{
  CsvPool *pool;
  int st;

  /* small blocks: threads cost more than they save */
  if (n_threads <= 1 || len < 64 * 1024 || workspace == NULL)
    return csv_parse_block (buf, len, at_eof, column, n_columns, out,
        max_out, res);
  pool = csv_pool_new (n_threads);
  st = csv_parse_block_pool (pool, buf, len, at_eof, column, n_columns, out,
      max_out, res);
  csv_pool_free (pool);
  return st;
}

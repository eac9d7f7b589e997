/* Test of kernels/csvparse: standalone, libc + libm only.
 *
 *   csvparse [--seed N] [--scale F]
 *
 * 1. csv_parse_float () against (float) strtod () in the "C" locale, bit for
 *    bit, and its stop pointer against strtod's end pointer, on random texts
 *    of many kinds (see gen_text ()).  Each text is passed with bytes after
 *    its end that would change the value if read.  Pass A uses a fixed seed,
 *    pass B a fresh one (printed; --seed replays it).  Pass C repeats pass A
 *    with a comma-decimal locale (de_DE, fr_FR, ...) set, if one exists, with
 *    the references still computed in the "C" locale.
 * 2. Fixed cases for the field splitter, header detection and column search.
 * 3. csv_parse_block () on random files with good and bad lines, read in
 *    random chunk sizes as a GStreamer source would, against the expected
 *    value or error of every line.
 * 4. The thread pool, and csv_parse_block_mt () and csv_parse_block_pool ()
 *    against csv_parse_block () on random files.
 *
 * Exit status 0 on success, 1 on any failure.
 */

#include "../../../kernels/csvparse.h"
#include "numtext.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* *INDENT-OFF* */
static const char *const test_locales[] = {
  "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8",
  "nl_NL.UTF-8", "ru_RU.UTF-8", "it_IT.UTF-8", "es_ES.UTF-8", NULL
};
/* *INDENT-ON* */

static int failures;
static const char *test_locale; /* comma-decimal locale, or NULL */

/* ---- text generators ---- */

enum
{
  K_DIGITS,                     /* random digits, point, zeros, exponent */
  K_FLOAT_G,                    /* random float bits, %.6g .. %.12g */
  K_DOUBLE_G,                   /* random double bits, %.15g .. %.20g */
  K_SHORTEST,                   /* shortest round-trip text of a double */
  K_ECG,                        /* ECG-like values: %.17g of floats, %.3f */
  K_FLOAT_MID,                  /* midpoints between adjacent floats */
  K_DOUBLE_MID,                 /* midpoints between adjacent doubles */
  K_SUBNORMAL,                  /* float and double subnormals */
  K_HUGE,                       /* near FLT_MAX, DBL_MAX, overflow */
  K_LONG,                       /* 700+ digit exact midpoints +- sticky */
  K_FUZZ,                       /* short random texts, special words */
  K_N
};

/* *INDENT-OFF* */
static const NumTextKind kinds[K_N] = {
  { "random digits",      280 },
  { "float %.Ng",          80 },
  { "double %.Ng",         80 },
  { "shortest repr",       40 },
  { "ECG 17g/3f/6f",      150 },
  { "float midpoints",    110 },
  { "double midpoints",   110 },
  { "subnormals",          40 },
  { "huge/overflow",       30 },
  { "long (>800 digits)",   1 },
  { "fuzz/special",        79 },
};
/* *INDENT-ON* */

static void
gen_text (Rng * r, int kind, char *b, size_t cap)
{
  static const char alpha[] = "0123456789.eE+-nNaAiIfFtTyY()_ x";
  static const char *const words[] = {
    "nan", "NaN", "-nan", "+NAN", "nan()", "nan(123)", "nan(abc_9)",
    "nan(", "nan(1", "nan(1 2)", "inf", "-inf", "+Inf", "INF", "infinity",
    "-Infinity", "INFINITY", "infin", "infinit", "infinityx", "in", "na",
    "", "-", "+", ".", "-.", "+.e1", ".e1", "e5", "1e", "1e+", "1e-", "1.e5",
    ".5e-3", "5.", "-0", "+0", "-0.0e99999", "0e-99999", "00000", "0.000",
    "1e99999999999999999999", "1e-99999999999999999999", "x1", "--1",
    "+-1", "1..2", "1.2.3", "1e5e5", "1e+-5", "4.9406564584124654e-324",
    "2.4703282292062327e-324", "2.4703282292062328e-324",
    "1.7976931348623157e308", "1.7976931348623158e308",
    "1.7976931348623159e308", "3.4028234663852886e38",
    "3.4028235677973366e38", "3.4028235677973367e38", "1.4e-45",
    "7.006492321624085e-46", "7.006492321624086e-46",
    "9007199254740993", "9007199254740992.5", "123456789012345678901234567",
    "0.000000000000000000000000000001", "1000000000000000000000000000000",
    "2.2250738585072011e-308", "2.2250738585072012e-308", NULL
  };
  double d;
  float f;
  int i, n, k;

  switch (kind) {
    case K_DIGITS:
      gen_digits (r, b, 40, 0);
      break;
    case K_FLOAT_G:
      f = rng_float_bits (r);
      sprintf (b, "%.*g", 6 + (int) rng_below (r, 7), f);
      break;
    case K_DOUBLE_G:
      d = rng_below (r, 2) ? rng_double_bits (r) : rng_scaled (r, 120);
      sprintf (b, "%.*g", 15 + (int) rng_below (r, 6), d);
      break;
    case K_SHORTEST:
      d = rng_below (r, 2) ? rng_double_bits (r) : rng_scaled (r, 80);
      gen_shortest (rng_below (r, 2) ? d : (double) (float) d, b);
      break;
    case K_ECG:
      gen_ecg (r, b, NUM_TEXT_FLOAT_SHORTEST);
      break;
    case K_FLOAT_MID:{
      double mid = rng_float_midpoint (r);

      if (rng_below (r, 2)) {
        long double lm = rng_beside_midpoint (r, mid);

        /* and one ulp of the long double off, at times */
        if (rng_below (r, 2))
          lm = nextafterl (lm, rng_below (r, 2) ? 0 : INFINITY);
        sprintf (b, "%.*Lg", 17 + (int) rng_below (r, 30), lm);
        return;
      }
      switch (rng_below (r, 4)) {
        case 0:
          break;
        case 1:
          mid = nextafter (mid, 0);
          break;
        case 2:
          mid = nextafter (mid, INFINITY);
          break;
        default:
          sprintf (b, "%.*g", 9 + (int) rng_below (r, 3), mid);
          return;
      }
      sprintf (b, "%.*g", 17 + (int) rng_below (r, 40), mid);
      break;
    }
    case K_DOUBLE_MID:{
      double a, c;
      long double mid;

      a = fabs (rng_below (r, 4) ? rng_scaled (r, 100) : rng_double_bits (r));
      c = nextafter (a, INFINITY);
      if (!isfinite (c))
        c = a, a = nextafter (c, 0);
      mid = ((long double) a + (long double) c) / 2;    /* exact */
      if (rng_below (r, 3) == 0)
        mid = nextafterl (mid, rng_below (r, 2) ? 0 : INFINITY);
      n = rng_below (r, 3) ? 17 + rng_below (r, 10) : 27 + rng_below (r, 60);
      if (rng_below (r, 2))
        sprintf (b, "%.*Lg", n, mid);
      else
        sprintf (b, "%.*Le", n, mid);
      break;
    }
    case K_SUBNORMAL:
      if (rng_below (r, 2)) {
        f = rng_float_subnormal (r);
        sprintf (b, "%.*g", 4 + (int) rng_below (r, 10), f);
      } else if (rng_below (r, 2)) {
        uint64_t u = rng_next (r) & 0x800FFFFFFFFFFFFFULL;

        memcpy (&d, &u, 8);
        sprintf (b, "%.*g", 4 + (int) rng_below (r, 16), d);
      } else {
        /* around the smallest float subnormal and its half */
        d = ldexp (1.0 + rng_unit (r), -151 + (int) rng_below (r, 4));
        sprintf (b, "%.*g", 6 + (int) rng_below (r, 20), d);
      }
      break;
    case K_HUGE:
      gen_huge (r, b, 1, -350, 700, 290);
      break;
    case K_LONG:{
      double a;
      long double mid;

      /* exact midpoint of two doubles: up to 767 significant digits */
      a = rng_below (r, 2) ? ldexp (1.0 + rng_unit (r), -1022) :
          ldexp (rng_unit (r), -1022);
      mid = ((long double) a + (long double) nextafter (a, 1)) / 2;
      k = sprintf (b, "%.1100Lf", mid);
      while (k > 1 && b[k - 1] == '0')
        k--;
      b[k] = '\0';
      if (rng_below (r, 2) && (size_t) k + 1200 < cap) {
        /* move off the midpoint by a digit far beyond 800 */
        n = 200 + rng_below (r, 800);
        for (i = 0; i < n; i++)
          b[k++] = '0';
        b[k++] = '1' + rng_below (r, 9);
        b[k] = '\0';
      }
      break;
    }
    default:
      gen_fuzz (r, b, words, alpha, 15);
      /* no leading blank (fields are trimmed before parsing) and no hex,
       * which strtod accepts and the CSV reader does not */
      if (b[0] == ' ' || (b[0] == 'x' || b[0] == 'X'))
        b[0] = '7';
      for (i = 0; b[i]; i++) {
        if ((b[i] == 'x' || b[i] == 'X') && i > 0 && b[i - 1] == '0')
          b[i] = '5';
      }
      break;
  }
}

/* ---- float parser comparison ---- */

typedef struct
{
  char *pool;                   /* texts, NUL-separated */
  size_t used, cap;
  size_t *off;
  int *kind;
  float *ref;
  double *dref;
  size_t *stop;                 /* strtod's end - text */
  size_t n, ncap;
} Batch;

static void
batch_add (Batch * bt, const char *s, int kind)
{
  size_t l = strlen (s) + 1;

  if (bt->used + l > bt->cap) {
    bt->cap = (bt->cap + l) * 2;
    bt->pool = realloc (bt->pool, bt->cap);
  }
  if (bt->n == bt->ncap) {
    bt->ncap = bt->ncap ? bt->ncap * 2 : 1024;
    bt->off = realloc (bt->off, bt->ncap * sizeof (size_t));
    bt->kind = realloc (bt->kind, bt->ncap * sizeof (int));
    bt->ref = realloc (bt->ref, bt->ncap * sizeof (float));
    bt->dref = realloc (bt->dref, bt->ncap * sizeof (double));
    bt->stop = realloc (bt->stop, bt->ncap * sizeof (size_t));
  }
  if (!bt->pool || !bt->off || !bt->kind || !bt->ref || !bt->dref || !bt->stop) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  memcpy (bt->pool + bt->used, s, l);
  bt->off[bt->n] = bt->used;
  bt->kind[bt->n] = kind;
  bt->used += l;
  bt->n++;
}

/* the same bits, or NaNs of the same sign */
static int
same_float (float a, float b)
{
  if (isnan (a) || isnan (b))
    return isnan (a) && isnan (b) && !signbit (a) == !signbit (b);
  return same_float_bits (a, b);
}

static int
same_double (double a, double b)
{
  uint64_t x, y;

  if (isnan (a) || isnan (b))
    return isnan (a) && isnan (b) && !signbit (a) == !signbit (b);
  memcpy (&x, &a, 8);
  memcpy (&y, &b, 8);
  return x == y;
}

static size_t n_compared, n_mismatch, kind_count[K_N], kind_bad[K_N];

/* References in the "C" locale, then csv_parse_float () in the current
 * test locale (if any). */
static void
batch_check (Batch * bt)
{
  char scratch[8192];
  size_t i;

  for (i = 0; i < bt->n; i++) {
    const char *s = bt->pool + bt->off[i];
    char *e;
    double d = strtod (s, &e);

    bt->ref[i] = (float) d;
    bt->dref[i] = d;
    bt->stop[i] = e - s;
  }
  if (test_locale)
    setlocale (LC_ALL, test_locale);
  for (i = 0; i < bt->n; i++) {
    const char *s = bt->pool + bt->off[i], *stop, *dstop, *t = scratch;
    size_t l = strlen (s), so, dso;
    float got = 12345.0f, want = bt->ref[i];
    double dgot = 12345.0, dwant = bt->dref[i];
    int r, dr, want_r, dwant_r, ok;

    if (l + 8 > sizeof (scratch)) {
      /* long texts are parsed in place */
      t = s;
    } else {
      /* bytes after the end that would change the value if read */
      memcpy (scratch, s, l);
      memcpy (scratch + l, "17e1.5", 7);
    }
    r = csv_parse_float (t, t + l, &got, &stop);
    so = stop - t;
    dr = csv_parse_double (t, t + l, &dgot, &dstop);
    dso = dstop - t;
    if (bt->stop[i] == 0) {
      want_r = dwant_r = CSV_FLOAT_NONE;
    } else {
      want_r = isfinite (want) ? CSV_FLOAT_OK : CSV_FLOAT_NOT_FINITE;
      dwant_r = isfinite (dwant) ? CSV_FLOAT_OK : CSV_FLOAT_NOT_FINITE;
    }
    /* float: the required result; double: a stronger check that the
     * decimal -> double step alone is exact */
    ok = r == want_r && so == bt->stop[i] &&
        (r == CSV_FLOAT_NONE || same_float (got, want)) &&
        dr == dwant_r && dso == bt->stop[i] &&
        (dr == CSV_FLOAT_NONE || same_double (dgot, dwant));
    n_compared++;
    kind_count[bt->kind[i]]++;
    if (!ok) {
      n_mismatch++;
      kind_bad[bt->kind[i]]++;
      if (n_mismatch <= 20)
        printf ("  MISMATCH [%s] \"%.80s\"%s: want %a (%a) r=%d stop=%zu,"
            " got %a (%a) r=%d/%d stop=%zu/%zu\n", kinds[bt->kind[i]].name,
            s, l > 80 ? "..." : "", want, dwant, want_r, bt->stop[i], got,
            dgot, r, dr, so, dso);
    }
  }
  if (test_locale)
    setlocale (LC_ALL, "C");
  bt->n = 0;
  bt->used = 0;
}

static void
float_pass (const char *name, uint64_t seed, size_t count)
{
  static char text[16384];
  Rng r = { seed };
  Batch bt;
  size_t i, before = n_compared, bad_before = n_mismatch;
  int k;
  clock_t t0 = clock ();

  memset (&bt, 0, sizeof (bt));
  for (i = 0; i < count; i++) {
    k = rng_pick_kind (&r, kinds, K_N);
    gen_text (&r, k, text, sizeof (text));
    batch_add (&bt, text, k);
    if (bt.n == 65536)
      batch_check (&bt);
  }
  batch_check (&bt);
  printf ("float pass %s: seed %llu, locale %s: %zu texts, %zu mismatches"
      " (%.1f s)\n", name, (unsigned long long) seed,
      test_locale ? test_locale : "C", n_compared - before,
      n_mismatch - bad_before, (double) (clock () - t0) / CLOCKS_PER_SEC);
  free (bt.pool);
  free (bt.off);
  free (bt.kind);
  free (bt.ref);
  free (bt.dref);
  free (bt.stop);
  if (n_mismatch != bad_before)
    failures++;
}

/* ---- row scanner ---- */

#define CHECK(cond) do {                                                    \
    if (!(cond)) {                                                          \
      printf ("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
      failures++;                                                           \
    }                                                                       \
  } while (0)

static int
field_is (const char *line, int index, const char *want, int want_q)
{
  const char *f;
  size_t fl;
  int q;

  if (!csv_line_get_field (line, strlen (line), index, &f, &fl, &q))
    return want == NULL;
  return want && fl == strlen (want) && memcmp (f, want, fl) == 0 &&
      q == want_q;
}

static void
test_rows (void)
{
  const char *l;
  float v = 0;
  int before = failures;

  l = "\xEF\xBB\xBF time , \"MLII\",'V5',\"a,\"\"b\"\"\" ,\r\n";
  CHECK (csv_bom_length (l, strlen (l)) == 3);
  CHECK (csv_line_count_fields (l, strlen (l)) == 5);
  CHECK (field_is (l, 0, "time", 0));
  CHECK (field_is (l, 1, "MLII", 1));
  CHECK (field_is (l, 2, "V5", 2));
  CHECK (field_is (l, 3, "a,\"\"b\"\"", 1));
  CHECK (field_is (l, 4, "", 0));
  CHECK (field_is (l, 5, NULL, 0));
  CHECK (csv_line_is_header (l, strlen (l)) == 1);
  CHECK (csv_header_find_column (l, strlen (l), "time") == 0);
  CHECK (csv_header_find_column (l, strlen (l), "MLII") == 1);
  CHECK (csv_header_find_column (l, strlen (l), "V5") == 2);
  CHECK (csv_header_find_column (l, strlen (l), "a,\"b\"") == 3);
  CHECK (csv_header_find_column (l, strlen (l), "mlii") == 1);
  CHECK (csv_header_find_column (l, strlen (l), "V") == -1);
  CHECK (csv_header_find_column (l, strlen (l), "") == 4);
  l = "'sample #','MLII','V5'\n";
  CHECK (csv_line_is_header (l, strlen (l)) == 1);
  CHECK (csv_header_find_column (l, strlen (l), "V5") == 2);
  CHECK (csv_header_find_column (l, strlen (l), "sample #") == 0);
  l = "mlii,MLII\n";
  CHECK (csv_header_find_column (l, strlen (l), "MLII") == 1);
  l = "0,-0.145,-0.065\r\n";
  CHECK (csv_line_is_header (l, strlen (l)) == 0);
  CHECK (csv_line_count_fields (l, strlen (l)) == 3);
  l = " 1.5 , \"2.5\", nan, -inf,,\n";
  CHECK (csv_line_is_header (l, strlen (l)) == 0);
  l = "1.5,2.5x\n";
  CHECK (csv_line_is_header (l, strlen (l)) == 1);
  l = "1.5,0x10\n";
  CHECK (csv_line_is_header (l, strlen (l)) == 1);
  CHECK (csv_line_count_fields ("", 0) == 0);
  CHECK (csv_line_count_fields (" \t\r\n", 4) == 0);
  CHECK (csv_line_count_fields (",", 1) == 2);
  CHECK (csv_line_is_header (" \r\n", 3) == 0);
  CHECK (csv_field_parse_float (" -1.25e1 ", 9, &v) == CSV_OK && v == -12.5f);
  CHECK (csv_field_parse_float ("1e39", 4, &v) == CSV_ERR_NOT_FINITE &&
      isinf (v));
  CHECK (csv_field_parse_float ("", 0, &v) == CSV_ERR_NOT_NUMERIC);
  CHECK (csv_field_parse_float ("1 2", 3, &v) == CSV_ERR_NOT_NUMERIC);
  CHECK (strcmp (csv_strerror (CSV_ERR_RAGGED), "wrong number of fields")
      == 0);
  printf ("row scanner: %s\n", failures == before ? "ok" : "FAILED");
}

/* ---- block parser ---- */

typedef struct
{
  int status;
  float value;
} Expect;

typedef struct
{
  char *text;
  size_t len, cap;
  Expect *exp;
  size_t n, ncap;
} File;

static void
file_put (File * fl, const char *s)
{
  size_t l = strlen (s);

  if (fl->len + l + 1 > fl->cap) {
    fl->cap = (fl->cap + l + 1) * 2;
    fl->text = realloc (fl->text, fl->cap);
    if (!fl->text)
      exit (1);
  }
  memcpy (fl->text + fl->len, s, l);
  fl->len += l;
}

static void
file_expect (File * fl, int status, float value)
{
  if (fl->n == fl->ncap) {
    fl->ncap = fl->ncap ? fl->ncap * 2 : 1024;
    fl->exp = realloc (fl->exp, fl->ncap * sizeof (Expect));
    if (!fl->exp)
      exit (1);
  }
  fl->exp[fl->n].status = status;
  fl->exp[fl->n].value = value;
  fl->n++;
}

/* A number as some CSV writer would print it, maybe with blanks/quotes. */
static void
gen_cell (Rng * r, char *b, float *value, int decorate)
{
  char num[512];
  int k = rng_below (r, 10);

  if (k < 6)
    gen_text (r, K_ECG, num, sizeof (num));
  else if (k < 8)
    gen_text (r, K_DIGITS, num, sizeof (num));
  else
    gen_text (r, K_FLOAT_G, num, sizeof (num));
  *value = (float) strtod (num, NULL);
  if (!isfinite (*value))
    strcpy (num, "0"), *value = 0;
  if (decorate && rng_below (r, 8) == 0)
    sprintf (b, "%s\"%s\"%s", rng_below (r, 2) ? " " : "", num,
        rng_below (r, 2) ? "\t" : "");
  else if (decorate && rng_below (r, 8) == 0)
    sprintf (b, " %s  ", num);
  else
    strcpy (b, num);
}

static void
gen_other_cell (Rng * r, char *b)
{
  float dummy;

  switch (rng_below (r, 8)) {
    case 0:
      strcpy (b, "N");
      break;
    case 1:
      strcpy (b, "\"a, \"\"quoted\"\" note\"");
      break;
    case 2:
      strcpy (b, "");
      break;
    default:
      gen_cell (r, b, &dummy, 0);
      break;
  }
}

/* Builds a file of n lines with n_cols fields, value in column col; a few
 * lines are bad.  When n_columns (the parser's argument) is -1, lines with
 * other field counts are fine as long as column exists. */
static void
gen_file (Rng * r, File * fl, size_t n, int n_cols, int col, int n_columns,
    int bad_rate, int decorate)
{
  char cell[1024], line[8192];
  size_t i;
  int j;

  for (i = 0; i < n; i++) {
    int kind = rng_below (r, 1000) < (uint32_t) bad_rate ?
        1 + rng_below (r, 4) : 0, nf = n_cols, k = 0;
    float v = 0;
    const char *eol = decorate && rng_below (r, 3) == 0 ? "\r\n" : "\n";

    if (kind == 2 && n_columns < 0 && col == 0)
      kind = 3;                 /* column 0 always exists */
    if (kind == 2) {
      /* ragged: a field count that is wrong, or too small for col */
      do
        nf = 1 + rng_below (r, n_cols + 2);
      while (n_columns >= 0 ? nf == n_cols : nf > col);
    } else if (n_columns < 0 && decorate) {
      nf = col + 1 + rng_below (r, 3);
    }
    line[0] = '\0';
    if (kind == 1) {
      strcpy (line, rng_below (r, 2) ? "" : " \t ");
      file_expect (fl, CSV_ERR_EMPTY_LINE, 0);
    } else {
      for (j = 0; j < nf; j++) {
        if (j == col && kind == 3) {
          static const char *const bad[] = {
            "abc", "1.5.3", "", "--1", "1e", "0x10", "1 2", "1,5e", "N"
          };
          strcpy (cell, bad[rng_below (r, 9)]);
          /* "1,5e" adds a field; keep the count right */
          if (cell[1] == ',')
            strcpy (cell, "1;5");
          /* a lone empty field would make an empty line */
          if (nf == 1 && cell[0] == '\0')
            strcpy (cell, "-");
        } else if (j == col && kind == 4) {
          static const char *const nf_[] = {
            "nan", "-inf", "1e39", "Infinity", "-NaN", "1e400"
          };
          strcpy (cell, nf_[rng_below (r, 6)]);
          v = (float) strtod (cell, NULL);
        } else if (j == col) {
          gen_cell (r, cell, &v, decorate);
        } else if (decorate && kind != 2) {
          gen_other_cell (r, cell);
        } else {
          float dummy;

          gen_cell (r, cell, &dummy, 0);
        }
        k += sprintf (line + k, "%s%s", j ? "," : "", cell);
      }
      if (kind == 0)
        file_expect (fl, CSV_OK, v);
      else if (kind == 2)
        file_expect (fl, CSV_ERR_RAGGED, 0);
      else if (kind == 3)
        file_expect (fl, CSV_ERR_NOT_NUMERIC, 0);
      else
        file_expect (fl, CSV_ERR_NOT_FINITE, v);
    }
    file_put (fl, line);
    /* the last line sometimes has no terminator (unless it is empty: then
     * it would not exist) */
    if (i + 1 < n || line[0] == '\0' || rng_below (r, 2))
      file_put (fl, eol);
  }
}

/* Reads the file as a source element would: a buffer of cap bytes, reads
 * of random size appended after the kept tail, random room in out. */
static int
block_run (Rng * r, File * fl, int col, int n_columns, size_t cap)
{
  char *buf = malloc (cap);
  float out[300];
  size_t pos = 0, have = 0, got = 0;
  int eof = 0, bad = 0;

  if (!buf)
    exit (1);
  while (!eof || have > 0) {
    size_t off = 0, want = 1 + rng_below (r, (uint32_t) cap);

    if (want > cap - have)
      want = cap - have;
    if (want > fl->len - pos)
      want = fl->len - pos;
    memcpy (buf + have, fl->text + pos, want);
    pos += want;
    have += want;
    eof = pos == fl->len;
    for (;;) {
      CsvBlockResult res;
      size_t room = 1 + rng_below (r, 300), i;
      int st = csv_parse_block (buf + off, have - off, eof, col, n_columns,
          out, room, &res);

      for (i = 0; i < res.n_values; i++, got++) {
        if (got >= fl->n || fl->exp[got].status != CSV_OK ||
            !same_float (out[i], fl->exp[got].value)) {
          if (bad++ < 5)
            printf ("  line %zu: got value %.9g\n", got + 1, out[i]);
        }
      }
      off += res.consumed;
      if (st < 0) {
        if (got >= fl->n || fl->exp[got].status != st ||
            (st == CSV_ERR_NOT_FINITE &&
                !same_float (res.value, fl->exp[got].value))) {
          if (bad++ < 5)
            printf ("  line %zu: got %s (expected %s)\n", got + 1,
                csv_strerror (st), got < fl->n ?
                csv_strerror (fl->exp[got].status) : "nothing");
        }
        if (st == CSV_ERR_INVAL || res.line_len == 0) {
          bad++;
          break;
        }
        got++;
        off += res.line_len;
        continue;
      }
      if (st == CSV_OK)
        break;
    }
    memmove (buf, buf + off, have - off);
    have -= off;
    if (eof && have > 0) {
      printf ("  %zu bytes left at end of file\n", have);
      bad++;
      break;
    }
    if (have == cap) {
      printf ("  line too long for buffer of %zu\n", cap);
      bad++;
      break;
    }
  }
  if (got != fl->n) {
    printf ("  %zu lines seen, %zu expected\n", got, fl->n);
    bad++;
  }
  free (buf);
  return bad;
}

static void
test_blocks (uint64_t seed)
{
  Rng r = { seed };
  int t, before = failures;
  size_t lines = 0;

  for (t = 0; t < 300; t++) {
    File fl;
    int n_cols = 1 + rng_below (&r, 4), col = rng_below (&r, n_cols);
    int n_columns = rng_below (&r, 2) ? n_cols : -1;
    int decorate = rng_below (&r, 2), bad_rate = rng_below (&r, 3) * 20;
    size_t n = 1 + rng_below (&r, 3000), cap;

    memset (&fl, 0, sizeof (fl));
    gen_file (&r, &fl, n, n_cols, col, n_columns, bad_rate, decorate);
    /* the longest line must fit: 8 KiB lines are never generated */
    cap = rng_below (&r, 2) ? 8192 + rng_below (&r, 8192) : fl.len + 1;
    if (test_locale)
      setlocale (LC_ALL, test_locale);
    if (block_run (&r, &fl, col, n_columns, cap)) {
      printf ("  block test %d (n_cols %d col %d n_columns %d decorate %d)"
          " FAILED\n", t, n_cols, col, n_columns, decorate);
      failures++;
    }
    if (test_locale)
      setlocale (LC_ALL, "C");
    lines += fl.n;
    free (fl.text);
    free (fl.exp);
  }
  printf ("block parser: seed %llu, locale %s: 300 files, %zu lines: %s\n",
      (unsigned long long) seed, test_locale ? test_locale : "C", lines,
      failures == before ? "ok" : "FAILED");
}

/* csv_parse_block_mt () equals csv_parse_block (): same status, result and
 * values, for random files (bad lines included), thread counts, room in
 * the output and at_eof, including cuts inside a line. */
static void
test_blocks_mt (uint64_t seed)
{
  Rng r = { seed };
  int t, before = failures;

  for (t = 0; t < 200; t++) {
    File fl;
    int n_cols = 1 + rng_below (&r, 3), col = rng_below (&r, n_cols);
    int n_columns = rng_below (&r, 2) ? n_cols : -1;
    int threads = 1 + rng_below (&r, 8), eof = rng_below (&r, 2), st1, st2;
    size_t n = 5000 + rng_below (&r, 20000), room, len;
    float *a, *b;
    void *ws;
    CsvBlockResult r1, r2;

    memset (&fl, 0, sizeof (fl));
    gen_file (&r, &fl, n, n_cols, col, n_columns, rng_below (&r, 2) ? 0 : 1,
        rng_below (&r, 2));
    len = fl.len - rng_below (&r, 50 < fl.len ? 50 : (uint32_t) fl.len);
    room = rng_below (&r, 2) ? n + 10 : 1 + rng_below (&r, (uint32_t) n);
    a = malloc ((room + 1) * sizeof (float));
    b = malloc ((room + 1) * sizeof (float));
    ws = malloc (csv_parse_block_mt_workspace_size (len, threads));
    st1 = csv_parse_block (fl.text, len, eof, col, n_columns, a, room, &r1);
    st2 = csv_parse_block_mt (fl.text, len, eof, col, n_columns, b, room,
        &r2, threads, ws);
    if (st1 != st2 || memcmp (&r1, &r2, sizeof (r1)) != 0 ||
        memcmp (a, b, r1.n_values * sizeof (float)) != 0) {
      printf ("  mt case %d (%d threads, room %zu): status %d/%d, values "
          "%zu/%zu, consumed %zu/%zu\n", t, threads, room, st1, st2,
          r1.n_values, r2.n_values, r1.consumed, r2.consumed);
      failures++;
    }
    free (a);
    free (b);
    free (ws);
    free (fl.text);
    free (fl.exp);
  }
  printf ("parallel block parser: seed %llu, 200 files: %s\n",
      (unsigned long long) seed, failures == before ? "ok" : "FAILED");
}

/* csv_parse_block_pool () on pools kept across calls equals
 * csv_parse_block (): same status, result and values, for random files
 * (no bad line, a few, many), pool sizes, room in the output (plenty,
 * random, and exactly the values the text holds, give or take one, so
 * that @out fills at a part boundary), at_eof, and cuts inside a line.
 * Nothing is written past the room. */
static void
test_blocks_pool (uint64_t seed)
{
  static const int sizes[] = { 1, 2, 3, 5, 8, 16 };
  static const int bad_rates[] = { 0, 1, 20, 300 };
  CsvPool *pools[6];
  Rng r = { seed };
  int t, i, before = failures;

  for (i = 0; i < 6; i++) {
    pools[i] = csv_pool_new (sizes[i]);
    CHECK (pools[i] != NULL && csv_pool_threads (pools[i]) >= 1 &&
        csv_pool_threads (pools[i]) <= sizes[i]);
  }
  for (t = 0; t < 150; t++) {
    File fl;
    CsvPool *pool = pools[rng_below (&r, 6)];
    int n_cols = 1 + rng_below (&r, 3), col = rng_below (&r, n_cols);
    int n_columns = rng_below (&r, 2) ? n_cols : -1;
    int eof = rng_below (&r, 2), st1, st2;
    size_t n = 2000 + rng_below (&r, 25000), room, len;
    float *a, *b;
    CsvBlockResult r1, r2;
    const float canary = -12345.0f;

    memset (&fl, 0, sizeof (fl));
    gen_file (&r, &fl, n, n_cols, col, n_columns, bad_rates[rng_below (&r,
                4)], rng_below (&r, 2));
    len = fl.len - rng_below (&r, 50 < fl.len ? 50 : (uint32_t) fl.len);
    switch (rng_below (&r, 4)) {
      case 0:
        room = n + 10;
        break;
      case 1:
        room = rng_below (&r, (uint32_t) n + 1);
        break;
      default:
        a = malloc ((n + 10) * sizeof (float));
        csv_parse_block (fl.text, len, eof, col, n_columns, a, n + 10, &r1);
        free (a);
        room = r1.n_values + rng_below (&r, 3);
        room = room > 0 ? room - 1 : 0;
        break;
    }
    a = malloc ((room + 1) * sizeof (float));
    b = malloc ((room + 1) * sizeof (float));
    b[room] = canary;
    st1 = csv_parse_block (fl.text, len, eof, col, n_columns, a, room, &r1);
    st2 = csv_parse_block_pool (pool, fl.text, len, eof, col, n_columns, b,
        room, &r2);
    if (st1 != st2 || memcmp (&r1, &r2, sizeof (r1)) != 0 ||
        memcmp (a, b, r1.n_values * sizeof (float)) != 0 ||
        memcmp (&b[room], &canary, sizeof (float)) != 0) {
      printf ("  pool case %d (%d threads, room %zu, len %zu, eof %d): "
          "status %d/%d, values %zu/%zu, consumed %zu/%zu, line_len "
          "%zu/%zu\n", t, csv_pool_threads (pool), room, len, eof, st1, st2,
          r1.n_values, r2.n_values, r1.consumed, r2.consumed, r1.line_len,
          r2.line_len);
      failures++;
    }
    free (a);
    free (b);
    free (fl.text);
    free (fl.exp);
  }
  for (i = 0; i < 6; i++)
    csv_pool_free (pools[i]);
  printf ("pooled block parser: seed %llu, 150 files: %s\n",
      (unsigned long long) seed, failures == before ? "ok" : "FAILED");
}

typedef struct
{
  int hits[64];
} PoolCount;

static void
pool_count_task (void *data, int index)
{
  ((PoolCount *) data)->hits[index]++;
}

/* csv_pool_run () runs every task once, round after round, with pools
 * of one thread (no thread started) to the maximum; NULL runs inline. */
static void
test_pool_run (void)
{
  static const int sizes[] = { 0, 1, 2, 7, CSV_POOL_MAX_THREADS,
    CSV_POOL_MAX_THREADS + 5
  };
  Rng r = { 77 };
  int i, round, k, before = failures;

  for (i = -1; i < 6; i++) {
    CsvPool *pool = i < 0 ? NULL : csv_pool_new (sizes[i]);

    CHECK (i < 0 || (pool != NULL &&
            csv_pool_threads (pool) <= CSV_POOL_MAX_THREADS));
    for (round = 0; round < 2000; round++) {
      PoolCount c;
      int n = rng_below (&r, 65);

      memset (&c, 0, sizeof (c));
      csv_pool_run (pool, n, pool_count_task, &c);
      for (k = 0; k < 64; k++) {
        if (c.hits[k] != (k < n)) {
          printf ("  pool of %d: round %d, task %d of %d ran %d times\n",
              csv_pool_threads (pool), round, k, n, c.hits[k]);
          failures++;
          break;
        }
      }
    }
    csv_pool_free (pool);
  }
  printf ("thread pool: %s\n", failures == before ? "ok" : "FAILED");
}

static void
test_block_fixed (void)
{
  const char *t = "1,2\n3,4\r\n\n5,x\n6\n7,8";
  CsvBlockResult res;
  float out[8];
  int st;

  st = csv_parse_block (t, strlen (t), 0, 1, 2, out, 8, &res);
  CHECK (st == CSV_ERR_EMPTY_LINE && res.n_values == 2 && out[0] == 2 &&
      out[1] == 4 && res.consumed == 9 && res.line_len == 1);
  t += 10;
  st = csv_parse_block (t, strlen (t), 0, 1, 2, out, 8, &res);
  CHECK (st == CSV_ERR_NOT_NUMERIC && res.n_values == 0 && res.line_len == 4);
  t += 4;
  st = csv_parse_block (t, strlen (t), 0, 1, 2, out, 8, &res);
  CHECK (st == CSV_ERR_RAGGED && res.n_fields == 1 && res.line_len == 2);
  t += 2;
  st = csv_parse_block (t, strlen (t), 0, 1, 2, out, 8, &res);
  CHECK (st == CSV_OK && res.n_values == 0 && res.consumed == 0);
  st = csv_parse_block (t, strlen (t), 1, 1, 2, out, 8, &res);
  CHECK (st == CSV_OK && res.n_values == 1 && out[0] == 8 && res.consumed == 3);
  st = csv_parse_block (t, strlen (t), 1, 2, 2, out, 8, &res);
  CHECK (st == CSV_ERR_INVAL);
  t = "1\n2\n3\n";
  st = csv_parse_block (t, 6, 0, 0, -1, out, 2, &res);
  CHECK (st == CSV_FULL && res.n_values == 2 && res.consumed == 4);
  t = "1e39\n";
  st = csv_parse_block (t, 5, 0, 0, -1, out, 2, &res);
  CHECK (st == CSV_ERR_NOT_FINITE && isinf (res.value));
}

int
main (int argc, char **argv)
{
  uint64_t fresh;
  size_t count = num_test_start (argc, argv, 3000000, &fresh, NULL);
  int i;

  test_rows ();
  test_block_fixed ();
  float_pass ("A (fixed seed)", 20240601, count);
  float_pass ("B (fresh seed)", fresh, count);
  test_blocks (20240601);
  test_blocks (fresh);
  test_blocks_mt (20240601);
  test_blocks_mt (fresh);
  test_pool_run ();
  test_blocks_pool (20240601);
  test_blocks_pool (fresh);

  for (i = 0; test_locales[i]; i++) {
    if (setlocale (LC_ALL, test_locales[i]) &&
        strcmp (localeconv ()->decimal_point, ".") != 0) {
      test_locale = test_locales[i];
      break;
    }
  }
  setlocale (LC_ALL, "C");
  if (test_locale) {
    double d;

    setlocale (LC_ALL, test_locale);
    /* the locale is live: libc strtod stops at the '.' */
    d = strtod ("1.5", NULL);
    setlocale (LC_ALL, "C");
    printf ("locale %s: decimal point is ',', strtod (\"1.5\") = %g there\n",
        test_locale, d);
    float_pass ("C (fixed seed)", 20240601 + 1, count / 3);
    test_blocks (20240601 + 1);
  } else {
    printf ("no comma-decimal locale installed: locale pass skipped (C and"
        " POSIX only)\n");
  }

  printf ("texts per kind:");
  for (i = 0; i < K_N; i++)
    printf ("%s %s %zu (%zu bad)", i ? "," : "", kinds[i].name,
        kind_count[i], kind_bad[i]);
  printf ("\nTOTAL: %zu texts compared with (float) strtod, %zu mismatches;"
      " %d failed checks\n", n_compared, n_mismatch, failures);
  return failures ? 1 : 0;
}

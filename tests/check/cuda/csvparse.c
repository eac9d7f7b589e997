/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * csv_parse_block_cuda against csv_parse_block.
 *
 * 1. Random blocks: 1 to 4 columns, one of them selected, n_columns fixed
 *    or -1, LF or CRLF per line, blanks around fields, blank lines, the
 *    last line with or without "\n", the text at every alignment.  Lines
 *    are clean numbers (%.17g, %.3f, shortest, random digits with
 *    exponents, up to 19 significant digits), long numbers (20 to 30
 *    digits), blank, or lines the device must leave to the CPU (quotes,
 *    nan, inf, overflow, text, ragged, a stray '\r', a BOM).  Per value
 *    line: the device's float has the bits of csv_parse_block () on that
 *    line alone, or is NaN (left to the CPU), which clean lines never
 *    are and the flagged kinds always are; n_cpu, first_cpu and
 *    first_cpu_offset match the NaN slots.  Per block: when n_cpu is 0
 *    the values are csv_parse_block ()'s over the block with empty lines
 *    skipped, and that parse met no other error.
 * 2. Fixed blocks: empty text, blank lines only, lines that are blank for
 *    the CPU but not for the device ("\r\r\n", a BOM), max_out smaller
 *    than the values, invalid arguments.
 * 3. The golden records in $ECG_SHARED_DATA (golden/ *_250.csv,
 *    mitdb/101.csv), every column: identical floats, nothing for the CPU.
 * 4. A timing on 5 million %.17g lines.
 * Exit 0 pass, 1 fail, 77 no device.
 */
#include "cudatest.h"
#include "csvparse.h"
#include "csvparse_cuda.h"
#include "numtext.h"

#define MAX_LINE 512

enum
{
  L_CLEAN,                      /* never left to the CPU */
  L_LONG,                       /* more than 19 digits: may be */
  L_BLANK,                      /* no value */
  L_FLAG,                       /* always left to the CPU */
  L_N
};

typedef struct
{
  int n_cols, column, n_columns;
} Shape;

typedef struct
{
  char *text;
  size_t len, cap;
  int *cat;                     /* per line */
  size_t *start;                /* per line: byte offset */
  size_t n_lines, lcap;
} Block;

static size_t cat_lines[L_N], cat_cpu[L_N];

static void
block_add (Block * b, const char *line, size_t len, int cat)
{
  if (b->len + len + 1 > b->cap) {
    b->cap = (b->len + len + 1) * 2;
    b->text = realloc (b->text, b->cap);
  }
  if (b->n_lines == b->lcap) {
    b->lcap = b->lcap ? b->lcap * 2 : 1024;
    b->cat = realloc (b->cat, b->lcap * sizeof (int));
    b->start = realloc (b->start, b->lcap * sizeof (size_t));
  }
  if (b->text == NULL || b->cat == NULL || b->start == NULL) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  memcpy (b->text + b->len, line, len);
  b->cat[b->n_lines] = cat;
  b->start[b->n_lines] = b->len;
  b->len += len;
  b->n_lines++;
}

static void
block_free (Block * b)
{
  free (b->text);
  free (b->cat);
  free (b->start);
}

static const char *
rand_blanks (VaeRng * r)
{
  static const char *const bl[] = { "", "", "", "", " ", "\t", "  ", " \t" };

  return bl[vae_rng_below (r, 8)];
}

/* a number of at most 19 significant digits, or 20 to 30 when long */
static void
gen_number (VaeRng * r, char *b, int long_digits)
{
  double d = (vae_rng_uniform (r) * 2 - 1) * 1.5;
  int k = 0, n, i, dp, style, sign;

  if (long_digits) {
    n = 20 + (int) vae_rng_below (r, 11);
    dp = (int) vae_rng_below (r, n);
    if (vae_rng_below (r, 2))
      b[k++] = '-';
    b[k++] = '1' + (char) vae_rng_below (r, 9);
    for (i = 1; i < n; i++) {
      if (i == dp)
        b[k++] = '.';
      b[k++] = '0' + (char) vae_rng_below (r, 10);
    }
    b[k] = '\0';
    return;
  }
  style = (int) vae_rng_below (r, 7);
  switch (style) {
    case NUM_TEXT_FLOAT_17G:
    case NUM_TEXT_17G:
    case NUM_TEXT_3F:
      num_text_print (b, style, d);
      break;
    case 3:
      sprintf (b, "%.*g", 1 + (int) vae_rng_below (r, 17),
          ldexp (d, (int) vae_rng_below (r, 120) - 60));
      break;
    case 4:
      sprintf (b, "%d", (int) vae_rng_below (r, 100000) - 50000);
      break;
    default:
      /* random digits, point anywhere, exponent, sign */
      n = 1 + (int) vae_rng_below (r, 19);
      dp = (int) vae_rng_below (r, n + 2);
      sign = (int) vae_rng_below (r, 3);
      if (sign < 2)
        b[k++] = "-+"[sign];
      for (i = 0; i < n; i++) {
        if (i == dp)
          b[k++] = '.';
        b[k++] = '0' + (char) vae_rng_below (r, 10);
      }
      if (dp == n)
        b[k++] = '.';
      if (vae_rng_below (r, 3) == 0)
        k += sprintf (b + k, "%c%d", vae_rng_below (r, 2) ? 'e' : 'E',
            (int) vae_rng_below (r, 61) - 30 - n);
      b[k] = '\0';
      break;
  }
}

/* a field that is not selected: no quote, comma, '\r' or "\n" */
static void
gen_other (VaeRng * r, char *b)
{
  static const char *const t[] = { "", "N", "abc", "12:00:01.5", "-", "x y",
    "nan", "'V1'", "1e", "inf"
  };

  if (vae_rng_below (r, 2))
    gen_number (r, b, 0);
  else
    strcpy (b, t[vae_rng_below (r, sizeof (t) / sizeof (t[0]))]);
}

/* One line of category cat into b (with its end); returns its length */
static size_t
gen_line (VaeRng * r, const Shape * sh, int cat, char *b)
{
  static const char *const specials[] = { "nan", "-inf", "Infinity", "NaN",
    "1e39", "-3.5e38", "340282356779733661637539395458142568448", "abc",
    "1.5x", "1e", "--1", "0x1A", "1 5", ".", "1.5.2", "+"
  };
  const char *eol = vae_rng_below (r, 3) == 0 ? "\r\n" : "\n";
  char num[160], f[160];
  int n_fields, variant = -1, i;
  size_t k = 0;

  if (cat == L_BLANK)
    return (size_t) sprintf (b, "%s%s", rand_blanks (r), eol);
  n_fields = sh->n_columns >= 0 ? sh->n_cols :
      sh->column + 1 + (int) vae_rng_below (r, 3);
  if (cat == L_FLAG) {
    /* 0 "num", 1 'num', 2 a quote in another field, 3 special text, 4 a
     * stray '\r', 5 ragged, 6 a BOM before field 0 */
    variant = (int) vae_rng_below (r, 7);
    if (variant == 2 && sh->column == 0 && !(sh->n_columns > 1))
      variant = 0;              /* no other field the device looks at */
    if (variant == 5) {
      if (sh->column > 0 && vae_rng_below (r, 2))
        n_fields = sh->column;  /* the selected field is missing */
      else if (sh->n_columns >= 0)
        n_fields = sh->n_cols + 1;
      else
        variant = 3;
    }
    if (variant == 6 && sh->column != 0)
      variant = 3;
    if (variant == 4)
      eol = "\r\n";
  }
  if (variant == 6)
    k += sprintf (b + k, "\xEF\xBB\xBF");
  for (i = 0; i < n_fields; i++) {
    if (i > 0)
      b[k++] = ',';
    if (i == sh->column) {
      switch (variant) {
        case -1:
          gen_number (r, num, cat == L_LONG);
          break;
        case 0:
          gen_number (r, f, 0);
          sprintf (num, "\"%s\"", f);
          break;
        case 1:
          gen_number (r, f, 0);
          sprintf (num, "'%s'", f);
          break;
        case 3:
          strcpy (num, specials[vae_rng_below (r, sizeof (specials) /
                      sizeof (specials[0]))]);
          break;
        case 4:
          /* "1.5\r\r\n" (the CPU takes it) or "1.5\r,..." (it does not) */
          gen_number (r, f, 0);
          sprintf (num, "%s\r", f);
          break;
        default:
          gen_number (r, num, 0);
          break;
      }
      k += sprintf (b + k, "%s%s%s", rand_blanks (r), num,
          variant == 4 ? "" : rand_blanks (r));
    } else {
      if (variant == 2 && i == (sh->column > 0 ? 0 : 1))
        strcpy (f, "\"a,b\"");
      else if (variant == 5)
        gen_number (r, f, 0);   /* a ragged line must not be blank */
      else
        gen_other (r, f);
      k += sprintf (b + k, "%s%s%s", rand_blanks (r), f, rand_blanks (r));
    }
  }
  k += sprintf (b + k, "%s", eol);
  return k;
}

/* csv_parse_block () on one line alone */
static int
cpu_line (const char *line, size_t len, const Shape * sh, float *v)
{
  CsvBlockResult res;
  int st = csv_parse_block (line, len, 1, sh->column, sh->n_columns, v, 1,
      &res);

  if (st == CSV_OK && res.n_values == 0)
    st = CSV_ERR_EMPTY_LINE;    /* a blank last line without "\n" */
  return st;
}

/* csv_parse_block () over a whole text as a reader does: empty lines
 * skipped, stops at any other error (returned).  out holds len + 1. */
static int
cpu_block (const char *t, size_t len, const Shape * sh, float *out, size_t *n)
{
  size_t pos = 0, nv = 0;
  int st = CSV_OK;

  while (pos < len) {
    CsvBlockResult res;

    st = csv_parse_block (t + pos, len - pos, 1, sh->column, sh->n_columns,
        out + nv, len + 1 - nv, &res);
    nv += res.n_values;
    pos += res.consumed;
    if (st == CSV_ERR_EMPTY_LINE) {
      pos += res.line_len;
      st = CSV_OK;
      continue;
    }
    break;
  }
  *n = nv;
  return st;
}

typedef struct
{
  CsvCuda *ctx;
  char *d_text;                 /* cap + 16 */
  float *d_out;                 /* cap + 1 */
  size_t cap;
  float *out, *ref;             /* host, cap + 1 */
  void *stream;
} Dev;

static int n_bad_lines;

/* Parses b on the device at byte offset mis of d_text; checks every line
 * and the block.  Returns 1 if all was right. */
static int
check_block (Dev * dv, Block * b, const Shape * sh, size_t mis,
    const char *what)
{
  CsvCudaResult res;
  size_t i, k = 0, n_nan = 0, first = 0, first_off = 0, nref = 0;
  size_t n_expect = 0;
  int ok = 1, ret, st;

  for (i = 0; i < b->n_lines; i++)
    n_expect += b->cat[i] != L_BLANK && b->start[i] < b->len;
  poison (dv->d_out, (b->len + 1) * sizeof (float));
  upload (dv->d_text + mis, b->text, b->len);
  ret = csv_parse_block_cuda (dv->ctx, dv->d_text + mis, b->len, sh->column,
      sh->n_columns, dv->d_out, b->len + 1, &res, dv->stream);
  if (ret != 0) {
    check (0, "%s: csv_parse_block_cuda: %s", what, ecg_cuda_strerror (ret));
    return 0;
  }
  if (res.n_values != n_expect) {
    check (0, "%s: %" PRIu64 " values, %zu value lines", what, res.n_values,
        n_expect);
    return 0;
  }
  {
    size_t nls = 0;

    for (i = 0; i < b->len; i++)
      nls += b->text[i] == '\n';
    if (res.n_newlines != nls) {
      check (0, "%s: %" PRIu64 " newlines, the text has %zu", what,
          res.n_newlines, nls);
      return 0;
    }
  }
  download (dv->out, dv->d_out, n_expect * sizeof (float));
  for (i = 0; i < b->n_lines; i++) {
    size_t end = i + 1 < b->n_lines ? b->start[i + 1] : b->len;
    const char *line = b->text + b->start[i];
    float v = 0.0f, g;
    int bad = 0;

    if (b->cat[i] == L_BLANK || b->start[i] >= b->len)
      continue;
    st = cpu_line (line, end - b->start[i], sh, &v);
    g = dv->out[k];
    cat_lines[b->cat[i]]++;
    if (isnan (g)) {
      cat_cpu[b->cat[i]]++;
      if (n_nan++ == 0) {
        first = k;
        first_off = b->start[i];
      }
      bad = b->cat[i] == L_CLEAN;
    } else {
      bad = b->cat[i] == L_FLAG || st != CSV_OK || !same_float_bits (g, v);
    }
    if (bad) {
      ok = 0;
      if (n_bad_lines++ < 20)
        printf ("# %s: line %zu (kind %d, column %d of %d): \"%.*s\": "
            "device %a, CPU status %d value %a\n", what, i, b->cat[i],
            sh->column, sh->n_columns, (int) (end - b->start[i]), line, g,
            st, v);
    }
    k++;
  }
  if (res.n_cpu != n_nan || res.first_cpu != (n_nan ? first : n_expect) ||
      res.first_cpu_offset != (n_nan ? first_off : b->len)) {
    ok = 0;
    printf ("# %s: n_cpu %" PRIu64 " first %" PRIu64 " at %" PRIu64
        ", want %zu, %zu at %zu\n", what, res.n_cpu, res.first_cpu,
        res.first_cpu_offset, n_nan, n_nan ? first : n_expect,
        n_nan ? first_off : b->len);
  }
  if (res.n_cpu == 0) {
    /* what a caller relies on */
    st = cpu_block (b->text, b->len, sh, dv->ref, &nref);
    if (st != CSV_OK || nref != n_expect ||
        memcmp (dv->ref, dv->out, n_expect * sizeof (float)) != 0) {
      ok = 0;
      printf ("# %s: nothing for the CPU, but csv_parse_block says %s with "
          "%zu values (device %zu)\n", what, csv_strerror (st), nref, n_expect);
    }
  }
  return ok;
}

static void
test_random (Dev * dv, VaeRng * r, int n_blocks)
{
  char line[MAX_LINE];
  int bi, n_ok = 0, n_clean_blocks = 0, n_clean_ok = 0;

  for (bi = 0; bi < n_blocks; bi++) {
    Block b;
    Shape sh;
    size_t n, i, mis = vae_rng_below (r, 16);
    int mix = (int) vae_rng_below (r, 4), all_clean = 1, ok;
    char what[64];

    memset (&b, 0, sizeof (b));
    sh.n_cols = 1 + (int) vae_rng_below (r, 4);
    sh.column = (int) vae_rng_below (r, sh.n_cols);
    sh.n_columns = vae_rng_below (r, 2) ? sh.n_cols : -1;
    n = bi == 0 ? 300000 : (vae_rng_below (r, 4) == 0 ? 1 +
        vae_rng_below (r, 10) : 1 + vae_rng_below (r, 4000));
    for (i = 0; i < n; i++) {
      /* mix 0: clean and blank lines only (never left to the CPU) */
      uint64_t u = vae_rng_below (r, 100);
      int cat = u < 8 ? L_BLANK : mix == 0 ? L_CLEAN : u < 12 ? L_LONG :
          u < 20 ? L_FLAG : L_CLEAN;
      size_t len = gen_line (r, &sh, cat, line);

      all_clean &= cat == L_CLEAN || cat == L_BLANK;
      block_add (&b, line, len, cat);
    }
    if (vae_rng_below (r, 3) == 0 && b.len > 0 && b.text[b.len - 1] == '\n')
      b.len--;                  /* last line without "\n" */
    snprintf (what, sizeof (what), "block %d (%zu lines, +%zu)", bi, n, mis);
    ok = check_block (dv, &b, &sh, mis, what);
    n_ok += ok;
    if (all_clean) {
      n_clean_blocks++;
      n_clean_ok += ok;
    }
    block_free (&b);
  }
  check (n_ok == n_blocks, "random blocks: %d of %d right (every value line "
      "exact or NaN as it must be, counts, first line for the CPU)", n_ok,
      n_blocks);
  check (n_clean_ok == n_clean_blocks && cat_cpu[L_CLEAN] == 0,
      "%d blocks of clean and blank lines: nothing for the CPU",
      n_clean_blocks);
  check (cat_cpu[L_FLAG] == cat_lines[L_FLAG],
      "%zu lines of the flagged kinds all left to the CPU", cat_lines[L_FLAG]);
  printf ("# lines: %zu clean, %zu long (%zu of them left to the CPU), %zu "
      "flagged\n", cat_lines[L_CLEAN], cat_lines[L_LONG], cat_cpu[L_LONG],
      cat_lines[L_FLAG]);
}

/* A fixed text: the device's value count and n_cpu */
static void
fixed_text (Dev * dv, const char *t, int column, int n_columns,
    uint64_t want_values, int want_cpu)
{
  CsvCudaResult res;
  size_t len = strlen (t);
  int ret;

  upload (dv->d_text, t, len);
  ret = csv_parse_block_cuda (dv->ctx, dv->d_text, len, column, n_columns,
      dv->d_out, len + 1, &res, NULL);
  check (ret == 0 && res.n_values == want_values && (want_cpu ? res.n_cpu >
          0 : res.n_cpu == 0), "\"%s\" (column %d of %d): %" PRIu64
      " values, %" PRIu64 " for the CPU", t, column, n_columns,
      res.n_values, res.n_cpu);
}

static void
test_fixed (Dev * dv)
{
  CsvCudaResult res;
  CsvCuda *c2 = NULL;
  float *h, v;
  size_t i, n = 1000, len = 0;
  char *t = xmalloc (n * 32);
  int ret, ok;

  fixed_text (dv, "", 0, -1, 0, 0);
  fixed_text (dv, "\n\n \r\n\t \n \r", 0, -1, 0, 0);
  fixed_text (dv, "1.5", 0, 1, 1, 0);
  fixed_text (dv, "1.5\r", 0, 1, 1, 0);
  fixed_text (dv, " 1.5 , x \r\n\r\n-2e-3,\n", 0, 2, 2, 0);
  fixed_text (dv, "a,\"b\",3\n", 2, -1, 1, 1);
  fixed_text (dv, "a,b,3,\"q\"\n", 2, -1, 1, 0);
  fixed_text (dv, "a,b,3,\"q\"\n", 2, 4, 1, 1);
  /* blank for the CPU, not for the device: left to the CPU */
  fixed_text (dv, "1.5\n\r\r\n2.5\n", 0, 1, 3, 1);
  fixed_text (dv, "1.5\n\xEF\xBB\xBF\n2.5\n", 0, 1, 3, 1);
  fixed_text (dv, "1.5\n \r \n2.5\n", 0, 1, 3, 1);

  /* max_out below the values: the rest is not written */
  for (i = 0; i < n; i++)
    len += sprintf (t + len, "%zu.25\n", i);
  upload (dv->d_text, t, len);
  poison (dv->d_out, n * sizeof (float));
  ret = csv_parse_block_cuda (dv->ctx, dv->d_text, len, 0, 1, dv->d_out,
      n / 2, &res, NULL);
  h = xmalloc (n * sizeof (float));
  download (h, dv->d_out, n * sizeof (float));
  ok = ret == 0 && res.n_values == n && res.n_cpu == 0;
  for (i = 0; i < n && ok; i++) {
    v = i < n / 2 ? (float) i + 0.25f : h[i];
    ok = i < n / 2 ? h[i] == v : isnan (h[i]);
  }
  check (ok, "max_out %zu of %zu values: those written, the rest untouched",
      n / 2, n);
  free (h);
  free (t);

  check (csv_parse_block_cuda (NULL, dv->d_text, 1, 0, 1, dv->d_out, 1,
          &res, NULL) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_parse_block_cuda (dv->ctx, dv->d_text, 1, -1, 1, dv->d_out, 1,
          &res, NULL) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_parse_block_cuda (dv->ctx, dv->d_text, 1, 0, 0, dv->d_out, 1,
          &res, NULL) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_parse_block_cuda (dv->ctx, dv->d_text, 1, 2, 2, dv->d_out, 1,
          &res, NULL) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_parse_block_cuda (dv->ctx, dv->d_text, dv->cap + 1, 0, 1,
          dv->d_out, 1, &res, NULL) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_parse_block_cuda_wait (dv->ctx, &res) == ECG_CUDA_ERR_INVALID_ARG &&
      csv_cuda_new (CSV_CUDA_MAX_LEN + 1, &c2) == ECG_CUDA_ERR_INVALID_ARG &&
      c2 == NULL, "invalid arguments give ECG_CUDA_ERR_INVALID_ARG");
}

static char *
read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  char *buf;
  long n;

  if (f == NULL)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = xmalloc ((size_t) n + 1);
  if (fread (buf, 1, (size_t) n, f) != (size_t) n) {
    free (buf);
    fclose (f);
    return NULL;
  }
  fclose (f);
  *len = (size_t) n;
  return buf;
}

static void
test_golden (Dev * dv)
{
  static const char *const files[] = { "golden/119_250.csv",
    "golden/208_250.csv", "mitdb/101.csv"
  };
  const char *env = getenv ("ECG_SHARED_DATA");
  char path[4096];
  size_t fi;

  if (env == NULL) {
    printf ("# golden: ECG_SHARED_DATA unset, skipped\n");
    return;
  }
  for (fi = 0; fi < sizeof (files) / sizeof (files[0]); fi++) {
    size_t len, skip, nl_len, nref, n_cols;
    char *buf, *nl;
    Shape sh;
    int c;

    snprintf (path, sizeof (path), "%s/%s", env, files[fi]);
    buf = read_file (path, &len);
    if (buf == NULL) {
      printf ("# golden: %s not readable, skipped\n", path);
      continue;
    }
    skip = csv_bom_length (buf, len);
    nl = memchr (buf + skip, '\n', len - skip);
    nl_len = nl ? (size_t) (nl - (buf + skip)) + 1 : len - skip;
    n_cols = (size_t) csv_line_count_fields (buf + skip, nl_len);
    if (csv_line_is_header (buf + skip, nl_len))
      skip += nl_len;
    if (len - skip > dv->cap) {
      printf ("# golden: %s larger than the test's buffer, skipped\n", path);
      free (buf);
      continue;
    }
    for (c = 0; c < (int) n_cols; c++) {
      CsvCudaResult res;
      int ret, st;

      sh.n_cols = (int) n_cols;
      sh.column = c;
      sh.n_columns = (int) n_cols;
      upload (dv->d_text, buf + skip, len - skip);
      ret = csv_parse_block_cuda (dv->ctx, dv->d_text, len - skip, c,
          (int) n_cols, dv->d_out, dv->cap + 1, &res, dv->stream);
      st = cpu_block (buf + skip, len - skip, &sh, dv->ref, &nref);
      if (ret == 0)
        download (dv->out, dv->d_out, res.n_values * sizeof (float));
      check (ret == 0 && st == CSV_OK && res.n_cpu == 0 &&
          res.n_values == nref && memcmp (dv->out, dv->ref,
              nref * sizeof (float)) == 0,
          "golden %s column %d: %zu values identical, none for the CPU",
          files[fi], c, nref);
    }
    free (buf);
  }
}

static void
bench (Dev * dv, VaeRng * r, size_t lines)
{
  char *t = xmalloc (lines * 26 + 1);
  size_t len = 0, i, nref;
  double ms[10], t0, tc;
  CsvCudaResult res;
  Shape sh = { 1, 0, 1 };
  int k, ret = 0;

  for (i = 0; i < lines; i++) {
    double d = (vae_rng_uniform (r) * 2 - 1) * 1.5;

    len += sprintf (t + len, "%.17g\n", (double) (float) d);
  }
  if (len > dv->cap) {
    free (t);
    return;
  }
  upload (dv->d_text, t, len);
  for (k = -1; k < 10 && ret == 0; k++) {
    CK (cudaDeviceSynchronize ());
    t0 = now_s ();
    ret = csv_parse_block_cuda_async (dv->ctx, dv->d_text, len, 0, 1,
        dv->d_out, dv->cap + 1, dv->stream);
    if (ret == 0)
      ret = csv_parse_block_cuda_wait (dv->ctx, &res);
    if (k >= 0)
      ms[k] = (now_s () - t0) * 1e3;
  }
  t0 = now_s ();
  cpu_block (t, len, &sh, dv->ref, &nref);
  tc = now_s () - t0;
  if (ret == 0)
    download (dv->out, dv->d_out, nref * sizeof (float));
  check (ret == 0 && res.n_cpu == 0 && res.n_values == nref &&
      memcmp (dv->out, dv->ref, nref * sizeof (float)) == 0,
      "timing text: %zu %%.17g lines identical", lines);
  if (ret == 0)
    printf ("# timing: %zu lines, %.1f MB in device memory: %.2f ms "
        "(median of 10, %.0f MB/s); csv_parse_block on one core %.0f ms "
        "(%.0f MB/s)\n", lines, len / 1e6, median (ms, 10),
        len / 1e3 / median (ms, 10), tc * 1e3, len / 1e6 / tc);
  free (t);
}

int
main (void)
{
  Dev dv;
  VaeRng rng;
  cudaStream_t st;
  int ret;

  require_device ();
  vae_rng_seed (&rng, test_seed ());
  memset (&dv, 0, sizeof (dv));
  dv.cap = (size_t) 160 << 20;
  ret = csv_cuda_new (dv.cap, &dv.ctx);
  if (ret != 0) {
    check (0, "csv_cuda_new: %s", ecg_cuda_strerror (ret));
    return finish ();
  }
  dv.d_text = dmalloc (dv.cap + 16);
  dv.d_out = dmalloc ((dv.cap + 1) * sizeof (float));
  dv.out = xmalloc ((dv.cap + 1) * sizeof (float));
  dv.ref = xmalloc ((dv.cap + 1) * sizeof (float));
  CK (cudaStreamCreateWithFlags (&st, cudaStreamNonBlocking));
  dv.stream = (void *) st;

  test_fixed (&dv);
  test_random (&dv, &rng, 400);
  test_golden (&dv);
  bench (&dv, &rng, 5000000);

  CK (cudaStreamDestroy (st));
  csv_cuda_free (dv.ctx);
  CK (cudaFree (dv.d_text));
  CK (cudaFree (dv.d_out));
  free (dv.out);
  free (dv.ref);
  return finish ();
}

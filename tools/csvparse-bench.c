/* Throughput of csv_parse_block () on data generated in memory.
 *
 *   csvparse-bench [lines] [runs]
 *
 * Data sets (lines default 20,000,000):
 *  17g:  one column, floats printed with %.17g ("-0.28793373107910156\n"),
 *        the seed-scale file (~400 MB)
 *  3f:   two columns, MIT-BIH style "%.3f,%.3f\n" ("-0.145,-0.065\n")
 * The buffer is parsed in windows of 1 MiB as a source element reading
 * 1 MiB chunks would (the partial last line of a window starts the next),
 * into a reused array of floats.  MB/s = 10^6 bytes per second, best of
 * the runs.  A strtod () loop over the 17g lines is timed for comparison.
 * Each result is checked against (float) strtod () on every 1009th line.
 */

#include "../kernels/csvparse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW (1 << 20)

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 42;

static double
rng_unit (void)
{
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (z >> 11) * 0x1p-53;
}

static char *
make_data (size_t lines, int two_columns, size_t *len)
{
  size_t cap = lines * (two_columns ? 16 : 26) + 64, n = 0, i;
  char *buf = malloc (cap);

  if (!buf) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  for (i = 0; i < lines; i++) {
    /* ECG-like: mostly small, signed */
    double a = (rng_unit () * 2 - 1) * 1.5, b = (rng_unit () * 2 - 1) * 1.5;

    if (two_columns)
      n += sprintf (buf + n, "%.3f,%.3f\n", a, b);
    else
      n += sprintf (buf + n, "%.17g\n", (double) (float) a);
  }
  *len = n;
  return buf;
}

/* Parses buf in 1 MiB windows; returns the number of values, or 0 on
 * error.  Every 1009th value is compared with strtod (). */
static size_t
parse_all (const char *buf, size_t len, int column, int n_columns,
    float *out, int verify)
{
  size_t pos = 0, total = 0;

  while (pos < len) {
    size_t win = len - pos < WINDOW ? len - pos : WINDOW, i;
    CsvBlockResult res;
    int st = csv_parse_block (buf + pos, win, pos + win == len, column,
        n_columns, out, WINDOW, &res);

    if (st != CSV_OK) {
      fprintf (stderr, "parse error %s at byte %zu\n", csv_strerror (st),
          pos + res.consumed);
      return 0;
    }
    if (verify) {
      const char *p = buf + pos;

      for (i = 0; i < res.n_values; i++) {
        const char *f = p;
        int c;

        for (c = 0; c < column; c++)
          f = strchr (f, ',') + 1;
        if ((total + i) % 1009 == 0 && out[i] != (float) strtod (f, NULL)) {
          fprintf (stderr, "wrong value at line %zu\n", total + i + 1);
          return 0;
        }
        p = strchr (p, '\n') + 1;
      }
    }
    total += res.n_values;
    pos += res.consumed;
  }
  return total;
}

static void
bench (const char *name, const char *buf, size_t len, int column,
    int n_columns, float *out, int runs)
{
  double best = 1e30;
  size_t n = parse_all (buf, len, column, n_columns, out, 1);
  int r;

  if (n == 0)
    exit (1);
  for (r = 0; r < runs; r++) {
    double t0 = now (), t;

    parse_all (buf, len, column, n_columns, out, 0);
    t = now () - t0;
    if (t < best)
      best = t;
  }
  printf ("%-34s %9zu lines %7.1f MB  %7.3f s  %7.1f MB/s  %6.1f Mlines/s\n",
      name, n, len / 1e6, best, len / 1e6 / best, n / 1e6 / best);
}

int
main (int argc, char **argv)
{
  size_t lines = argc > 1 ? strtoul (argv[1], NULL, 0) : 20000000;
  int runs = argc > 2 ? atoi (argv[2]) : 3, r;
  size_t len;
  float *out = malloc (WINDOW * sizeof (float));
  char *buf;
  double best = 1e30, sum = 0;

  if (!out)
    return 1;

  buf = make_data (lines, 0, &len);
  printf ("17g sample line: %.*s", (int) (strchr (buf, '\n') - buf + 1), buf);
  bench ("17g, 1 column, n_columns -1", buf, len, 0, -1, out, runs);
  bench ("17g, 1 column, n_columns 1", buf, len, 0, 1, out, runs);
  for (r = 0; r < runs; r++) {
    double t0 = now (), t;
    char *p = buf, *end = buf + len;

    while (p < end)
      sum += strtod (p, &p), p++;
    t = now () - t0;
    if (t < best)
      best = t;
  }
  printf ("%-34s %9zu lines %7.1f MB  %7.3f s  %7.1f MB/s  (checksum %g)\n",
      "17g, strtod () loop (reference)", lines, len / 1e6, best,
      len / 1e6 / best, sum);
  free (buf);

  buf = make_data (lines, 1, &len);
  printf ("3f sample line: %.*s", (int) (strchr (buf, '\n') - buf + 1), buf);
  bench ("3f, 2 columns, column 0, n_cols 2", buf, len, 0, 2, out, runs);
  bench ("3f, 2 columns, column 1, n_cols 2", buf, len, 1, 2, out, runs);
  bench ("3f, 2 columns, column 0, n_cols -1", buf, len, 0, -1, out, runs);
  bench ("3f, 2 columns, column 1, n_cols -1", buf, len, 1, -1, out, runs);
  free (buf);
  free (out);
  return 0;
}

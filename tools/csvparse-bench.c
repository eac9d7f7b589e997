/* Throughput of csv_parse_block () on data generated in memory.
 *
 *   csvparse-bench [lines] [runs]
 *   csvparse-bench --write FILE [lines]
 *   csvparse-bench --cuda FILE [--runs N] [--threads T] [--block-mib M]
 *                  [--column C] [--n-columns N]
 *
 * --write writes the 17g data set below as a file with a header line
 * (default 20,000,000 lines, ~400 MB), a stand-in for the benchmark's
 * /tmp/ecg20h.csv.
 *
 * --cuda (CUDA builds, on a GPU machine) times a whole CSV file, read from
 * the page cache, into floats in device memory, both ways the issue asks
 * to compare, end to end, best of N runs (default 5, after one warm-up):
 *  (a) CPU threads: read () a block (default 32 MiB of complete lines)
 *      into pinned memory, csv_parse_block_mt () on T threads (default:
 *      the online CPUs, at most 64) into pinned floats, cudaMemcpyAsync
 *      of the floats to the device (overlapping the next block's read and
 *      parse);
 *  (a2) as (a), with a second thread reading up to two blocks ahead, so
 *      the reads overlap the parse (the CPU path at its best).
 *  (b) GPU: read () a block into pinned memory, upload the text,
 *      csv_parse_block_cuda () (the next block is read meanwhile); a
 *      block with lines the device leaves to the CPU is finished by
 *      csv_parse_block_mt () from its first such line.
 * Then the parts alone: the reads, the CPU parse of text already in memory,
 * the text upload, the device parse of text already on the device.  All
 * paths skip a BOM and a header line, skip blank lines, and stop at any
 * other bad line.  (a), (a2) and (b) must give identical floats.  MB/s =
 * 10^6 bytes of the file per second.
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

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef ECG_KERNELS_CUDA
#include <cuda_runtime_api.h>

#include "../kernels/cudadev.h"
#include "../kernels/csvparse_cuda.h"
#endif

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

/* --write FILE [lines]: the 17g data set with a header line */
static int
write_file (const char *path, size_t lines)
{
  size_t len;
  char *buf = make_data (lines, 0, &len);
  FILE *f = fopen (path, "wb");
  int ok;

  if (f == NULL) {
    fprintf (stderr, "%s: %s\n", path, strerror (errno));
    free (buf);
    return 1;
  }
  ok = fputs ("heartbeats\n", f) >= 0 && fwrite (buf, 1, len, f) == len;
  ok &= fclose (f) == 0;
  free (buf);
  if (!ok) {
    fprintf (stderr, "%s: write failed\n", path);
    return 1;
  }
  printf ("wrote %s: %zu lines, %zu bytes\n", path, lines, len + 11);
  return 0;
}

#ifdef ECG_KERNELS_CUDA

/* A failed runtime call in the benchmark is fatal */
#define CK(call) do { \
    cudaError_t e_ = (call); \
    if (e_ != cudaSuccess) { \
      fprintf (stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, \
          cudaGetErrorString (e_)); \
      exit (1); \
    } \
  } while (0)

/* Reads a file in blocks of complete lines into READER_SLOTS pinned
 * buffers in turn; the partial last line of a block starts the next one. */
#define READER_SLOTS 3
typedef struct
{
  int fd;
  off_t start;                  /* first byte of data (after a header) */
  char *buf[READER_SLOTS];
  size_t cap;
  int cur;                      /* buffer of the last block */
  size_t last_len, tail;        /* its length; bytes after it */
  int eof, done;
} Reader;

static void
reader_rewind (Reader * r)
{
  if (lseek (r->fd, r->start, SEEK_SET) != r->start) {
    perror ("lseek");
    exit (1);
  }
  r->cur = READER_SLOTS - 1;
  r->last_len = r->tail = 0;
  r->eof = r->done = 0;
}

/* The next block of complete lines: 1, or 0 at the end of the file */
static int
reader_next (Reader * r, char **block, size_t *len)
{
  int nb = (r->cur + 1) % READER_SLOTS;
  char *b = r->buf[nb], *nl;
  size_t have = r->tail;

  if (r->done)
    return 0;
  if (have > 0)
    memcpy (b, r->buf[r->cur] + r->last_len, have);
  while (have < r->cap && !r->eof) {
    ssize_t got = read (r->fd, b + have, r->cap - have);

    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      perror ("read");
      exit (1);
    }
    if (got == 0)
      r->eof = 1;
    have += (size_t) got;
  }
  if (have == 0) {
    r->done = 1;
    return 0;
  }
  if (r->eof) {
    r->last_len = have;
    r->tail = 0;
    r->done = 1;
  } else {
    for (nl = b + have; nl > b && nl[-1] != '\n'; nl--);
    if (nl == b) {
      fprintf (stderr, "a line longer than the block (%zu bytes)\n", r->cap);
      exit (1);
    }
    r->last_len = (size_t) (nl - b);
    r->tail = have - r->last_len;
  }
  r->cur = nb;
  *block = b;
  *len = r->last_len;
  return 1;
}

typedef struct
{
  int column, n_columns, threads;
  void *ws;                     /* csv_parse_block_mt () workspace */
  float *fbuf[2];               /* pinned floats, fcap each */
  size_t fcap;
  cudaStream_t stream;
  cudaEvent_t up[2];            /* upload of fbuf[i] done */
  CsvCuda *ctx;
  char *d_text;
  float *d_a, *d_a2, *d_b;      /* the values of (a), (a2) and (b) */
  size_t d_cap;
  size_t n_cpu_blocks;          /* (b): blocks finished on the CPU */
} Bench;

/* csv_parse_block_mt () over complete lines, blank lines skipped; exits on
 * any other bad line (the benchmark wants a clean file) */
static size_t
cpu_parse (Bench * bn, const char *t, size_t len, float *out)
{
  size_t pos = 0, n = 0;

  while (pos < len) {
    CsvBlockResult res;
    int st = csv_parse_block_mt (t + pos, len - pos, 1, bn->column,
        bn->n_columns, out + n, bn->fcap - n, &res, bn->threads, bn->ws);

    n += res.n_values;
    pos += res.consumed;
    if (st == CSV_ERR_EMPTY_LINE) {
      pos += res.line_len;
    } else if (st != CSV_OK) {
      fprintf (stderr, "line \"%.*s\": %s\n", (int) (res.line_len > 80 ? 80 :
              res.line_len), t + pos, csv_strerror (st));
      exit (1);
    } else {
      break;
    }
  }
  return n;
}

/* (a): returns the number of values in bn->d_a */
static size_t
run_cpu (Bench * bn, Reader * rd)
{
  size_t total = 0, len, n;
  char *t;
  int k = 0;

  reader_rewind (rd);
  while (reader_next (rd, &t, &len)) {
    int b = k++ & 1;

    CK (cudaEventSynchronize (bn->up[b]));
    n = cpu_parse (bn, t, len, bn->fbuf[b]);
    if (total + n > bn->d_cap) {
      fprintf (stderr, "more values than room on the device\n");
      exit (1);
    }
    CK (cudaMemcpyAsync (bn->d_a + total, bn->fbuf[b], n * sizeof (float),
            cudaMemcpyHostToDevice, bn->stream));
    CK (cudaEventRecord (bn->up[b], bn->stream));
    total += n;
  }
  CK (cudaStreamSynchronize (bn->stream));
  return total;
}

/* (a2): blocks read by a second thread, READER_SLOTS - 1 ahead at most */
typedef struct
{
  Reader *rd;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  char *blk[READER_SLOTS];
  size_t len[READER_SLOTS];
  size_t n_read, n_done;        /* blocks read; blocks parsed */
  int finished;
} Feeder;

static void *
feeder_run (void *data)
{
  Feeder *f = data;
  char *t;
  size_t len;
  int more;

  do {
    /* buffer n_read % READER_SLOTS is free once that block is parsed */
    pthread_mutex_lock (&f->lock);
    while (f->n_read - f->n_done >= READER_SLOTS)
      pthread_cond_wait (&f->cond, &f->lock);
    pthread_mutex_unlock (&f->lock);
    more = reader_next (f->rd, &t, &len);
    pthread_mutex_lock (&f->lock);
    if (more) {
      f->blk[f->n_read % READER_SLOTS] = t;
      f->len[f->n_read % READER_SLOTS] = len;
      f->n_read++;
    } else {
      f->finished = 1;
    }
    pthread_cond_broadcast (&f->cond);
    pthread_mutex_unlock (&f->lock);
  } while (more);
  return NULL;
}

static size_t
run_cpu_overlapped (Bench * bn, Reader * rd)
{
  Feeder f;
  pthread_t th;
  size_t total = 0, k, n, len;
  char *t;

  memset (&f, 0, sizeof (f));
  f.rd = rd;
  pthread_mutex_init (&f.lock, NULL);
  pthread_cond_init (&f.cond, NULL);
  reader_rewind (rd);
  if (pthread_create (&th, NULL, feeder_run, &f) != 0) {
    fprintf (stderr, "pthread_create failed\n");
    exit (1);
  }
  for (k = 0;; k++) {
    int b = (int) (k & 1);

    pthread_mutex_lock (&f.lock);
    while (f.n_read <= k && !f.finished)
      pthread_cond_wait (&f.cond, &f.lock);
    if (f.n_read <= k) {
      pthread_mutex_unlock (&f.lock);
      break;
    }
    t = f.blk[k % READER_SLOTS];
    len = f.len[k % READER_SLOTS];
    pthread_mutex_unlock (&f.lock);

    CK (cudaEventSynchronize (bn->up[b]));
    n = cpu_parse (bn, t, len, bn->fbuf[b]);
    if (total + n > bn->d_cap) {
      fprintf (stderr, "more values than room on the device\n");
      exit (1);
    }
    CK (cudaMemcpyAsync (bn->d_a2 + total, bn->fbuf[b], n * sizeof (float),
            cudaMemcpyHostToDevice, bn->stream));
    CK (cudaEventRecord (bn->up[b], bn->stream));
    total += n;

    pthread_mutex_lock (&f.lock);
    f.n_done = k + 1;
    pthread_cond_broadcast (&f.cond);
    pthread_mutex_unlock (&f.lock);
  }
  pthread_join (th, NULL);
  pthread_mutex_destroy (&f.lock);
  pthread_cond_destroy (&f.cond);
  CK (cudaStreamSynchronize (bn->stream));
  return total;
}

/* (b): the result of the block queued last, text t (still in its pinned
 * buffer): lines the device left to the CPU are parsed here from the
 * first of them and uploaded over its values.  Returns the values. */
static size_t
gpu_finish (Bench * bn, const char *t, size_t len, size_t at)
{
  CsvCudaResult res;
  size_t n;
  int ret = csv_parse_block_cuda_wait (bn->ctx, &res);

  if (ret != 0) {
    fprintf (stderr, "csv_parse_block_cuda: %s\n", ecg_cuda_strerror (ret));
    exit (1);
  }
  if (res.n_cpu == 0)
    return res.n_values;
  bn->n_cpu_blocks++;
  n = cpu_parse (bn, t + res.first_cpu_offset, len - res.first_cpu_offset,
      bn->fbuf[0]);
  if (at + res.first_cpu + n > bn->d_cap) {
    fprintf (stderr, "more values than room on the device\n");
    exit (1);
  }
  CK (cudaMemcpyAsync (bn->d_b + at + res.first_cpu, bn->fbuf[0],
          n * sizeof (float), cudaMemcpyHostToDevice, bn->stream));
  CK (cudaStreamSynchronize (bn->stream));
  return res.first_cpu + n;
}

/* (b): returns the number of values in bn->d_b */
static size_t
run_gpu (Bench * bn, Reader * rd)
{
  size_t total = 0, len, plen = 0;
  char *t, *prev = NULL;
  int ret;

  reader_rewind (rd);
  while (reader_next (rd, &t, &len)) {
    /* block k was read while the device parsed block k - 1 */
    if (prev != NULL)
      total += gpu_finish (bn, prev, plen, total);
    CK (cudaMemcpyAsync (bn->d_text, t, len, cudaMemcpyHostToDevice,
            bn->stream));
    ret = csv_parse_block_cuda_async (bn->ctx, bn->d_text, len, bn->column,
        bn->n_columns, bn->d_b + total, bn->d_cap - total, bn->stream);
    if (ret != 0) {
      fprintf (stderr, "csv_parse_block_cuda: %s\n", ecg_cuda_strerror (ret));
      exit (1);
    }
    prev = t;
    plen = len;
  }
  if (prev != NULL)
    total += gpu_finish (bn, prev, plen, total);
  return total;
}

static void
print_row (const char *name, double s, size_t bytes)
{
  printf ("| %-62s | %7.3f | %7.0f |\n", name, s, bytes / 1e6 / s);
}

static int
bench_cuda (int argc, char **argv)
{
  const char *path = argv[2];
  int runs = 5, r, i;
  size_t block_mib = 32, n_a = 0, n_a2 = 0, n_b = 0, data_len, nblocks;
  double best_a = 1e30, best_a2 = 1e30, best_b = 1e30, best_rd = 1e30,
      best_cp = 1e30, best_up = 1e30, best_gp = 1e30, t0, t;
  char first[4096], name[256], *t_all, *blk;
  float *h_a, *h_a2, *h_b;
  Reader rd;
  Bench bn;
  ssize_t got;
  size_t fl, skip, len;
  long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
  int ret;

  memset (&bn, 0, sizeof (bn));
  memset (&rd, 0, sizeof (rd));
  bn.column = 0;
  bn.n_columns = -1;
  bn.threads = ncpu < 1 ? 1 : ncpu > CSV_MT_MAX_THREADS ? CSV_MT_MAX_THREADS :
      (int) ncpu;
  for (i = 3; i + 1 < argc; i += 2) {
    if (strcmp (argv[i], "--runs") == 0)
      runs = atoi (argv[i + 1]);
    else if (strcmp (argv[i], "--threads") == 0)
      bn.threads = atoi (argv[i + 1]);
    else if (strcmp (argv[i], "--block-mib") == 0)
      block_mib = strtoul (argv[i + 1], NULL, 0);
    else if (strcmp (argv[i], "--column") == 0)
      bn.column = atoi (argv[i + 1]);
    else if (strcmp (argv[i], "--n-columns") == 0)
      bn.n_columns = atoi (argv[i + 1]);
    else {
      fprintf (stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (runs < 1 || block_mib < 1 || bn.threads < 1)
    return 2;
  if (ecg_cuda_device_count () < 1) {
    fprintf (stderr, "--cuda: no CUDA device\n");
    return 77;
  }

  /* a BOM and a header line are skipped */
  rd.fd = open (path, O_RDONLY);
  if (rd.fd < 0) {
    fprintf (stderr, "%s: %s\n", path, strerror (errno));
    return 1;
  }
  got = read (rd.fd, first, sizeof (first));
  fl = got > 0 ? (size_t) got : 0;
  skip = csv_bom_length (first, fl);
  {
    char *nl = memchr (first + skip, '\n', fl - skip);
    size_t ll = nl ? (size_t) (nl - first) + 1 - skip : fl - skip;

    if (csv_line_is_header (first + skip, ll))
      skip += ll;
  }
  rd.start = (off_t) skip;
  data_len = (size_t) lseek (rd.fd, 0, SEEK_END) - skip;

  rd.cap = block_mib << 20;
  bn.fcap = rd.cap / 2 + 2;
  bn.d_cap = data_len / 2 + 2;
  CK (cudaSetDevice (0));
  for (i = 0; i < READER_SLOTS; i++)
    CK (cudaMallocHost ((void **) &rd.buf[i], rd.cap));
  CK (cudaMallocHost ((void **) &bn.fbuf[0], bn.fcap * sizeof (float)));
  CK (cudaMallocHost ((void **) &bn.fbuf[1], bn.fcap * sizeof (float)));
  bn.ws = malloc (csv_parse_block_mt_workspace_size (rd.cap, bn.threads));
  CK (cudaStreamCreateWithFlags (&bn.stream, cudaStreamNonBlocking));
  CK (cudaEventCreateWithFlags (&bn.up[0], cudaEventDisableTiming));
  CK (cudaEventCreateWithFlags (&bn.up[1], cudaEventDisableTiming));
  CK (cudaMalloc ((void **) &bn.d_text, rd.cap));
  CK (cudaMalloc ((void **) &bn.d_a, bn.d_cap * sizeof (float)));
  CK (cudaMalloc ((void **) &bn.d_a2, bn.d_cap * sizeof (float)));
  CK (cudaMalloc ((void **) &bn.d_b, bn.d_cap * sizeof (float)));
  ret = csv_cuda_new (rd.cap, &bn.ctx);
  if (ret != 0 || bn.ws == NULL) {
    fprintf (stderr, "csv_cuda_new: %s\n", ecg_cuda_strerror (ret));
    return 1;
  }

  /* end to end; the first run of each warms the page cache and the
   * device */
  for (r = -1; r < runs; r++) {
    t0 = now ();
    n_a = run_cpu (&bn, &rd);
    t = now () - t0;
    if (r >= 0 && t < best_a)
      best_a = t;
    t0 = now ();
    n_a2 = run_cpu_overlapped (&bn, &rd);
    t = now () - t0;
    if (r >= 0 && t < best_a2)
      best_a2 = t;
    t0 = now ();
    n_b = run_gpu (&bn, &rd);
    t = now () - t0;
    if (r >= 0 && t < best_b)
      best_b = t;
  }

  /* the parts alone */
  t_all = malloc (data_len);
  if (t_all == NULL) {
    fprintf (stderr, "out of memory\n");
    return 1;
  }
  for (r = 0; r < runs; r++) {
    t0 = now ();
    reader_rewind (&rd);
    while (reader_next (&rd, &blk, &len));
    t = now () - t0;
    if (t < best_rd)
      best_rd = t;
  }
  {
    size_t pos = 0;

    reader_rewind (&rd);
    while (reader_next (&rd, &blk, &len)) {
      memcpy (t_all + pos, blk, len);
      pos += len;
    }
  }
  nblocks = (data_len + rd.cap - 1) / rd.cap;
  for (r = 0; r < runs; r++) {
    size_t pos = 0, len2;

    /* the same blocks as (a): whole lines of at most cap bytes */
    t0 = now ();
    while (pos < data_len) {
      len2 = data_len - pos < rd.cap ? data_len - pos : rd.cap;
      if (pos + len2 < data_len) {
        while (len2 > 0 && t_all[pos + len2 - 1] != '\n')
          len2--;
      }
      cpu_parse (&bn, t_all + pos, len2, bn.fbuf[0]);
      pos += len2;
    }
    t = now () - t0;
    if (t < best_cp)
      best_cp = t;

    /* uploads and device parses of the first block, as many as the
     * file has blocks, scaled to the file's bytes */
    len2 = data_len < rd.cap ? data_len : rd.cap;
    while (len2 > 0 && data_len > rd.cap && t_all[len2 - 1] != '\n')
      len2--;
    memcpy (rd.buf[0], t_all, len2);
    CK (cudaStreamSynchronize (bn.stream));
    t0 = now ();
    for (i = 0; i < (int) nblocks; i++)
      CK (cudaMemcpyAsync (bn.d_text, rd.buf[0], len2,
              cudaMemcpyHostToDevice, bn.stream));
    CK (cudaStreamSynchronize (bn.stream));
    t = (now () - t0) * data_len / ((double) len2 * nblocks);
    if (t < best_up)
      best_up = t;
    t0 = now ();
    for (i = 0; i < (int) nblocks; i++) {
      CsvCudaResult res;

      ret = csv_parse_block_cuda (bn.ctx, bn.d_text, len2, bn.column,
          bn.n_columns, bn.d_b, bn.d_cap, &res, bn.stream);
      if (ret != 0) {
        fprintf (stderr, "csv_parse_block_cuda: %s\n", ecg_cuda_strerror (ret));
        return 1;
      }
    }
    t = (now () - t0) * data_len / ((double) len2 * nblocks);
    if (t < best_gp)
      best_gp = t;
  }
  /* the last loop overwrote the start of d_b: run (b) once more */
  n_b = run_gpu (&bn, &rd);

  /* (a) and (b) must agree bit for bit */
  h_a = malloc ((n_a + 1) * sizeof (float));
  h_a2 = malloc ((n_a2 + 1) * sizeof (float));
  h_b = malloc ((n_b + 1) * sizeof (float));
  if (h_a == NULL || h_a2 == NULL || h_b == NULL) {
    fprintf (stderr, "out of memory\n");
    return 1;
  }
  CK (cudaMemcpy (h_a, bn.d_a, n_a * sizeof (float), cudaMemcpyDeviceToHost));
  CK (cudaMemcpy (h_a2, bn.d_a2, n_a2 * sizeof (float),
          cudaMemcpyDeviceToHost));
  CK (cudaMemcpy (h_b, bn.d_b, n_b * sizeof (float), cudaMemcpyDeviceToHost));
  ret = n_a == n_b && n_a2 == n_a &&
      memcmp (h_a, h_b, n_a * sizeof (float)) == 0 &&
      memcmp (h_a2, h_b, n_a * sizeof (float)) == 0;

  if (ecg_cuda_device_name (0, name, sizeof (name)) != 0)
    strcpy (name, "unknown device");
  printf ("csvparse-bench --cuda %s: %.1f MB after %zu bytes of header, %zu"
      " values (column %d, n_columns %d); blocks of %zu MiB; %d CPU threads;"
      " %s; best of %d\n\n", path, data_len / 1e6, skip, n_a, bn.column,
      bn.n_columns, block_mib, bn.threads, name, runs);
  printf ("| %-62s | %7s | %7s |\n", "file in the page cache -> floats in "
      "device memory", "s", "MB/s");
  printf ("|%s|%s|%s|\n", "------------------------------------------"
      "----------------------", "--------:", "--------:");
  print_row ("(a) CPU: read + csv_parse_block_mt -> pinned + upload", best_a,
      data_len);
  print_row ("(a2) as (a), the next blocks read by a second thread", best_a2,
      data_len);
  print_row ("(b) GPU: read -> pinned + upload text + csv_parse_block_cuda",
      best_b, data_len);
  print_row ("read only (file -> pinned memory)", best_rd, data_len);
  print_row ("csv_parse_block_mt only (text in memory -> pinned floats)",
      best_cp, data_len);
  print_row ("upload only (text, pinned -> device)", best_up, data_len);
  print_row ("csv_parse_block_cuda only (text on the device)", best_gp,
      data_len);
  printf ("\n(a), (a2) and (b): %zu, %zu and %zu values, %s; (b) finished %zu"
      " of its %zu blocks on the CPU (per run)\n", n_a, n_a2, n_b, ret ?
      "identical floats" : "DIFFERENT", bn.n_cpu_blocks / (runs + 2), nblocks);

  free (h_a);
  free (h_a2);
  free (h_b);
  free (t_all);
  free (bn.ws);
  csv_cuda_free (bn.ctx);
  CK (cudaFree (bn.d_text));
  CK (cudaFree (bn.d_a));
  CK (cudaFree (bn.d_a2));
  CK (cudaFree (bn.d_b));
  CK (cudaEventDestroy (bn.up[0]));
  CK (cudaEventDestroy (bn.up[1]));
  CK (cudaStreamDestroy (bn.stream));
  for (i = 0; i < READER_SLOTS; i++)
    CK (cudaFreeHost (rd.buf[i]));
  CK (cudaFreeHost (bn.fbuf[0]));
  CK (cudaFreeHost (bn.fbuf[1]));
  close (rd.fd);
  return ret ? 0 : 1;
}
#endif /* ECG_KERNELS_CUDA */

int
main (int argc, char **argv)
{
  size_t lines;
  int runs, r;
  size_t len;
  float *out = malloc (WINDOW * sizeof (float));
  char *buf;
  double best = 1e30, sum = 0;

  if (argc > 2 && strcmp (argv[1], "--write") == 0) {
    free (out);
    return write_file (argv[2], argc > 3 ? strtoul (argv[3], NULL, 0) :
        20000000);
  }
  if (argc > 1 && strcmp (argv[1], "--cuda") == 0) {
    free (out);
#ifdef ECG_KERNELS_CUDA
    if (argc < 3) {
      fprintf (stderr, "usage: csvparse-bench --cuda FILE [options]\n");
      return 2;
    }
    return bench_cuda (argc, argv);
#else
    fprintf (stderr, "--cuda: built without CUDA\n");
    return 77;
#endif
  }
  lines = argc > 1 ? strtoul (argv[1], NULL, 0) : 20000000;
  runs = argc > 2 ? atoi (argv[2]) : 3;
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

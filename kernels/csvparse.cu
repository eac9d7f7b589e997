/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CSV text in device memory -> the floats of one column (csvparse_cuda.h).
 *
 * Which lines give a value: a byte is significant unless it is ' ', '\t',
 * "\n", or a '\r' followed by "\n" or by the end of the text; a value line
 * is one with a significant byte, and it starts (for the device) at its
 * first one, since only blanks can come before it.  Blank lines have none
 * and give nothing, as a reader skips csv_parse_block ()'s
 * CSV_ERR_EMPTY_LINE.
 *
 * Numbering the value lines in parallel: the text is cut into chunks of
 * CSV_CUDA_CHUNK bytes.  Walking a chunk with the state s = "the current
 * line already had a significant byte" counts the line starts (a
 * significant byte met with s == 0).  As a function of the state coming
 * in, a chunk is described by CsvSum: n, the starts after its first "\n"
 * (they do not depend on s); HEAD, a start before its first "\n" if s was
 * 0; NL, whether it holds a "\n"; SIG, the state it leaves when s was 0
 * (with no "\n" the state out is s | SIG).  Composing two chunks is
 * csv_sum_op, which is associative, so an exclusive scan from the identity
 * {0, 0} gives each chunk the starts before it (n + HEAD) and its state in
 * (SIG).
 *
 * Then each chunk's thread walks its bytes again and parses every line
 * that starts in it (csv_cuda_line, reading past the chunk as needed) into
 * out[index].  A line the device does not take gets a NaN there and is
 * counted; the first one's index and line start are kept with atomicMin.
 */
#include <cub/device/device_scan.cuh>

#include <stdint.h>
#include <stdlib.h>

#include "cudacheck.h"
#include "csvfloat.h"
#include "csvparse_cuda.h"

#define CSV_CUDA_CHUNK 16
#define CSV_CUDA_BLOCK 256

#define CSV_SUM_HEAD 1u
#define CSV_SUM_NL   2u
#define CSV_SUM_SIG  4u

typedef struct
{
  unsigned int n;               /* line starts after the first "\n" */
  unsigned int f;               /* CSV_SUM_* */
  unsigned int nls;             /* "\n" bytes (a plain sum) */
} CsvSum;

/* a then b, see the top of the file */
struct CsvSumOp
{
  __host__ __device__ __forceinline__ CsvSum
  operator() (const CsvSum & a, const CsvSum & b) const
  {
    CsvSum c;
    unsigned int head;

    c.n = a.n + b.n + (((a.f & (CSV_SUM_NL | CSV_SUM_SIG)) == CSV_SUM_NL &&
            (b.f & CSV_SUM_HEAD)) ? 1u : 0u);
    head = (a.f & CSV_SUM_NL) ? (a.f & CSV_SUM_HEAD) :
        ((a.f | b.f) & CSV_SUM_HEAD);
    c.f = head | ((a.f | b.f) & CSV_SUM_NL) | ((b.f & CSV_SUM_NL) ?
        (b.f & CSV_SUM_SIG) : ((a.f | b.f) & CSV_SUM_SIG));
    c.nls = a.nls + b.nls;
    return c;
  }
};

/* counters of one call, on the device and mirrored in pinned memory */
typedef struct
{
  unsigned long long n_values;
  unsigned long long n_cpu;
  unsigned long long first_cpu;
  unsigned long long first_off;
  unsigned long long n_newlines;
} CsvDevResult;

struct CsvCuda
{
  size_t max_len;
  size_t max_items;             /* chunks + 1 */
  CsvSum *sums, *pre;           /* max_items each */
  void *cub_tmp;
  size_t cub_bytes;
  CsvDevResult *res_d, *res_h;
  /* the call in flight */
  size_t len;
  void *stream;
  int queued;
};

/* ---- kernels ---- */

/* Bit k of *nl: byte k of chunk c is "\n"; of *sig: it is significant */
__device__ static __forceinline__ void
csv_chunk_masks (const char *__restrict__ buf, size_t len, size_t c,
    unsigned int *nl, unsigned int *sig)
{
  size_t s = c * CSV_CUDA_CHUNK;
  unsigned int n = len - s < CSV_CUDA_CHUNK ? (unsigned int) (len - s) :
      CSV_CUDA_CHUNK;
  const unsigned char *p = (const unsigned char *) buf + s;
  unsigned int w[4], nlm = 0, sigm = 0, crm = 0, follow;
  int k;

  if (n == CSV_CUDA_CHUNK && ((uintptr_t) p & 15) == 0) {
    uint4 v = __ldg ((const uint4 *) p);

    w[0] = v.x;
    w[1] = v.y;
    w[2] = v.z;
    w[3] = v.w;
  } else {
#pragma unroll
    for (k = 0; k < 4; k++)
      w[k] = 0;
#pragma unroll
    for (k = 0; k < CSV_CUDA_CHUNK; k++) {
      if ((unsigned int) k < n)
        w[k >> 2] |= (unsigned int) p[k] << (8 * (k & 3));
    }
  }
#pragma unroll
  for (k = 0; k < CSV_CUDA_CHUNK; k++) {
    unsigned int ch = (w[k >> 2] >> (8 * (k & 3))) & 0xffu;

    if ((unsigned int) k >= n)
      break;
    if (ch == '\n')
      nlm |= 1u << k;
    else if (ch == '\r')
      crm |= 1u << k;
    else if (ch != ' ' && ch != '\t')
      sigm |= 1u << k;
  }
  if (crm) {
    /* a '\r' is blank when "\n" or the end of the text follows */
    follow = nlm >> 1;
    if (n < CSV_CUDA_CHUNK || s + CSV_CUDA_CHUNK == len ||
        buf[s + CSV_CUDA_CHUNK] == '\n')
      follow |= 1u << (n - 1);
    sigm |= crm & ~follow;
  }
  *nl = nlm;
  *sig = sigm;
}

/* sums[c] for chunk c < n_chunks, the identity at n_chunks; thread 0 also
 * resets the counters */
__global__ static void
csv_sum_kernel (const char *__restrict__ buf, size_t len, size_t n_chunks,
    CsvSum * __restrict__ sums, CsvDevResult * res)
{
  size_t c = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  unsigned int nl, sig, s = 0, seen_nl = 0, head = 0, n = 0;
  CsvSum out;
  int k;

  if (c == 0) {
    res->n_values = 0;
    res->n_cpu = 0;
    res->first_cpu = ~0ull;
    res->first_off = ~0ull;
    res->n_newlines = 0;
  }
  if (c > n_chunks)
    return;
  if (c == n_chunks) {
    out.n = 0;
    out.f = 0;
    out.nls = 0;
    sums[c] = out;
    return;
  }
  csv_chunk_masks (buf, len, c, &nl, &sig);
#pragma unroll
  for (k = 0; k < CSV_CUDA_CHUNK; k++) {
    if ((nl >> k) & 1u) {
      s = 0;
      seen_nl = 1;
    } else if (((sig >> k) & 1u) && !s) {
      s = 1;
      if (seen_nl)
        n++;
      else
        head = 1;
    }
  }
  out.n = n;
  out.f = (head ? CSV_SUM_HEAD : 0) | (seen_nl ? CSV_SUM_NL : 0) |
      (s ? CSV_SUM_SIG : 0);
  out.nls = __popc (nl);
  sums[c] = out;
}

/* The line whose first significant byte is buf[p]: 1 and *v, or 0 when
 * the CPU must parse it */
__device__ static __forceinline__ int
csv_cuda_line (const char *__restrict__ buf, size_t len, size_t p,
    int column, int n_columns, float *v)
{
  size_t fs, fe;
  int k, nf;
  char ch;

  for (k = 0; k < column; k++) {
    while (p < len && (ch = buf[p]) != ',' && ch != '\n' && ch != '"')
      p++;
    if (p >= len || buf[p] != ',')
      return 0;                 /* too few fields, or a quote */
    p++;
  }
  fs = p;
  while (p < len && (ch = buf[p]) != ',' && ch != '\n' && ch != '"')
    p++;
  if (p < len && buf[p] == '"')
    return 0;
  fe = p;
  if ((p == len || buf[p] == '\n') && fe > fs && buf[fe - 1] == '\r')
    fe--;
  if (csv_float_parse_field (buf + fs, buf + fe, v) != CSV_FLOAT_EXACT)
    return 0;
  if (n_columns >= 0) {
    nf = column + 1;
    for (; p < len && (ch = buf[p]) != '\n'; p++) {
      if (ch == '"')
        return 0;
      nf += ch == ',';
    }
    if (nf != n_columns)
      return 0;
  }
  return 1;
}

/* Parses the lines starting in chunk c; thread n_chunks stores the count */
__global__ static void
csv_parse_kernel (const char *__restrict__ buf, size_t len, size_t n_chunks,
    const CsvSum * __restrict__ pre, int column, int n_columns,
    float *__restrict__ out, size_t max_out, CsvDevResult * res)
{
  size_t c = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  unsigned long long idx;
  unsigned int nl, sig, s, starts = 0;
  CsvSum in;
  int k;

  if (c > n_chunks)
    return;
  in = pre[c];
  idx = (unsigned long long) in.n + ((in.f & CSV_SUM_HEAD) ? 1 : 0);
  if (c == n_chunks) {
    /* the exclusive scan's last item is the sum of every chunk */
    res->n_values = idx;
    res->n_newlines = in.nls;
    return;
  }
  s = (in.f & CSV_SUM_SIG) ? 1 : 0;
  csv_chunk_masks (buf, len, c, &nl, &sig);
#pragma unroll
  for (k = 0; k < CSV_CUDA_CHUNK; k++) {
    if ((nl >> k) & 1u) {
      s = 0;
    } else if (((sig >> k) & 1u) && !s) {
      s = 1;
      starts |= 1u << k;
    }
  }
  while (starts) {
    size_t p = c * CSV_CUDA_CHUNK + (__ffs (starts) - 1), q = p;
    float v = 0.0f;

    starts &= starts - 1;
    if (!csv_cuda_line (buf, len, p, column, n_columns, &v)) {
      v = __int_as_float (0x7fc00000);
      while (q > 0 && (buf[q - 1] == ' ' || buf[q - 1] == '\t'))
        q--;
      atomicAdd (&res->n_cpu, 1ull);
      atomicMin (&res->first_cpu, idx);
      atomicMin (&res->first_off, (unsigned long long) q);
    }
    if (idx < max_out)
      out[idx] = v;
    idx++;
  }
}

/* ---- host side ---- */

static int
csv_cuda_scan (CsvCuda * ctx, size_t n_items, size_t * bytes,
    cudaStream_t stream)
{
  CsvSum zero = { 0, 0, 0 };

  return ECG_CUDA_CHECK (cub::DeviceScan::ExclusiveScan (
          bytes ? NULL : ctx->cub_tmp, bytes ? *bytes : ctx->cub_bytes,
          ctx->sums, ctx->pre, CsvSumOp (), zero, (int) n_items, stream));
}

extern "C" void
csv_cuda_free (CsvCuda * ctx)
{
  if (ctx == NULL)
    return;
  /* frees of NULL are no-ops; errors are logged by the macro */
  ECG_CUDA_CHECK (cudaFree (ctx->sums));
  ECG_CUDA_CHECK (cudaFree (ctx->pre));
  ECG_CUDA_CHECK (cudaFree (ctx->cub_tmp));
  ECG_CUDA_CHECK (cudaFree (ctx->res_d));
  ECG_CUDA_CHECK (cudaFreeHost (ctx->res_h));
  free (ctx);
}

extern "C" int
csv_cuda_new (size_t max_len, CsvCuda ** ctx)
{
  CsvCuda *c;
  size_t bytes = 0;
  int ret;

  if (ctx == NULL || max_len > CSV_CUDA_MAX_LEN)
    return ECG_CUDA_ERR_INVALID_ARG;
  *ctx = NULL;
  c = (CsvCuda *) calloc (1, sizeof (*c));
  if (c == NULL)
    return ECG_CUDA_ERR_RUNTIME;
  c->max_len = max_len;
  c->max_items = (max_len + CSV_CUDA_CHUNK - 1) / CSV_CUDA_CHUNK + 1;
  if ((ret = ECG_CUDA_CHECK (cudaMalloc ((void **) &c->sums,
                  c->max_items * sizeof (CsvSum)))) != 0 ||
      (ret = ECG_CUDA_CHECK (cudaMalloc ((void **) &c->pre,
                  c->max_items * sizeof (CsvSum)))) != 0 ||
      (ret = csv_cuda_scan (c, c->max_items, &bytes, 0)) != 0 ||
      (ret = ECG_CUDA_CHECK (cudaMalloc (&c->cub_tmp, bytes ? bytes : 1)))
      != 0 ||
      (ret = ECG_CUDA_CHECK (cudaMalloc ((void **) &c->res_d,
                  sizeof (CsvDevResult)))) != 0 ||
      (ret = ECG_CUDA_CHECK (cudaMallocHost ((void **) &c->res_h,
                  sizeof (CsvDevResult)))) != 0)
    goto failed;
  c->cub_bytes = bytes;
  *ctx = c;
  return ECG_CUDA_OK;

  /* ERRORS */
failed:
  {
    csv_cuda_free (c);
    return ret;
  }
}

extern "C" int
csv_parse_block_cuda_async (CsvCuda * ctx, const char *buf, size_t len,
    int column, int n_columns, float *out, size_t max_out, void *stream)
{
  cudaStream_t st = ECG_CUDA_STREAM (stream);
  size_t n_chunks, bytes = 0;
  unsigned int grid;
  int ret;

  if (ctx == NULL || (buf == NULL && len > 0) || (out == NULL && max_out > 0)
      || column < 0 || n_columns == 0 || (n_columns > 0
          && column >= n_columns) || len > ctx->max_len)
    return ECG_CUDA_ERR_INVALID_ARG;
  if (n_columns < 0)
    n_columns = -1;
  n_chunks = (len + CSV_CUDA_CHUNK - 1) / CSV_CUDA_CHUNK;
  /* the scratch of csv_cuda_new () was sized for max_items */
  if ((ret = csv_cuda_scan (ctx, n_chunks + 1, &bytes, st)) != 0)
    return ret;
  if (bytes > ctx->cub_bytes) {
    ecg_cuda_log (__FILE__, __LINE__, __func__,
        "scan needs %zu bytes of scratch, %zu allocated", bytes,
        ctx->cub_bytes);
    return ECG_CUDA_ERR_RUNTIME;
  }
  grid = (unsigned int) ((n_chunks + 1 + CSV_CUDA_BLOCK - 1) / CSV_CUDA_BLOCK);

  csv_sum_kernel <<< grid, CSV_CUDA_BLOCK, 0, st >>> (buf, len, n_chunks,
      ctx->sums, ctx->res_d);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  if ((ret = csv_cuda_scan (ctx, n_chunks + 1, NULL, st)) != 0)
    return ret;
  csv_parse_kernel <<< grid, CSV_CUDA_BLOCK, 0, st >>> (buf, len, n_chunks,
      ctx->pre, column, n_columns, out, max_out, ctx->res_d);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (ctx->res_h, ctx->res_d,
                  sizeof (CsvDevResult), cudaMemcpyDeviceToHost, st))) != 0)
    return ret;
  ctx->len = len;
  ctx->stream = stream;
  ctx->queued = 1;
  return ECG_CUDA_OK;
}

extern "C" int
csv_parse_block_cuda_wait (CsvCuda * ctx, CsvCudaResult * res)
{
  int ret;

  if (ctx == NULL || res == NULL || !ctx->queued)
    return ECG_CUDA_ERR_INVALID_ARG;
  ctx->queued = 0;
  if ((ret = ECG_CUDA_CHECK (cudaStreamSynchronize (ECG_CUDA_STREAM
                  (ctx->stream)))) != 0)
    return ret;
  res->n_values = ctx->res_h->n_values;
  res->n_cpu = ctx->res_h->n_cpu;
  res->first_cpu = res->n_cpu ? ctx->res_h->first_cpu : res->n_values;
  res->first_cpu_offset = res->n_cpu ? ctx->res_h->first_off : ctx->len;
  res->n_newlines = ctx->res_h->n_newlines;
  return ECG_CUDA_OK;
}

extern "C" int
csv_parse_block_cuda (CsvCuda * ctx, const char *buf, size_t len,
    int column, int n_columns, float *out, size_t max_out,
    CsvCudaResult * res, void *stream)
{
  int ret;

  if (res == NULL)
    return ECG_CUDA_ERR_INVALID_ARG;
  ret = csv_parse_block_cuda_async (ctx, buf, len, column, n_columns, out,
      max_out, stream);
  if (ret != 0)
    return ret;
  return csv_parse_block_cuda_wait (ctx, res);
}

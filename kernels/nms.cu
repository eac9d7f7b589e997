/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA twin of the beat detector of nms_ref.c: the feature stage (a) runs
 * on the device, the decision stage (b) on the host with nms_ref.c's code
 * (nms_stage_decide), so the gates are the reference's exactly.
 *
 * One device pass covers up to NmsCuda.cap samples [T, T + m). The
 * history of the stream (y before T, and x for the fine filter) sits in
 * front of the block in ext_y / ext_x: ext index e is sample T - hy + e.
 *
 * Seed rule (threshold >= 0): position p = T - hy + e, e < m, is a
 * candidate when max (y[p .. p + N - 1]) == y[p + c] >= floor (the max by
 * van Herk / Gil-Werman: prefix and suffix maxima in blocks of N); a gate
 * where a candidate follows a non-candidate. The gates are compacted in
 * order (cub::DeviceSelect) and downloaded: 4 bytes each.
 *
 * Adaptive rule: position i = T - r + q, q < m (decided when sample i + r
 * arrives), is flagged when |y[i]| > 0 is the max of |y| over
 * [i - r, i + r]. The reference takes a flagged position as a candidate
 * when it lies more than r after the previous candidate, a sequential
 * rule. Flagged positions closer than r + 1 have equal |y| (each lies in
 * the other's window), so the device reports the runs of consecutive
 * flagged positions (start and end records in order, with |y| and the lobe
 * width at the start) and the host walks them: in a run [a, b] the
 * candidates are max (a, last + r + 1) + k (r + 1). A candidate inside a
 * run (flat or clipped stretches only) gets its lobe width from a small
 * gather kernel. Quality segments: one thread per segment sums y, y^2,
 * y^3, y^4 and the squared fine response of x sample by sample in double,
 * as the reference does, with separately rounded operations (no fused
 * multiply-add), so the sums are the reference's bit for bit. Downloads:
 * the records, 40 bytes per segment, and the history (2 r + 6 floats at
 * 250 Hz) that keeps the host detector current for flush and CPU pushes.
 */
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cudacheck.h"
#include "nms.h"

#define NMS_CUDA_BLOCK 256
/* samples per device pass at most */
#define NMS_CUDA_PASS_MAX ((size_t) 1 << 22)
/* records downloaded with the first copy; the rest, if any, after it */
#define NMS_CUDA_FIRST_RECS 4096

#define REC_START 1u
#define REC_END 2u

typedef struct
{
  uint32_t q;                   /* position, from the pass's first */
  uint32_t kind;                /* REC_START | REC_END */
  uint32_t lobe;                /* lobe width at a start */
  float amp;                    /* |y| of the run */
} NmsRunRec;

/* header of the download buffer */
typedef struct
{
  int nsel;                     /* records (adaptive) or gates (seed) */
  int prev_cand;                /* seed: cand at the last position */
  int pad[2];
} NmsHeader;

typedef struct
{
  int device;
  size_t cap;                   /* samples per pass */
  size_t hy, hx;                /* history lengths */
  int mode;
  float *ext_y, *ext_x;         /* hy + cap, hx + cap */
  float *pre, *suf;             /* hy + cap */
  float *taps;                  /* fine filter */
  uint32_t *sel;                /* selected positions */
  void *cub_tmp;
  size_t cub_bytes;
  unsigned char *out_d, *out_h; /* download buffer and its pinned mirror */
  size_t out_bytes, off_hist, off_segs, off_recs, rec_size, rec_cap;
  float *hist_h;                /* pinned upload of the host's history */
  uint32_t *gq_h, *gq_d, *gl_h, *gl_d;  /* gather: positions, lobes */
  size_t *gi;                   /* gather: candidate index */
  size_t gcap;
  NmsCandRec *cands;            /* host, per pass */
  size_t cand_cap;
  NmsSegRec *segs;
  size_t seg_cap;
  int hist_ok;                  /* ext history on the device is current */
  uint64_t epoch;               /* ... for this epoch of the detector */
  uint64_t t;                   /* ... and this sample */
} NmsCuda;

/* ---- kernels ---- */

/* ext[0 .. h) from src (the history), ext[h + k] = y[k] sanitised; x:
 * non-finite values are 0 the reference's way (v - v == 0) */
__global__ static void
nms_fill_kernel (float *__restrict__ ext, const float *__restrict__ y,
    size_t m, size_t h, int is_x)
{
  size_t k = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  float v;

  if (k >= m)
    return;
  if (y == NULL) {
    ext[h + k] = 0.0f;
    return;
  }
  v = y[k];
  if (is_x)
    v = __fsub_rn (v, v) == 0.0f ? v : 0.0f;
  else if (!isfinite (v))
    v = 0.0f;
  ext[h + k] = v;
}

/* Prefix and suffix maxima of v (|v| when absval) in blocks of w */
__global__ static void
nms_vh_kernel (const float *__restrict__ v, size_t len, size_t w,
    int absval, float *__restrict__ pre, float *__restrict__ suf)
{
  size_t b = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  size_t s = b * w, e, k;
  float mx;

  if (s >= len)
    return;
  e = s + w < len ? s + w : len;
  mx = absval ? fabsf (v[s]) : v[s];
  pre[s] = mx;
  for (k = s + 1; k < e; k++) {
    float a = absval ? fabsf (v[k]) : v[k];

    mx = fmaxf (mx, a);
    pre[k] = mx;
  }
  mx = absval ? fabsf (v[e - 1]) : v[e - 1];
  suf[e - 1] = mx;
  for (k = e - 1; k > s; k--) {
    float a = absval ? fabsf (v[k - 1]) : v[k - 1];

    mx = fmaxf (mx, a);
    suf[k - 1] = mx;
  }
}

/* seed: candidate at ext position e */
struct SeedCand
{
  const float *y, *pre, *suf;
  long long first;              /* first valid e */
  long long m;
  int n, c;
  float floor;

  __device__ int operator () (long long e) const
  {
    float mx, v;

    if (e < first || e < 0 || e >= m)
      return 0;
    mx = fmaxf (suf[e], pre[e + n - 1]);
    v = y[e + c];
    return mx == v && v >= floor;
  }
};

struct SeedGate
{
  SeedCand cand;
  int prev;

  __device__ bool operator () (uint32_t e) const
  {
    return cand ((long long) e) && !(e == 0 ? prev : cand ((long long) e - 1));
  }
};

__global__ static void
nms_seed_last_kernel (SeedCand cand, NmsHeader * hdr)
{
  hdr->prev_cand = cand (cand.m - 1);
}

/* adaptive: position q is flagged (ext index q + r) */
struct Flag
{
  const float *y, *pre, *suf;
  long long first;              /* first valid q */
  long long m;
  int r;

  __device__ int operator () (long long q) const
  {
    long long e = q + r;
    float a, mx;

    if (q < first || q < 0 || q >= m)
      return 0;
    a = fabsf (y[e]);
    mx = fmaxf (suf[e - r], pre[e + r]);
    return a > 0.0f && a == mx;
  }
};

struct RunEdge
{
  Flag f;

  __device__ bool operator () (uint32_t q) const
  {
    if (!f ((long long) q))
      return false;
    return !f ((long long) q - 1) || !f ((long long) q + 1)
        || q == 0 || (long long) q == f.m - 1;
  }
};

/* lobe width at ext index e (see lobe_width in nms_ref.c); lo stops at
 * ext index et0, the stream's first sample */
__device__ static uint32_t
nms_lobe (const float *y, long long e, int r, long long et0)
{
  float ye = y[e], h = 0.5f * fabsf (ye), s = ye >= 0.0f ? 1.0f : -1.0f;
  long long lo = e, hi = e;

  while (lo > et0 && e - lo < r && s * y[lo - 1] > h)
    lo--;
  while (hi - e < r && s * y[hi + 1] > h)
    hi++;
  return (uint32_t) (hi - lo + 1);
}

__global__ static void
nms_runs_kernel (Flag f, const uint32_t *__restrict__ sel,
    const NmsHeader * hdr, NmsRunRec * rec, long long et0)
{
  int n = hdr->nsel, k;

  for (k = blockIdx.x * blockDim.x + threadIdx.x; k < n;
      k += gridDim.x * blockDim.x) {
    uint32_t q = sel[k];
    long long e = (long long) q + f.r;
    uint32_t kind = 0;

    if (q == 0 || !f ((long long) q - 1))
      kind |= REC_START;
    if ((long long) q == f.m - 1 || !f ((long long) q + 1))
      kind |= REC_END;
    rec[k].q = q;
    rec[k].kind = kind;
    rec[k].amp = fabsf (f.y[e]);
    rec[k].lobe = kind & REC_START ? nms_lobe (f.y, e, f.r, et0) : 0;
  }
}

__global__ static void
nms_gather_kernel (const float *__restrict__ y, const uint32_t * q,
    uint32_t * lobe, int n, int r, long long et0)
{
  int k = blockIdx.x * blockDim.x + threadIdx.x;

  if (k < n)
    lobe[k] = nms_lobe (y, (long long) q[k] + r, r, et0);
}

/* One thread per quality segment of the pass: segment g covers block
 * samples [g seg - cur_n, (g + 1) seg - cur_n); the first continues the
 * host's partial sums. The last (g == nseg) is the new partial one. */
__global__ static void
nms_seg_kernel (const float *__restrict__ y, const float *__restrict__ x,
    const float *__restrict__ taps, int hx, size_t m, int seg, int cur_n,
    NmsSegRec cur, size_t nseg, NmsSegRec * out)
{
  size_t g = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  long long s, e, k;
  double s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, hf = 0.0;

  if (g > nseg)
    return;
  s = (long long) g * seg - cur_n;
  e = s + seg;
  if (s < 0) {
    s = 0;
    s1 = cur.s1;
    s2 = cur.s2;
    s3 = cur.s3;
    s4 = cur.s4;
    hf = cur.hf;
  }
  if (e > (long long) m)
    e = (long long) m;
  for (k = s; k < e; k++) {
    /* fine_fir of nms_ref.c: k0 b[i], then + km b[i - m], squared */
    const float *b = x + hx + k;
    float f = __fmul_rn (taps[0], b[0]);
    double v = y[k], v2;
    int j;

    for (j = 1; j <= hx; j++)
      f = __fadd_rn (f, __fmul_rn (taps[j], b[-j]));
    f = __fmul_rn (f, f);
    v2 = __dmul_rn (v, v);
    hf = __dadd_rn (hf, (double) f);
    s1 = __dadd_rn (s1, v);
    s2 = __dadd_rn (s2, v2);
    s3 = __dadd_rn (s3, __dmul_rn (v2, v));
    s4 = __dadd_rn (s4, __dmul_rn (v2, v2));
  }
  out[g].s1 = s1;
  out[g].s2 = s2;
  out[g].s3 = s3;
  out[g].s4 = s4;
  out[g].hf = hf;
}

/* the last h values of ext (length m + h) into dst */
__global__ static void
nms_tail_kernel (const float *__restrict__ ext, size_t m, size_t h,
    float *__restrict__ dst)
{
  size_t k = (size_t) blockIdx.x * blockDim.x + threadIdx.x;

  if (k < h)
    dst[k] = ext[m + k];
}

/* ---- host ---- */

static unsigned
grid (size_t n)
{
  return (unsigned) ((n + NMS_CUDA_BLOCK - 1) / NMS_CUDA_BLOCK);
}

static void
nms_cuda_free (void *p)
{
  NmsCuda *c = (NmsCuda *) p;

  if (c == NULL)
    return;
  /* teardown cannot fail: a failure is only logged (ECG_CUDA_CHECK) */
  ECG_CUDA_CHECK (cudaSetDevice (c->device));
  ECG_CUDA_CHECK (cudaFree (c->ext_y));
  ECG_CUDA_CHECK (cudaFree (c->ext_x));
  ECG_CUDA_CHECK (cudaFree (c->pre));
  ECG_CUDA_CHECK (cudaFree (c->suf));
  ECG_CUDA_CHECK (cudaFree (c->taps));
  ECG_CUDA_CHECK (cudaFree (c->sel));
  ECG_CUDA_CHECK (cudaFree (c->cub_tmp));
  ECG_CUDA_CHECK (cudaFree (c->out_d));
  ECG_CUDA_CHECK (cudaFree (c->gq_d));
  ECG_CUDA_CHECK (cudaFree (c->gl_d));
  ECG_CUDA_CHECK (cudaFreeHost (c->out_h));
  ECG_CUDA_CHECK (cudaFreeHost (c->hist_h));
  ECG_CUDA_CHECK (cudaFreeHost (c->gq_h));
  ECG_CUDA_CHECK (cudaFreeHost (c->gl_h));
  free (c->cands);
  free (c->segs);
  free (c->gi);
  free (c);
}

static size_t
align16 (size_t v)
{
  return (v + 15) & ~(size_t) 15;
}

extern "C" int
nms_detector_cuda_prepare (NmsDetector * d, size_t max_block, int device)
{
  NmsStage st;
  NmsCuda *c;
  size_t cap, bytes = 0, nseg;
  int ret = 0;

  if (d == NULL || max_block == 0)
    return ECG_CUDA_ERR_INVALID_ARG;
  if (ecg_cuda_device_count () < 1)
    return ECG_CUDA_ERR_NO_DEVICE;
  if (device < 0 && (ret = ECG_CUDA_CHECK (cudaGetDevice (&device))) != 0)
    return ret;
  if ((ret = ECG_CUDA_CHECK (cudaSetDevice (device))) != 0)
    return ret;
  nms_stage_get (d, &st, NULL, NULL);
  nms_cuda_free (nms_stage_device (d));
  nms_stage_attach (d, NULL, NULL);

  c = (NmsCuda *) calloc (1, sizeof (*c));
  if (c == NULL)
    return ECG_CUDA_ERR_RUNTIME;
  nms_stage_attach (d, c, nms_cuda_free);
  cap = max_block < NMS_CUDA_PASS_MAX ? max_block : NMS_CUDA_PASS_MAX;
  c->device = device;
  c->cap = cap;
  c->mode = st.mode;
  c->hy = st.hist_y;
  c->hx = st.hist_x;
  if (st.mode == 2) {
    nseg = st.seg > 0 ? cap / (size_t) st.seg + 2 : 1;
    c->rec_size = sizeof (NmsRunRec);
    c->rec_cap = cap;
    c->cand_cap = cap / (size_t) (st.radius + 1) + 2;
    c->gcap = c->cand_cap;
  } else {
    nseg = 0;
    c->rec_size = sizeof (uint32_t);
    c->rec_cap = cap / 2 + 2;
  }
  c->seg_cap = nseg;
  c->off_hist = align16 (sizeof (NmsHeader));
  c->off_segs = align16 (c->off_hist + (c->hy + c->hx) * sizeof (float));
  c->off_recs = align16 (c->off_segs + nseg * sizeof (NmsSegRec));
  c->out_bytes = c->off_recs + c->rec_cap * c->rec_size;

#define TRY(call) do { if ((ret = ECG_CUDA_CHECK (call)) != 0) goto fail; } \
  while (0)
  TRY (cudaMalloc (&c->ext_y, (c->hy + cap) * sizeof (float)));
  TRY (cudaMalloc (&c->pre, (c->hy + cap) * sizeof (float)));
  TRY (cudaMalloc (&c->suf, (c->hy + cap) * sizeof (float)));
  TRY (cudaMalloc (&c->sel, (cap > c->rec_cap ? cap : c->rec_cap) *
          sizeof (uint32_t)));
  TRY (cudaMalloc (&c->out_d, c->out_bytes));
  TRY (cudaMallocHost (&c->out_h, c->out_bytes));
  TRY (cudaMallocHost (&c->hist_h, (c->hy + c->hx + 1) * sizeof (float)));
  if (st.mode == 2) {
    if (st.seg > 0) {
      TRY (cudaMalloc (&c->ext_x, (c->hx + cap) * sizeof (float)));
      TRY (cudaMalloc (&c->taps, (size_t) st.fine_width * sizeof (float)));
      TRY (cudaMemcpy (c->taps, st.fine_taps,
              (size_t) st.fine_width * sizeof (float),
              cudaMemcpyHostToDevice));
    }
    TRY (cudaMalloc (&c->gq_d, c->gcap * sizeof (uint32_t)));
    TRY (cudaMalloc (&c->gl_d, c->gcap * sizeof (uint32_t)));
    TRY (cudaMallocHost (&c->gq_h, c->gcap * sizeof (uint32_t)));
    TRY (cudaMallocHost (&c->gl_h, c->gcap * sizeof (uint32_t)));
    c->cands = (NmsCandRec *) malloc (c->cand_cap * sizeof (NmsCandRec));
    c->segs = (NmsSegRec *) malloc (nseg * sizeof (NmsSegRec));
    c->gi = (size_t *) malloc (c->gcap * sizeof (size_t));
    if (c->cands == NULL || c->segs == NULL || c->gi == NULL) {
      ret = ECG_CUDA_ERR_RUNTIME;
      goto fail;
    }
    {
      RunEdge pred = { };
      TRY (cub::DeviceSelect::If (NULL, bytes,
              thrust::counting_iterator < uint32_t > (0), c->sel,
              (int *) c->out_d, (int64_t) cap, pred));
    }
  } else {
    SeedGate pred = { };
    TRY (cub::DeviceSelect::If (NULL, bytes,
            thrust::counting_iterator < uint32_t > (0), c->sel,
            (int *) c->out_d, (int64_t) cap, pred));
  }
  c->cub_bytes = bytes;
  TRY (cudaMalloc (&c->cub_tmp, bytes > 0 ? bytes : 1));
#undef TRY
  return ECG_CUDA_OK;

fail:
  nms_cuda_free (c);
  nms_stage_attach (d, NULL, NULL);
  return ret;
}

/* ext_y / ext_x history for a pass starting at st->t */
static int
load_history (NmsDetector * d, NmsCuda * c, NmsStage * st,
    cudaStream_t s)
{
  int ret;

  if (c->hist_ok && c->epoch == st->epoch && c->t == st->t) {
    /* the previous pass left it in the download buffer */
    if (c->hy > 0 && (ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->ext_y,
                    c->out_d + c->off_hist, c->hy * sizeof (float),
                    cudaMemcpyDeviceToDevice, s))) != 0)
      return ret;
    if (c->hx > 0 && (ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->ext_x,
                    c->out_d + c->off_hist + c->hy * sizeof (float),
                    c->hx * sizeof (float), cudaMemcpyDeviceToDevice, s))) != 0)
      return ret;
    return 0;
  }
  /* after a reset or CPU pushes: the host's. The pinned buffer is free:
   * every pass ends with a synchronisation. */
  nms_stage_get (d, st, c->hist_h, c->hist_h + c->hy);
  if (c->hy > 0 && (ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->ext_y,
                  c->hist_h, c->hy * sizeof (float), cudaMemcpyHostToDevice,
                  s))) != 0)
    return ret;
  if (c->hx > 0 && (ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->ext_x,
                  c->hist_h + c->hy, c->hx * sizeof (float),
                  cudaMemcpyHostToDevice, s))) != 0)
    return ret;
  return 0;
}

/* Downloads the header, history, segments and the first records; the
 * rest of the records when there are more. */
static int
download (NmsCuda * c, const unsigned char *recs, size_t nseg,
    cudaStream_t s, int *nsel)
{
  size_t first = c->rec_cap < NMS_CUDA_FIRST_RECS ? c->rec_cap :
      NMS_CUDA_FIRST_RECS;
  int ret;

  if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->out_h, c->out_d,
                  c->off_segs + nseg * sizeof (NmsSegRec),
                  cudaMemcpyDeviceToHost, s))) != 0)
    return ret;
  if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->out_h + c->off_recs,
                  recs, first * c->rec_size,
                  cudaMemcpyDeviceToHost, s))) != 0)
    return ret;
  if ((ret = ECG_CUDA_CHECK (cudaStreamSynchronize (s))) != 0)
    return ret;
  *nsel = ((NmsHeader *) c->out_h)->nsel;
  if (*nsel < 0 || (size_t) *nsel > c->rec_cap)
    return ECG_CUDA_ERR_RUNTIME;
  if ((size_t) * nsel > first) {
    if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->out_h + c->off_recs +
                    first * c->rec_size, recs + first * c->rec_size, (*nsel - first) * c->rec_size,
                    cudaMemcpyDeviceToHost, s))) != 0)
      return ret;
    if ((ret = ECG_CUDA_CHECK (cudaStreamSynchronize (s))) != 0)
      return ret;
  }
  return 0;
}

static int
pass_seed (NmsDetector * d, NmsCuda * c, NmsStage * st, const float *y,
    size_t m, NmsGate * out, size_t *ng, cudaStream_t s)
{
  size_t hy = c->hy, len = hy + m, bytes = c->cub_bytes, k;
  NmsHeader *hdr = (NmsHeader *) c->out_d;
  SeedGate pred;
  int ret, nsel;
  const uint32_t *g;
  uint64_t base = st->t - hy, cc = (uint64_t) st->centre;
  uint64_t h = (uint64_t) (st->first / 2);

  nms_fill_kernel <<< grid (m), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y, y, m, hy,
      0);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  nms_vh_kernel <<< grid ((len + st->window - 1) / st->window),
      NMS_CUDA_BLOCK, 0, s >>> (c->ext_y, len, (size_t) st->window, 0, c->pre,
      c->suf);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  pred.cand.y = c->ext_y;
  pred.cand.pre = c->pre;
  pred.cand.suf = c->suf;
  /* p = base + e >= t0 */
  pred.cand.first = st->t - st->t0 >= hy ? 0 :
      (long long) (hy - (st->t - st->t0));
  pred.cand.m = (long long) m;
  pred.cand.n = st->window;
  pred.cand.c = st->centre;
  pred.cand.floor = st->floor;
  pred.prev = st->prev_cand;
  if ((ret = ECG_CUDA_CHECK (cub::DeviceSelect::If (c->cub_tmp, bytes,
                  thrust::counting_iterator < uint32_t > (0), c->sel,
                  &hdr->nsel, (int64_t) m, pred, s))) != 0)
    return ret;
  nms_seed_last_kernel <<< 1, 1, 0, s >>> (pred.cand, hdr);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  /* the gates are in sel, in order; the history */
  if (hy > 0) {
    nms_tail_kernel <<< grid (hy), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y, m, hy,
        (float *) (c->out_d + c->off_hist));
    if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
      return ret;
  }
  if ((ret = download (c, (const unsigned char *) c->sel, 0, s,
              &nsel)) != 0)
    return ret;

  g = (const uint32_t *) (c->out_h + c->off_recs);
  for (k = 0; k < (size_t) nsel; k++) {
    uint64_t p = base + g[k];

    out[*ng].gate = p;
    out[*ng].rpeak = p + cc >= st->t0 + h ? p + cc - h : st->t0;
    (*ng)++;
  }
  st->prev_cand = ((NmsHeader *) c->out_h)->prev_cand;
  nms_stage_put (d, st, st->t + m, (const float *) (c->out_h + c->off_hist),
      NULL);
  nms_stage_decide (d, m, NULL, 0, NULL, 0, NULL);
  return 0;
}

static int
pass_adaptive (NmsDetector * d, NmsCuda * c, NmsStage * st, const float *x,
    const float *y, size_t m, NmsGate * out, size_t *ng, cudaStream_t s)
{
  size_t hy = c->hy, hx = c->hx, len = hy + m, bytes = c->cub_bytes;
  size_t k, nc = 0, ngq = 0, nseg = 0, full = 0;
  uint64_t r = (uint64_t) st->radius, w = 2 * r + 1, base = st->t - r;
  long long et0;
  NmsHeader *hdr = (NmsHeader *) c->out_d;
  const NmsRunRec *rec;
  const NmsSegRec *sg;
  RunEdge pred;
  int ret, nsel;
  uint64_t a = 0, lobe = 0;
  float amp = 0.0f;

  nms_fill_kernel <<< grid (m), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y, y, m, hy,
      0);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  nms_vh_kernel <<< grid ((len + w - 1) / w), NMS_CUDA_BLOCK, 0, s >>>
      (c->ext_y, len, (size_t) w, 1, c->pre, c->suf);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  /* ext index of t0: e = t0 - (t - hy) */
  et0 = (long long) st->t0 - (long long) (st->t - hy);
  pred.f.y = c->ext_y;
  pred.f.pre = c->pre;
  pred.f.suf = c->suf;
  pred.f.m = (long long) m;
  pred.f.r = st->radius;
  /* i = base + q >= t0 + first */
  pred.f.first = (long long) (st->t0 + (uint64_t) st->first) -
      (long long) base;
  if ((ret = ECG_CUDA_CHECK (cub::DeviceSelect::If (c->cub_tmp, bytes,
                  thrust::counting_iterator < uint32_t > (0), c->sel,
                  &hdr->nsel, (int64_t) m, pred, s))) != 0)
    return ret;
  nms_runs_kernel <<< 256, NMS_CUDA_BLOCK, 0, s >>> (pred.f, c->sel, hdr,
      (NmsRunRec *) (c->out_d + c->off_recs), et0);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  if (st->seg > 0) {
    nms_fill_kernel <<< grid (m), NMS_CUDA_BLOCK, 0, s >>> (c->ext_x, x, m,
        hx, 1);
    if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
      return ret;
    full = (size_t) ((st->seg_cur_n + m) / (uint64_t) st->seg);
    nseg = full + 1;
    nms_seg_kernel <<< grid (nseg), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y + hy,
        c->ext_x, c->taps, (int) hx, m, st->seg, (int) st->seg_cur_n,
        st->seg_cur, full, (NmsSegRec *) (c->out_d + c->off_segs));
    if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
      return ret;
    nms_tail_kernel <<< grid (hx), NMS_CUDA_BLOCK, 0, s >>> (c->ext_x, m, hx,
        (float *) (c->out_d + c->off_hist) + hy);
    if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
      return ret;
  }
  nms_tail_kernel <<< grid (hy), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y, m, hy,
      (float *) (c->out_d + c->off_hist));
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  if ((ret = download (c, c->out_d + c->off_recs, nseg, s, &nsel)) != 0)
    return ret;

  /* runs of flagged positions -> candidates (cand_feature's rule) */
  rec = (const NmsRunRec *) (c->out_h + c->off_recs);
  for (k = 0; k < (size_t) nsel; k++) {
    uint64_t b, p;

    if (rec[k].kind & REC_START) {
      a = base + rec[k].q;
      amp = rec[k].amp;
      lobe = rec[k].lobe;
    }
    if (!(rec[k].kind & REC_END))
      continue;
    b = base + rec[k].q;
    p = st->have_cand && a <= st->last_cand_t + r ? st->last_cand_t + r + 1 :
        a;
    for (; p <= b; p += r + 1) {
      if (nc >= c->cand_cap)
        return ECG_CUDA_ERR_RUNTIME;
      c->cands[nc].t = p;
      if (p == a) {
        c->cands[nc].amp = nms_stage_amp (d, amp, lobe);
      } else {
        /* lobe width from the device; amp keeps |y| meanwhile */
        c->cands[nc].amp = amp;
        if (ngq >= c->gcap)
          return ECG_CUDA_ERR_RUNTIME;
        c->gq_h[ngq] = (uint32_t) (p - base);
        c->gi[ngq] = nc;
        ngq++;
      }
      nc++;
      st->have_cand = 1;
      st->last_cand_t = p;
    }
  }
  if (ngq > 0) {
    if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->gq_d, c->gq_h,
                    ngq * sizeof (uint32_t), cudaMemcpyHostToDevice,
                    s))) != 0)
      return ret;
    nms_gather_kernel <<< grid (ngq), NMS_CUDA_BLOCK, 0, s >>> (c->ext_y,
        c->gq_d, c->gl_d, (int) ngq, st->radius, et0);
    if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
      return ret;
    if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (c->gl_h, c->gl_d,
                    ngq * sizeof (uint32_t), cudaMemcpyDeviceToHost,
                    s))) != 0)
      return ret;
    if ((ret = ECG_CUDA_CHECK (cudaStreamSynchronize (s))) != 0)
      return ret;
    for (k = 0; k < ngq; k++) {
      NmsCandRec *cr = &c->cands[c->gi[k]];

      cr->amp = nms_stage_amp (d, cr->amp, c->gl_h[k]);
    }
  }

  sg = (const NmsSegRec *) (c->out_h + c->off_segs);
  if (st->seg > 0) {
    memcpy (c->segs, sg, full * sizeof (NmsSegRec));
    st->seg_cur = sg[full];
    st->seg_cur_n = (st->seg_cur_n + m) % (uint64_t) st->seg;
  }
  nms_stage_put (d, st, st->t + m, (const float *) (c->out_h + c->off_hist),
      (const float *) (c->out_h + c->off_hist) + hy);
  *ng += nms_stage_decide (d, m, c->cands, nc, c->segs, full, out + *ng);
  return 0;
}

extern "C" size_t
nms_detector_push_cuda (NmsDetector * d, const float *x_dev,
    const float *y_dev, size_t n, NmsGate * out, void *stream, int *status)
{
  cudaStream_t s = ECG_CUDA_STREAM (stream);
  NmsCuda *c = NULL;
  NmsStage st;
  size_t k, m, ng = 0;
  int ret = 0;

  if (status)
    *status = 0;
  if (d == NULL || (n > 0 && (y_dev == NULL || out == NULL))) {
    ret = ECG_CUDA_ERR_INVALID_ARG;
    goto done;
  }
  c = (NmsCuda *) nms_stage_device (d);
  if (c == NULL) {
    ret = ECG_CUDA_ERR_INVALID_ARG;
    goto done;
  }
  nms_stage_get (d, &st, NULL, NULL);
  if (st.flushed || n == 0)
    goto done;
  if ((ret = ECG_CUDA_CHECK (cudaSetDevice (c->device))) != 0)
    goto done;
  for (k = 0; k < n; k += m) {
    m = n - k < c->cap ? n - k : c->cap;
    nms_stage_get (d, &st, NULL, NULL);
    if ((ret = load_history (d, c, &st, s)) != 0)
      break;
    if (st.mode == 2)
      ret = pass_adaptive (d, c, &st, x_dev ? x_dev + k : NULL, y_dev + k, m,
          out, &ng, s);
    else
      ret = pass_seed (d, c, &st, y_dev + k, m, out, &ng, s);
    if (ret != 0)
      break;
    c->hist_ok = 1;
    c->epoch = st.epoch;
    c->t = st.t + m;
  }

done:
  if (ret != 0) {
    if (c != NULL)
      c->hist_ok = 0;
    if (status)
      *status = ret;
    return 0;
  }
  return ng;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA twin of vae_ref.c: LightVAE encode, decode, score, loss + gradient,
 * Adam and a training epoch.
 *
 * The network is tiny (1618 parameters, about 57k multiply-adds per beat
 * forward), so a beat goes through every layer, and back, inside one block
 * of VAE_CUDA_THREADS threads, with all activations and the parameters in
 * shared memory (about 36 KiB).  Blocks stride over the beats of a batch.
 * Layers map threads to outputs (t fastest: conflict-free shared reads,
 * broadcast weights); weight gradients map warps to (out, in) channel pairs
 * and lanes to time, then reduce with shuffles.
 *
 * Gradients: each block sums its beats' gradients into its own row of a
 * workspace matrix (float, as the reference's per-beat float dot products);
 * a second kernel sums the rows in double in a fixed order, rounds to float
 * and, in training, applies Adam in the same pass.  No atomics: results do
 * not depend on scheduling.  Sums that the reference forms in double (the
 * pooled latent, the per-beat loss and squared error) are double here too.
 *
 * Training keeps everything on the device for an epoch: the host draws the
 * shuffle and all eps with the state's xoshiro RNG exactly as
 * vae_train_epoch_ref does, uploads them once, queues two kernels per
 * minibatch and reads back the loss sum once.  A non-finite minibatch loss
 * sets a device flag; later steps of the epoch then do nothing, so the
 * parameters keep the last finite step as in the reference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cudacheck.h"
#include "vae.h"

#define NT        VAE_CUDA_THREADS
#if VAE_CUDA_THREADS != 256
#error "one thread per sample of a beat: VAE_CUDA_THREADS must be 256"
#endif
#define NWARP     (NT / 32)
#define GSTRIDE   1624          /* floats per gradient row (VAE_N_PARAMS, padded) */

/* Shared-memory layout of one block, in floats after VAE_SM_DOUBLES doubles */
#define SM_RED     0            /* 2 * NWARP doubles: reductions */
#define SM_TOT     (2 * NWARP)  /* 16: sum over t of h3[i] */
#define SM_LAT     (SM_TOT + 16)        /* mu[2], lv[2], dmu[2], dlv[2] */
#define SM_WSUM    (SM_LAT + 8) /* 48: convA/B input gradient taps */
#define SM_DOUBLES (SM_WSUM + 48)

#define F_P    0
#define F_X    (F_P + GSTRIDE)
#define F_A0   (F_X + 256)
#define F_H1   (F_A0 + 1024)
#define F_A1   (F_H1 + 512)
#define F_H2   (F_A1 + 1024)
#define F_A2   (F_H2 + 512)
#define F_H3   (F_A2 + 1024)
#define F_R0   (F_H3 + 512)
#define F_A3   (F_R0 + 256)
#define F_A4   (F_A3 + 256)
#define F_D1   (F_A4 + 256)
#define F_D2   (F_D1 + 1024)
#define F_MISC (F_D2 + 512)     /* z[2], eps[2] */
#define F_TOTAL (F_MISC + 8)

#define SMEM_BYTES (SM_DOUBLES * sizeof (double) + F_TOTAL * sizeof (float))

/* ---------------------------------------------------------------------- */
/* Elementwise maths, as the reference */

__device__ __forceinline__ float
sigm (float alpha, float a)
{
  return 1.0f / (1.0f + expf (-alpha * a));
}

__device__ __forceinline__ float
swish (float alpha, float a)
{
  return a * sigm (alpha, a);
}

/* How a layer reads its input of length L: plain rows, nearest x2 of rows
 * of L / 2, or nearest x2 of swish of rows of L / 2 */
#define IN_PLAIN    0
#define IN_UP       1
#define IN_UPSWISH  2

template < int MODE, int L > __device__ __forceinline__ float
in_at (const float *p, float alpha, int i, int t)
{
  if (MODE == IN_PLAIN)
    return p[i * L + t];
  if (MODE == IN_UP)
    return p[i * (L / 2) + (t >> 1)];
  return swish (alpha, p[i * (L / 2) + (t >> 1)]);
}

template < int MODE, int L > __device__ __forceinline__ float
in_pad (const float *p, float alpha, int i, int t)
{
  return (t < 0 || t >= L) ? 0.0f : in_at < MODE, L > (p, alpha, i, t);
}

__device__ __forceinline__ float
warp_sum (float v)
{
  int o;

  for (o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ double
warp_sum_d (double v)
{
  int o;

  for (o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

/* Sums of a and b over the block, in a fixed order; every thread gets them.
 * Contains two barriers. */
__device__ __forceinline__ void
block_sum2 (double *red, double a, double b, double *ra, double *rb)
{
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, w;
  double sa = 0.0, sb = 0.0;

  a = warp_sum_d (a);
  b = warp_sum_d (b);
  if (lane == 0) {
    red[warp] = a;
    red[NWARP + warp] = b;
  }
  __syncthreads ();
  for (w = 0; w < NWARP; w++) {
    sa += red[w];
    sb += red[NWARP + w];
  }
  __syncthreads ();
  *ra = sa;
  *rb = sb;
}

/* gradient row update: the first beat of a block stores, later ones add */
__device__ __forceinline__ void
gacc (float *g, float v, bool first)
{
  *g = first ? v : *g + v;
}

/* ---------------------------------------------------------------------- */
/* Layers (no barriers inside; the caller syncs between dependent layers) */

/* out[o][t] = b[o] + sum_i sum_k w[o][i][k] in[i][t + k - 1] */
template < int CIN, int COUT, int L, int MODE > __device__ __forceinline__
    void
conv_fwd (const float *w, const float *b, const float *in, float alpha,
    float *out)
{
  int idx, i;

  for (idx = threadIdx.x; idx < COUT * L; idx += NT) {
    int o = idx / L, t = idx % L;
    float acc = b[o];

#pragma unroll
    for (i = 0; i < CIN; i++) {
      const float *wr = w + (o * CIN + i) * 3;

      acc += wr[0] * in_pad < MODE, L > (in, alpha, i, t - 1)
          + wr[1] * in_at < MODE, L > (in, alpha, i, t)
          + wr[2] * in_pad < MODE, L > (in, alpha, i, t + 1);
    }
    out[idx] = acc;
  }
}

/* din[i][t] = sum_o sum_k w[o][i][k] dout[o][t - k + 1] */
template < int CIN, int COUT, int L > __device__ __forceinline__ void
conv_bwd_in (const float *w, const float *dout, float *din)
{
  int idx, o;

  for (idx = threadIdx.x; idx < CIN * L; idx += NT) {
    int i = idx / L, t = idx % L;
    float acc = 0.0f;

#pragma unroll
    for (o = 0; o < COUT; o++) {
      const float *wr = w + (o * CIN + i) * 3;
      const float *d = dout + o * L;

      acc += wr[0] * (t + 1 < L ? d[t + 1] : 0.0f) + wr[1] * d[t]
          + wr[2] * (t > 0 ? d[t - 1] : 0.0f);
    }
    din[idx] = acc;
  }
}

/* gw[o][i][k] += sum_t dout[o][t] in[i][t + k - 1], gb[o] += sum_t dout[o][t]
 * into the block's gradient row: one warp per (o, i), lanes along t */
template < int CIN, int COUT, int L, int MODE > __device__ __forceinline__
    void
conv_bwd_w (const float *dout, const float *in, float alpha, float *gw,
    float *gb, bool first)
{
  int lane = threadIdx.x & 31, u, t;

  for (u = threadIdx.x >> 5; u < COUT * CIN; u += NWARP) {
    int o = u / CIN, i = u % CIN;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, sb = 0.0f;

    for (t = lane; t < L; t += 32) {
      float d = dout[o * L + t];

      s0 += d * in_pad < MODE, L > (in, alpha, i, t - 1);
      s1 += d * in_at < MODE, L > (in, alpha, i, t);
      s2 += d * in_pad < MODE, L > (in, alpha, i, t + 1);
      sb += d;
    }
    s0 = warp_sum (s0);
    s1 = warp_sum (s1);
    s2 = warp_sum (s2);
    if (i == 0)
      sb = warp_sum (sb);
    if (lane == 0) {
      gacc (gw + u * 3, s0, first);
      gacc (gw + u * 3 + 1, s1, first);
      gacc (gw + u * 3 + 2, s2, first);
      if (i == 0)
        gacc (gb + o, sb, first);
    }
  }
}

/* g = swish (a), C x L */
template < int N > __device__ __forceinline__ void
swish_rows (float alpha, const float *a, float *g)
{
  int idx;

  for (idx = threadIdx.x; idx < N; idx += NT)
    g[idx] = swish (alpha, a[idx]);
}

/* out[t] = in[2t - 1] + 2 in[2t] + in[2t + 1], C x L -> C x L / 2 */
template < int C, int L > __device__ __forceinline__ void
down_fwd (const float *in, float *out)
{
  int idx;

  for (idx = threadIdx.x; idx < C * L / 2; idx += NT) {
    int c = idx / (L / 2), t = idx % (L / 2);
    const float *x = in + c * L;

    out[idx] = ((t > 0 ? x[2 * t - 1] : 0.0f) + 2.0f * x[2 * t])
        + x[2 * t + 1];
  }
}

/* Swish backward on pre-activation a: dg -> da, returns dg * d/dalpha */
__device__ __forceinline__ float
swish_bwd1 (float alpha, float a, float dg, float *da)
{
  float s = sigm (alpha, a), q = a * s * (1.0f - s);

  *da = dg * (s + alpha * q);
  return dg * a * q;
}

/* da (C x L) from the gradient of up (swish (a)), dup (C x 2L) */
template < int C, int L > __device__ __forceinline__ float
up_swish_bwd (float alpha, const float *a, const float *dup, float *da)
{
  float dal = 0.0f;
  int idx;

  for (idx = threadIdx.x; idx < C * L; idx += NT) {
    int c = idx / L, t = idx % L;
    float dg = dup[c * 2 * L + 2 * t] + dup[c * 2 * L + 2 * t + 1];

    dal += swish_bwd1 (alpha, a[idx], dg, &da[idx]);
  }
  return dal;
}

/* da (C x L) from the gradient of down (swish (a)), dh (C x L / 2) */
template < int C, int L > __device__ __forceinline__ float
down_swish_bwd (float alpha, const float *a, const float *dh, float *da)
{
  float dal = 0.0f;
  int idx;

  for (idx = threadIdx.x; idx < C * L; idx += NT) {
    int c = idx / L, t = idx % L, tt = t >> 1;
    const float *d = dh + c * (L / 2);
    float dg = (t & 1) == 0 ? 2.0f * d[tt]
        : d[tt] + (tt + 1 < L / 2 ? d[tt + 1] : 0.0f);

    dal += swish_bwd1 (alpha, a[idx], dg, &da[idx]);
  }
  return dal;
}

/* ---------------------------------------------------------------------- */
/* One beat */

struct Smem
{
  double *red, *tot, *lat, *wsum;
  float *p, *x, *a0, *h1, *a1, *h2, *a2, *h3, *r0, *a3, *a4, *d1, *d2,
      *misc;
};

__device__ __forceinline__ void
smem_setup (Smem * s)
{
  extern __shared__ double smem[];
  float *f = (float *) (smem + SM_DOUBLES);

  s->red = smem + SM_RED;
  s->tot = smem + SM_TOT;
  s->lat = smem + SM_LAT;
  s->wsum = smem + SM_WSUM;
  s->p = f + F_P;
  s->x = f + F_X;
  s->a0 = f + F_A0;
  s->h1 = f + F_H1;
  s->a1 = f + F_A1;
  s->h2 = f + F_H2;
  s->a2 = f + F_A2;
  s->h3 = f + F_H3;
  s->r0 = f + F_R0;
  s->a3 = f + F_A3;
  s->a4 = f + F_A4;
  s->d1 = f + F_D1;
  s->d2 = f + F_D2;
  s->misc = f + F_MISC;
}

__device__ __forceinline__ void
load_params (const Smem * s, const float *params)
{
  int i;

  for (i = threadIdx.x; i < VAE_N_PARAMS; i += NT)
    s->p[i] = params[i];
}

/* x (global, 256 floats) -> s->x ... h3; lat[0..3] = mu, logvar (double).
 * Ends with a barrier. */
__device__ void
encode_beat (const Smem * s, const float *x)
{
  const float *p = s->p;
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  s->x[threadIdx.x] = x[threadIdx.x];   /* NT == 256 */
  __syncthreads ();
  conv_fwd < 1, 4, 256, IN_PLAIN > (p + VAE_OFF_CONV0_WEIGHT,
      p + VAE_OFF_CONV0_BIAS, s->x, alpha, s->a0);
  __syncthreads ();
  swish_rows < 1024 > (alpha, s->a0, s->d1);
  __syncthreads ();
  down_fwd < 4, 256 > (s->d1, s->h1);
  __syncthreads ();
  conv_fwd < 4, 8, 128, IN_PLAIN > (p + VAE_OFF_CONV1_WEIGHT,
      p + VAE_OFF_CONV1_BIAS, s->h1, alpha, s->a1);
  __syncthreads ();
  swish_rows < 1024 > (alpha, s->a1, s->d1);
  __syncthreads ();
  down_fwd < 8, 128 > (s->d1, s->h2);
  __syncthreads ();
  conv_fwd < 8, 16, 64, IN_PLAIN > (p + VAE_OFF_CONV2_WEIGHT,
      p + VAE_OFF_CONV2_BIAS, s->h2, alpha, s->a2);
  __syncthreads ();
  swish_rows < 1024 > (alpha, s->a2, s->d1);
  __syncthreads ();
  down_fwd < 16, 64 > (s->d1, s->h3);
  __syncthreads ();

  /* T_i = sum_t h3[i][t] in double: warp w takes channels w and w + 8 */
  {
    double t0 = warp_sum_d ((double) s->h3[warp * 32 + lane]);
    double t1 = warp_sum_d ((double) s->h3[(warp + 8) * 32 + lane]);

    if (lane == 0) {
      s->tot[warp] = t0;
      s->tot[warp + 8] = t1;
    }
  }
  __syncthreads ();

  /* mean of a zero-padded conv: b + 1/32 sum_i (w_i0 (T_i - h_i[31]) +
   * w_i1 T_i + w_i2 (T_i - h_i[0])); thread 2 j + k: j = 0 convA, 1 convB */
  if (threadIdx.x < 4) {
    int k = threadIdx.x & 1, j = threadIdx.x >> 1, i;
    const float *w = p + (j == 0 ? VAE_OFF_CONVA_WEIGHT :
        VAE_OFF_CONVB_WEIGHT) + k * 48;
    float b = p[(j == 0 ? VAE_OFF_CONVA_BIAS : VAE_OFF_CONVB_BIAS) + k];
    double sum = 0.0;

    for (i = 0; i < 16; i++) {
      const float *h = s->h3 + i * 32;
      double tot = s->tot[i], s0 = tot - h[31], s2 = tot - h[0];

      sum += w[3 * i] * s0 + w[3 * i + 1] * tot + w[3 * i + 2] * s2;
    }
    s->lat[2 * j + k] = b + sum / 32.0;
  }
  __syncthreads ();
}

/* r0 = restore (z) ... r (256 floats, shared or global) = conv5 (...).
 * Ends with a barrier. */
__device__ void
decode_beat (const Smem * s, float z0, float z1, float *r)
{
  const float *p = s->p;
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  const float *rw = p + VAE_OFF_RESTORE_WEIGHT;
  int n = threadIdx.x;

  s->r0[n] = p[VAE_OFF_RESTORE_BIAS + n] + (rw[2 * n] * z0
      + rw[2 * n + 1] * z1);
  __syncthreads ();
  conv_fwd < 8, 4, 64, IN_UP > (p + VAE_OFF_CONV3_WEIGHT,
      p + VAE_OFF_CONV3_BIAS, s->r0, alpha, s->a3);
  __syncthreads ();
  conv_fwd < 4, 2, 128, IN_UPSWISH > (p + VAE_OFF_CONV4_WEIGHT,
      p + VAE_OFF_CONV4_BIAS, s->a3, alpha, s->a4);
  __syncthreads ();
  conv_fwd < 2, 1, 256, IN_UPSWISH > (p + VAE_OFF_CONV5_WEIGHT,
      p + VAE_OFF_CONV5_BIAS, s->a4, alpha, r);
  __syncthreads ();
}

/* Loss of one beat (returned on every thread) and its gradient into the
 * block's row g; see loss_grad_beat () in vae_ref.c for the maths */
__device__ double
loss_grad_beat (const Smem * s, const float *x, const float *eps, float *g,
    bool first)
{
  const float *p = s->p;
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  const float *rw = p + VAE_OFF_RESTORE_WEIGHT;
  float *z = s->misc, dal = 0.0f;
  double mse, dz0, dz1, loss, dsum, unused;
  int tid = threadIdx.x, idx;

  encode_beat (s, x);
  if (tid < 2) {
    /* PyTorch rounds mu and logvar to float before using them */
    float mu = (float) s->lat[tid], lv = (float) s->lat[2 + tid];

    z[tid] = mu + eps[tid] * expf (0.5f * lv);
    z[2 + tid] = eps[tid];
  }
  __syncthreads ();
  decode_beat (s, z[0], z[1], s->d2);

  /* reconstruction: dr = 2 (r - x) / 256 into d2 */
  {
    float e = s->d2[tid] - s->x[tid];

    s->d2[tid] = e * (2.0f / 256.0f);
    block_sum2 (s->red, (double) (e * e), 0.0, &mse, &unused);
  }
  {
    double kl = 0.0;
    int k;

    for (k = 0; k < 2; k++) {
      float mu = (float) s->lat[k], lv = (float) s->lat[2 + k];

      kl += 1.0 + lv - (double) mu * mu - exp ((double) lv);
    }
    loss = mse / 256.0 - 0.1 * (0.5 * kl);
  }

  /* decoder: conv5 (d2: 1 x 256) */
  conv_bwd_w < 2, 1, 256, IN_UPSWISH > (s->d2, s->a4, alpha,
      g + VAE_OFF_CONV5_WEIGHT, g + VAE_OFF_CONV5_BIAS, first);
  conv_bwd_in < 2, 1, 256 > (p + VAE_OFF_CONV5_WEIGHT, s->d2, s->d1);
  __syncthreads ();
  dal += up_swish_bwd < 2, 128 > (alpha, s->a4, s->d1, s->d2);
  __syncthreads ();
  conv_bwd_w < 4, 2, 128, IN_UPSWISH > (s->d2, s->a3, alpha,
      g + VAE_OFF_CONV4_WEIGHT, g + VAE_OFF_CONV4_BIAS, first);
  conv_bwd_in < 4, 2, 128 > (p + VAE_OFF_CONV4_WEIGHT, s->d2, s->d1);
  __syncthreads ();
  dal += up_swish_bwd < 4, 64 > (alpha, s->a3, s->d1, s->d2);
  __syncthreads ();
  conv_bwd_w < 8, 4, 64, IN_UP > (s->d2, s->r0, alpha,
      g + VAE_OFF_CONV3_WEIGHT, g + VAE_OFF_CONV3_BIAS, first);
  conv_bwd_in < 8, 4, 64 > (p + VAE_OFF_CONV3_WEIGHT, s->d2, s->d1);
  __syncthreads ();
  /* up backward: dr0[i][t] = du0[i][2t] + du0[i][2t + 1], 8 x 32 */
  {
    int c = tid >> 5, t = tid & 31;

    s->d2[tid] = s->d1[c * 64 + 2 * t] + s->d1[c * 64 + 2 * t + 1];
  }
  __syncthreads ();

  /* restore: n = tid */
  {
    float d = s->d2[tid];

    gacc (g + VAE_OFF_RESTORE_BIAS + tid, d, first);
    gacc (g + VAE_OFF_RESTORE_WEIGHT + 2 * tid, d * z[0], first);
    gacc (g + VAE_OFF_RESTORE_WEIGHT + 2 * tid + 1, d * z[1], first);
    block_sum2 (s->red, (double) (d * rw[2 * tid]),
        (double) (d * rw[2 * tid + 1]), &dz0, &dz1);
  }

  /* latent */
  if (tid < 2) {
    float mu = (float) s->lat[tid], lv = (float) s->lat[2 + tid];
    double dz = tid == 0 ? dz0 : dz1;
    double dmu = dz + 0.1 * mu;
    double dlv = dz * 0.5 * z[2 + tid] * exp (0.5 * lv)
        - 0.05 * (1.0 - exp ((double) lv));

    s->lat[4 + tid] = dmu;
    s->lat[6 + tid] = dlv;
    gacc (g + VAE_OFF_CONVA_BIAS + tid, (float) dmu, first);
    gacc (g + VAE_OFF_CONVB_BIAS + tid, (float) dlv, first);
  }
  __syncthreads ();

  /* convA / convB weights: tid = ((j * 2 + k) * 16 + i) * 3 + m */
  if (tid < 192) {
    int m = tid % 3, i = (tid / 3) % 16, k = (tid / 48) % 2, j = tid / 96;
    const float *h = s->h3 + i * 32;
    double tot = s->tot[i];
    double sv = m == 0 ? tot - h[31] : (m == 1 ? tot : tot - h[0]);
    double c = s->lat[(j == 0 ? 4 : 6) + k] / 32.0;

    gacc (g + (j == 0 ? VAE_OFF_CONVA_WEIGHT : VAE_OFF_CONVB_WEIGHT)
        + k * 48 + i * 3 + m, (float) (c * sv), first);
  } else if (tid < 192 + 48) {
    int q = tid - 192, i = q / 3, m = q % 3, k;
    double ws = 0.0;

    for (k = 0; k < 2; k++)
      ws += s->lat[4 + k] / 32.0 * p[VAE_OFF_CONVA_WEIGHT + k * 48 + 3 * i + m]
          + s->lat[6 + k] / 32.0 * p[VAE_OFF_CONVB_WEIGHT + k * 48 + 3 * i
          + m];
    s->wsum[q] = ws;
  }
  __syncthreads ();
  /* h[t] feeds outputs t + 1 (tap 0), t (tap 1), t - 1 (tap 2) */
  for (idx = tid; idx < 512; idx += NT) {
    int i = idx >> 5, t = idx & 31;
    const double *w = s->wsum + 3 * i;

    s->d2[idx] = (float) (t == 0 ? w[0] + w[1] :
        (t == 31 ? w[1] + w[2] : w[0] + w[1] + w[2]));
  }
  __syncthreads ();

  /* encoder */
  dal += down_swish_bwd < 16, 64 > (alpha, s->a2, s->d2, s->d1);
  __syncthreads ();
  conv_bwd_w < 8, 16, 64, IN_PLAIN > (s->d1, s->h2, alpha,
      g + VAE_OFF_CONV2_WEIGHT, g + VAE_OFF_CONV2_BIAS, first);
  conv_bwd_in < 8, 16, 64 > (p + VAE_OFF_CONV2_WEIGHT, s->d1, s->d2);
  __syncthreads ();
  dal += down_swish_bwd < 8, 128 > (alpha, s->a1, s->d2, s->d1);
  __syncthreads ();
  conv_bwd_w < 4, 8, 128, IN_PLAIN > (s->d1, s->h1, alpha,
      g + VAE_OFF_CONV1_WEIGHT, g + VAE_OFF_CONV1_BIAS, first);
  conv_bwd_in < 4, 8, 128 > (p + VAE_OFF_CONV1_WEIGHT, s->d1, s->d2);
  __syncthreads ();
  dal += down_swish_bwd < 4, 256 > (alpha, s->a0, s->d2, s->d1);
  __syncthreads ();
  conv_bwd_w < 1, 4, 256, IN_PLAIN > (s->d1, s->x, alpha,
      g + VAE_OFF_CONV0_WEIGHT, g + VAE_OFF_CONV0_BIAS, first);

  block_sum2 (s->red, (double) dal, 0.0, &dsum, &unused);
  if (tid == 0)
    gacc (g + VAE_OFF_SIGMA_ALPHA, (float) dsum, first);
  __syncthreads ();
  return loss;
}

/* ---------------------------------------------------------------------- */
/* Kernels */

#define MODE_ENCODE 0
#define MODE_DECODE 1
#define MODE_SCORE  2

template < int MODE > __global__ static void
__launch_bounds__ (NT, 4)
vae_fwd_kernel (const float *__restrict__ params, const float *__restrict__ x,
    const float *__restrict__ zin, size_t batch, float *mu, float *logvar,
    float *recon, float *err)
{
  Smem s;
  size_t b;
  int tid = threadIdx.x;

  smem_setup (&s);
  load_params (&s, params);
  __syncthreads ();
  for (b = blockIdx.x; b < batch; b += gridDim.x) {
    float z0, z1;

    if (MODE != MODE_DECODE) {
      encode_beat (&s, x + b * VAE_BEAT_LENGTH);
      if (tid < 2) {
        if (mu != NULL)
          mu[2 * b + tid] = (float) s.lat[tid];
        if (logvar != NULL)
          logvar[2 * b + tid] = (float) s.lat[2 + tid];
      }
      if (MODE == MODE_ENCODE)
        continue;               /* encode_beat ended with a barrier */
      z0 = (float) s.lat[0];
      z1 = (float) s.lat[1];
    } else {
      z0 = zin[2 * b];
      z1 = zin[2 * b + 1];
    }
    decode_beat (&s, z0, z1, s.d2);
    if (recon != NULL)
      recon[b * VAE_BEAT_LENGTH + tid] = s.d2[tid];
    if (MODE == MODE_SCORE && err != NULL) {
      double d = (double) s.d2[tid] - s.x[tid], e, unused;

      block_sum2 (s.red, d * d, 0.0, &e, &unused);
      if (tid == 0)
        err[b] = (float) (e / VAE_BEAT_LENGTH);
    }
    __syncthreads ();
  }
}

/* Per-block loss and gradient rows.  Beat b of the batch is
 * beats[perm ? perm[start + b] : start + b], its eps eps[2 (start + b)].
 * Does nothing when *flag (nullable) is set. */
__global__ static void
__launch_bounds__ (NT, 4)
vae_loss_grad_kernel (const float *__restrict__ params,
    const float *__restrict__ beats, const uint32_t * __restrict__ perm,
    const float *__restrict__ eps, size_t start, size_t batch,
    float *__restrict__ rows, double *__restrict__ row_loss,
    const int *flag)
{
  Smem s;
  size_t b;
  double loss = 0.0;
  float *g = rows + (size_t) blockIdx.x * GSTRIDE;

  if (flag != NULL && flag[0] != 0)
    return;
  smem_setup (&s);
  load_params (&s, params);
  __syncthreads ();
  for (b = blockIdx.x; b < batch; b += gridDim.x) {
    size_t n = start + b, src = perm != NULL ? perm[n] : n;

    loss += loss_grad_beat (&s, beats + src * VAE_BEAT_LENGTH, eps + 2 * n,
        g, b == blockIdx.x);
  }
  if (threadIdx.x == 0)
    row_loss[blockIdx.x] = loss;
}

typedef struct
{
  int apply;                    /* 0: only sum the gradient */
  float w1, fb2, w2, step_size, bc2_sqrt, feps;
  int step_index;               /* minibatch index within the epoch */
} AdamArgs;

#define RED_COLS 32
#define RED_GROUPS 32

/* Sums the nrows gradient rows and losses in double, in row order.  Block
 * 0 writes the loss (and adds it to *epoch_loss); grad (nullable) gets the
 * float gradient; with a.apply, Adam updates params, m, v unless the loss
 * is not finite (then flag[0] = 1, flag[1] = step_index) or flag[0] was
 * already set. */
__global__ static void
__launch_bounds__ (RED_COLS * RED_GROUPS)
vae_reduce_kernel (const float *__restrict__ rows,
    const double *__restrict__ row_loss, int nrows, float *grad,
    double *loss_out, double *epoch_loss, float *params, float *m, float *v,
    int *flag, AdamArgs a)
{
  __shared__ double part[RED_GROUPS][RED_COLS + 1];
  __shared__ double lred[RED_COLS * RED_GROUPS / 32];
  __shared__ int skip;
  int tid = threadIdx.x, lane = tid & 31, grp = tid >> 5, r, w;
  int col = blockIdx.x * RED_COLS + lane;
  double sum = 0.0, loss = 0.0;

  /* one read for the whole block: block 0 of this launch may set the
   * flag meanwhile (then this block's loss is not finite either) */
  if (tid == 0)
    skip = flag != NULL ? flag[0] : 0;
  __syncthreads ();
  if (skip)
    return;
  if (col < VAE_N_PARAMS)
    for (r = grp; r < nrows; r += RED_GROUPS)
      sum += rows[(size_t) r * GSTRIDE + col];
  part[grp][lane] = sum;

  for (r = tid; r < nrows; r += RED_COLS * RED_GROUPS)
    loss += row_loss[r];
  loss = warp_sum_d (loss);
  if (lane == 0)
    lred[grp] = loss;
  __syncthreads ();
  loss = 0.0;
  for (w = 0; w < RED_GROUPS; w++)
    loss += lred[w];

  if (blockIdx.x == 0 && tid == 0) {
    if (loss_out != NULL)
      *loss_out = loss;
    if (epoch_loss != NULL)
      *epoch_loss += loss;
    if (flag != NULL && !isfinite (loss)) {
      flag[0] = 1;
      flag[1] = a.step_index;
    }
  }
  if (grp != 0 || col >= VAE_N_PARAMS)
    return;
  sum = 0.0;
  for (w = 0; w < RED_GROUPS; w++)
    sum += part[w][lane];
  {
    float gi = (float) sum, mi, vi, denom;

    if (grad != NULL)
      grad[col] = gi;
    if (!a.apply || !isfinite (loss))
      return;
    /* vae_adam_step_ref, operation for operation (no contraction) */
    mi = __fadd_rn (m[col], __fmul_rn (a.w1, __fsub_rn (gi, m[col])));
    vi = __fadd_rn (__fmul_rn (v[col], a.fb2), __fmul_rn (a.w2,
            __fmul_rn (gi, gi)));
    m[col] = mi;
    v[col] = vi;
    denom = __fadd_rn (__fdiv_rn (__fsqrt_rn (vi), a.bc2_sqrt), a.feps);
    params[col] = __fsub_rn (params[col], __fmul_rn (a.step_size,
            __fdiv_rn (mi, denom)));
  }
}

__global__ static void
vae_adam_kernel (float *params, const float *grad, float *m, float *v,
    size_t n, AdamArgs a)
{
  size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
  float gi, mi, vi, denom;

  if (i >= n)
    return;
  gi = grad[i];
  mi = __fadd_rn (m[i], __fmul_rn (a.w1, __fsub_rn (gi, m[i])));
  vi = __fadd_rn (__fmul_rn (v[i], a.fb2), __fmul_rn (a.w2,
          __fmul_rn (gi, gi)));
  m[i] = mi;
  v[i] = vi;
  denom = __fadd_rn (__fdiv_rn (__fsqrt_rn (vi), a.bc2_sqrt), a.feps);
  params[i] = __fsub_rn (params[i], __fmul_rn (a.step_size,
          __fdiv_rn (mi, denom)));
}

/* ---------------------------------------------------------------------- */
/* Host side */

/* Workspace: gradient rows, then row losses (double) */
static size_t
rows_bytes (void)
{
  return (size_t) VAE_CUDA_MAX_BLOCKS * GSTRIDE * sizeof (float);
}

extern "C" size_t
vae_cuda_workspace_size (size_t batch)
{
  (void) batch;
  return rows_bytes () + VAE_CUDA_MAX_BLOCKS * sizeof (double);
}

/* Blocks for a batch: enough to fill the device once, at most one per beat */
static int
grid_for (size_t batch, int *grid)
{
  static const void *fn = (const void *) vae_loss_grad_kernel;
  int dev, sms, per_sm = 0, ret;
  size_t g;

  if ((ret = ECG_CUDA_CHECK (cudaGetDevice (&dev))) != 0
      || (ret = ECG_CUDA_CHECK (cudaDeviceGetAttribute (&sms,
                  cudaDevAttrMultiProcessorCount, dev))) != 0
      || (ret = ECG_CUDA_CHECK (cudaOccupancyMaxActiveBlocksPerMultiprocessor
              (&per_sm, fn, NT, SMEM_BYTES))) != 0)
    return ret;
  g = (size_t) sms * (per_sm > 0 ? per_sm : 1);
  if (g > VAE_CUDA_MAX_BLOCKS)
    g = VAE_CUDA_MAX_BLOCKS;
  if (g > batch)
    g = batch;
  *grid = (int) g;
  return 0;
}

static int
launch_fwd (int mode, const float *params, const float *x, const float *z,
    size_t batch, float *mu, float *logvar, float *recon, float *err,
    void *stream)
{
  cudaStream_t s = ECG_CUDA_STREAM (stream);
  int grid, ret;

  if ((ret = grid_for (batch, &grid)) != 0)
    return ret;
  /* the forward kernels use the same shared memory: several waves of
   * beats per block amortise the parameter load */
  if (mode == MODE_ENCODE)
    vae_fwd_kernel < MODE_ENCODE > <<< grid, NT, SMEM_BYTES, s >>> (params,
        x, z, batch, mu, logvar, recon, err);
  else if (mode == MODE_DECODE)
    vae_fwd_kernel < MODE_DECODE > <<< grid, NT, SMEM_BYTES, s >>> (params,
        x, z, batch, mu, logvar, recon, err);
  else
    vae_fwd_kernel < MODE_SCORE > <<< grid, NT, SMEM_BYTES, s >>> (params,
        x, z, batch, mu, logvar, recon, err);
  return ECG_CUDA_CHECK_LAUNCH ();
}

extern "C" int
vae_encode_cuda (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, void *workspace, void *stream)
{
  (void) workspace;
  if (params == NULL || (batch > 0 && (x == NULL || mu == NULL
              || logvar == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  return launch_fwd (MODE_ENCODE, params, x, NULL, batch, mu, logvar, NULL,
      NULL, stream);
}

extern "C" int
vae_decode_cuda (const float *params, const float *z, size_t batch,
    float *recon, void *workspace, void *stream)
{
  (void) workspace;
  if (params == NULL || (batch > 0 && (z == NULL || recon == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  return launch_fwd (MODE_DECODE, params, NULL, z, batch, NULL, NULL, recon,
      NULL, stream);
}

extern "C" int
vae_score_cuda (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, float *recon, float *err, void *workspace,
    void *stream)
{
  (void) workspace;
  if (params == NULL || (batch > 0 && x == NULL))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  return launch_fwd (MODE_SCORE, params, x, NULL, batch, mu, logvar, recon,
      err, stream);
}

static AdamArgs
adam_args (uint64_t step, double lr, double beta1, double beta2, double eps)
{
  AdamArgs a;
  double bc1 = 1.0 - pow (beta1, (double) step);
  double bc2 = 1.0 - pow (beta2, (double) step);

  memset (&a, 0, sizeof (a));
  a.apply = 1;
  a.w1 = (float) (1.0 - beta1);
  a.fb2 = (float) beta2;
  a.w2 = (float) (1.0 - beta2);
  a.step_size = (float) (lr / bc1);
  a.bc2_sqrt = (float) sqrt (bc2);
  a.feps = (float) eps;
  return a;
}

/* loss + gradient rows for one minibatch, then the reduction (and Adam) */
static int
step (const float *params, const float *beats, const uint32_t * perm,
    const float *eps, size_t start, size_t batch, int grid, char *ws,
    float *grad, double *loss, double *epoch_loss, float *m, float *v,
    int *flag, AdamArgs a, cudaStream_t s)
{
  float *rows = (float *) ws;
  double *row_loss = (double *) (ws + rows_bytes ());
  int ret;

  vae_loss_grad_kernel <<< grid, NT, SMEM_BYTES, s >>> (params, beats, perm,
      eps, start, batch, rows, row_loss, flag);
  if ((ret = ECG_CUDA_CHECK_LAUNCH ()) != 0)
    return ret;
  vae_reduce_kernel <<< (VAE_N_PARAMS + RED_COLS - 1) / RED_COLS,
      RED_COLS * RED_GROUPS, 0, s >>> (rows, row_loss, grid, grad, loss,
      epoch_loss, (float *) params, m, v, flag, a);
  return ECG_CUDA_CHECK_LAUNCH ();
}

extern "C" int
vae_loss_grad_cuda (const float *params, const float *x, const float *eps,
    size_t batch, float *grad, double *loss, void *workspace, void *stream)
{
  cudaStream_t s = ECG_CUDA_STREAM (stream);
  AdamArgs a;
  int grid, ret;

  if (params == NULL || grad == NULL || (batch > 0 && (x == NULL
              || eps == NULL || workspace == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0) {
    if ((ret = ECG_CUDA_CHECK (cudaMemsetAsync (grad, 0,
                    VAE_N_PARAMS * sizeof (float), s))) != 0)
      return ret;
    if (loss != NULL)
      return ECG_CUDA_CHECK (cudaMemsetAsync (loss, 0, sizeof (double), s));
    return VAE_OK;
  }
  if ((ret = grid_for (batch, &grid)) != 0)
    return ret;
  memset (&a, 0, sizeof (a));
  return step (params, x, NULL, eps, 0, batch, grid, (char *) workspace,
      grad, loss, NULL, NULL, NULL, NULL, a, s);
}

extern "C" int
vae_adam_step_cuda (float *params, const float *grad, float *m, float *v,
    size_t n, uint64_t step_no, double lr, double beta1, double beta2,
    double eps, void *stream)
{
  AdamArgs a;

  if (params == NULL || grad == NULL || m == NULL || v == NULL
      || step_no == 0)
    return VAE_ERR_INVALID_ARG;
  if (n == 0)
    return VAE_OK;
  a = adam_args (step_no, lr, beta1, beta2, eps);
  vae_adam_kernel <<< (unsigned) ((n + 255) / 256), 256, 0,
      ECG_CUDA_STREAM (stream) >>> (params, grad, m, v, n, a);
  return ECG_CUDA_CHECK_LAUNCH ();
}

/* Training workspace: vae_cuda_workspace_size, then epoch_loss (double),
 * flag (2 ints), perm (n uint32), eps (2 n floats) */
#define TRAIN_HDR 64

static size_t
align256 (size_t n)
{
  return (n + 255) & ~(size_t) 255;
}

extern "C" size_t
vae_train_cuda_workspace_size (size_t n_beats, size_t batch_size)
{
  return align256 (vae_cuda_workspace_size (batch_size)) + TRAIN_HDR
      + align256 (n_beats * sizeof (uint32_t)) + n_beats * 2 * sizeof (float);
}

extern "C" size_t
vae_train_cuda_host_workspace_size (size_t n_beats)
{
  return align256 (n_beats * sizeof (uint32_t)) + n_beats * 2 * sizeof (float);
}

extern "C" int
vae_train_epoch_cuda (VaeTrainState * st, const float *beats, size_t n_beats,
    void *workspace, void *host_workspace, double *mean_loss, void *stream)
{
  cudaStream_t s = ECG_CUDA_STREAM (stream);
  size_t o_hdr, o_perm, o_eps, i, bs, start, n_steps;
  char *ws = (char *) workspace, *hws = (char *) host_workspace;
  uint32_t *perm;
  float *eps;
  double *epoch_loss;
  int *flag, grid, ret;
  struct
  {
    double loss;
    int flag[2];
  } res;

  if (st == NULL || st->params == NULL || st->m == NULL || st->v == NULL
      || beats == NULL || workspace == NULL || host_workspace == NULL
      || n_beats == 0 || st->batch_size == 0 || n_beats > UINT32_MAX)
    return VAE_ERR_INVALID_ARG;
  bs = st->batch_size;
  o_hdr = align256 (vae_cuda_workspace_size (bs));
  o_perm = o_hdr + TRAIN_HDR;
  o_eps = o_perm + align256 (n_beats * sizeof (uint32_t));
  epoch_loss = (double *) (ws + o_hdr);
  flag = (int *) (ws + o_hdr + sizeof (double));

  /* the reference's RNG use: the shuffle, then 2 x rows normals per
   * minibatch, which concatenate to 2 n_beats normals (rows pair up) */
  perm = (uint32_t *) hws;
  eps = (float *) (hws + align256 (n_beats * sizeof (uint32_t)));
  for (i = 0; i < n_beats; i++)
    perm[i] = (uint32_t) i;
  for (i = n_beats - 1; i > 0; i--) {
    size_t j = (size_t) vae_rng_below (&st->rng, (uint64_t) i + 1);
    uint32_t tmp = perm[i];

    perm[i] = perm[j];
    perm[j] = tmp;
  }
  for (start = 0; start < n_beats; start += bs) {
    size_t nb = n_beats - start < bs ? n_beats - start : bs;

    vae_rng_normal (&st->rng, eps + 2 * start, 2 * nb);
  }

  if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (ws + o_perm, perm,
                  n_beats * sizeof (uint32_t), cudaMemcpyHostToDevice,
                  s))) != 0
      || (ret = ECG_CUDA_CHECK (cudaMemcpyAsync (ws + o_eps, eps,
                  n_beats * 2 * sizeof (float), cudaMemcpyHostToDevice,
                  s))) != 0
      || (ret = ECG_CUDA_CHECK (cudaMemsetAsync (ws + o_hdr, 0, TRAIN_HDR,
                  s))) != 0)
    return ret;

  n_steps = 0;
  for (start = 0; start < n_beats; start += bs) {
    size_t nb = n_beats - start < bs ? n_beats - start : bs;
    AdamArgs a = adam_args (st->step + n_steps + 1, st->lr, st->beta1,
        st->beta2, st->eps);

    a.step_index = (int) n_steps;
    if ((ret = grid_for (nb, &grid)) != 0)
      return ret;
    ret = step (st->params, beats, (const uint32_t *) (ws + o_perm),
        (const float *) (ws + o_eps), start, nb, grid, ws, NULL, NULL,
        epoch_loss, st->m, st->v, flag, a, s);
    if (ret != 0)
      return ret;
    n_steps++;
  }

  if ((ret = ECG_CUDA_CHECK (cudaMemcpyAsync (&res, ws + o_hdr, sizeof (res),
                  cudaMemcpyDeviceToHost, s))) != 0
      || (ret = ECG_CUDA_CHECK (cudaStreamSynchronize (s))) != 0)
    return ret;
  if (res.flag[0] != 0) {
    st->step += (uint64_t) res.flag[1];
    return VAE_ERR_NONFINITE;
  }
  st->step += n_steps;
  if (mean_loss != NULL)
    *mean_loss = res.loss / (double) n_beats;
  return VAE_OK;
}

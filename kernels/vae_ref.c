/* LightVAE on the CPU: the executable specification of the model, its loss,
 * gradient and Adam, and the trainer.
 *
 * Storage is float32 throughout, as in PyTorch.  Each beat goes through the
 * whole network (and for training back through it) in one thread, in a
 * scratch area of a few tens of KiB that stays in the L1/L2 cache; the beats
 * of one call are split into contiguous ranges, one per thread.  Per-beat
 * weight gradients are float dot products, added into per-thread double
 * accumulators; the threads' sums are added in thread order, so results do
 * not depend on scheduling.
 *
 * Inner loops run along the time axis over rows padded with zeros on both
 * sides (so conv taps at t - 1 and t + 1 need no branches) and are written
 * for the vectoriser, including the exponential in the Swish.
 */

#define _GNU_SOURCE
#include "vae.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hot loops are compiled once for the baseline ISA and once for AVX2 + FMA,
 * picked at load time (GCC's function multiversioning). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
#define VAE_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define VAE_CLONES
#endif

#define VAE_FORCE_INLINE static inline __attribute__ ((always_inline))
#ifdef VAE_PROFILE
#define VAE_INLINE static __attribute__ ((noinline))
#else
#define VAE_INLINE static inline __attribute__ ((always_inline))
#endif

/* *INDENT-OFF* */
const VaeParamInfo vae_param_table[VAE_N_TENSORS] = {
  {"sigma.alpha",    1, {1, 0, 0},    VAE_OFF_SIGMA_ALPHA,    1,   0},
  {"conv0.weight",   3, {4, 1, 3},    VAE_OFF_CONV0_WEIGHT,   12,  3},
  {"conv0.bias",     1, {4, 0, 0},    VAE_OFF_CONV0_BIAS,     4,   3},
  {"conv1.weight",   3, {8, 4, 3},    VAE_OFF_CONV1_WEIGHT,   96,  12},
  {"conv1.bias",     1, {8, 0, 0},    VAE_OFF_CONV1_BIAS,     8,   12},
  {"conv2.weight",   3, {16, 8, 3},   VAE_OFF_CONV2_WEIGHT,   384, 24},
  {"conv2.bias",     1, {16, 0, 0},   VAE_OFF_CONV2_BIAS,     16,  24},
  {"convA.weight",   3, {2, 16, 3},   VAE_OFF_CONVA_WEIGHT,   96,  48},
  {"convA.bias",     1, {2, 0, 0},    VAE_OFF_CONVA_BIAS,     2,   48},
  {"convB.weight",   3, {2, 16, 3},   VAE_OFF_CONVB_WEIGHT,   96,  48},
  {"convB.bias",     1, {2, 0, 0},    VAE_OFF_CONVB_BIAS,     2,   48},
  {"restore.weight", 2, {256, 2, 0},  VAE_OFF_RESTORE_WEIGHT, 512, 2},
  {"restore.bias",   1, {256, 0, 0},  VAE_OFF_RESTORE_BIAS,   256, 2},
  {"conv3.weight",   3, {4, 8, 3},    VAE_OFF_CONV3_WEIGHT,   96,  24},
  {"conv3.bias",     1, {4, 0, 0},    VAE_OFF_CONV3_BIAS,     4,   24},
  {"conv4.weight",   3, {2, 4, 3},    VAE_OFF_CONV4_WEIGHT,   24,  12},
  {"conv4.bias",     1, {2, 0, 0},    VAE_OFF_CONV4_BIAS,     2,   12},
  {"conv5.weight",   3, {1, 2, 3},    VAE_OFF_CONV5_WEIGHT,   6,   6},
  {"conv5.bias",     1, {1, 0, 0},    VAE_OFF_CONV5_BIAS,     1,   6},
};
/* *INDENT-ON* */

const VaeParamInfo *
vae_param_lookup (const char *name)
{
  int i;

  if (name == NULL)
    return NULL;
  for (i = 0; i < VAE_N_TENSORS; i++)
    if (strcmp (vae_param_table[i].name, name) == 0)
      return &vae_param_table[i];
  return NULL;
}

const char *
vae_strerror (int status)
{
  switch (status) {
    case VAE_OK:
      return "success";
    case VAE_ERR_INVALID_ARG:
      return "invalid argument";
    case VAE_ERR_NONFINITE:
      return "loss is not finite (training diverged)";
    default:
      return "unknown VAE error";
  }
}

/* ---------------------------------------------------------------------- */
/* Threads */

static int vae_threads_setting = 0;

void
vae_set_threads (int n_threads)
{
  vae_threads_setting = n_threads < 0 ? 0 : n_threads;
}

int
vae_get_threads (void)
{
  static int n_cpus = 0;
  int n = vae_threads_setting;

  if (n <= 0) {
    /* benign race: every thread computes the same value */
    if (n_cpus <= 0) {
      long c = sysconf (_SC_NPROCESSORS_ONLN);
      n_cpus = c < 1 ? 1 : (c > VAE_MAX_THREADS ? VAE_MAX_THREADS : (int) c);
    }
    n = n_cpus;
  }
  return n > VAE_MAX_THREADS ? VAE_MAX_THREADS : n;
}

/* Threads whose scratch the workspace holds for @batch beats */
static int
slots_for_batch (size_t batch)
{
  size_t n = (batch + VAE_MIN_BEATS_PER_THREAD - 1) / VAE_MIN_BEATS_PER_THREAD;

  if (n < 1)
    n = 1;
  return n > VAE_MAX_THREADS ? VAE_MAX_THREADS : (int) n;
}

/* ---------------------------------------------------------------------- */
/* Per-beat scratch
 *
 * Every activation is C rows of L floats; rows are ROW (L) = L + 16 floats
 * apart with the data at offset 8, so row[-1] and row[L] are zeros that the
 * code never writes (they are cleared once per call). */

#define PAD 8
#define ROW(L) ((L) + 2 * PAD)

typedef struct
{
  /* encoder */
  float *x, *a0, *s0, *g0, *h1, *a1, *s1, *g1, *h2, *a2, *s2, *g2, *h3;
  /* decoder */
  float *r0, *u0, *a3, *s3, *g3, *u1, *a4, *s4, *g4, *u2, *r;
  /* gradients of the activations (in place where possible) */
  float *dr, *du2, *da4, *du1, *da3, *du0, *dr0;
  float *dh3, *da2, *dh2, *da1, *dh1, *da0;
  double mu[2], lv[2];
  double tot[16];               /* sum over t of h3[i] */
} Beat;

static size_t
beat_alloc (float **p, float *base, int clear, size_t off, int C, int L)
{
  size_t n = (size_t) C * ROW (L);
  int c;

  if (base != NULL) {
    *p = base + off + PAD;
    /* everything but the data, which each beat writes before reading */
    for (c = 0; clear && c < C; c++) {
      memset (base + off + (size_t) c * ROW (L), 0, PAD * sizeof (float));
      memset (base + off + (size_t) c * ROW (L) + PAD + L, 0,
          PAD * sizeof (float));
    }
  }
  return off + n;
}

/* Lays the scratch out from @base (NULL: only sizes it), zeroing the pads
 * if @clear; returns its size in floats */
static size_t
beat_setup (Beat * bt, float *base, int clear)
{
  size_t o = 0;

  o = beat_alloc (&bt->x, base, clear, o, 1, 256);
  o = beat_alloc (&bt->a0, base, clear, o, 4, 256);
  o = beat_alloc (&bt->s0, base, clear, o, 4, 256);
  o = beat_alloc (&bt->g0, base, clear, o, 4, 256);
  o = beat_alloc (&bt->h1, base, clear, o, 4, 128);
  o = beat_alloc (&bt->a1, base, clear, o, 8, 128);
  o = beat_alloc (&bt->s1, base, clear, o, 8, 128);
  o = beat_alloc (&bt->g1, base, clear, o, 8, 128);
  o = beat_alloc (&bt->h2, base, clear, o, 8, 64);
  o = beat_alloc (&bt->a2, base, clear, o, 16, 64);
  o = beat_alloc (&bt->s2, base, clear, o, 16, 64);
  o = beat_alloc (&bt->g2, base, clear, o, 16, 64);
  o = beat_alloc (&bt->h3, base, clear, o, 16, 32);

  o = beat_alloc (&bt->r0, base, clear, o, 8, 32);
  o = beat_alloc (&bt->u0, base, clear, o, 8, 64);
  o = beat_alloc (&bt->a3, base, clear, o, 4, 64);
  o = beat_alloc (&bt->s3, base, clear, o, 4, 64);
  o = beat_alloc (&bt->g3, base, clear, o, 4, 64);
  o = beat_alloc (&bt->u1, base, clear, o, 4, 128);
  o = beat_alloc (&bt->a4, base, clear, o, 2, 128);
  o = beat_alloc (&bt->s4, base, clear, o, 2, 128);
  o = beat_alloc (&bt->g4, base, clear, o, 2, 128);
  o = beat_alloc (&bt->u2, base, clear, o, 2, 256);
  o = beat_alloc (&bt->r, base, clear, o, 1, 256);

  o = beat_alloc (&bt->dr, base, clear, o, 1, 256);
  o = beat_alloc (&bt->du2, base, clear, o, 2, 256);
  o = beat_alloc (&bt->da4, base, clear, o, 2, 128);
  o = beat_alloc (&bt->du1, base, clear, o, 4, 128);
  o = beat_alloc (&bt->da3, base, clear, o, 4, 64);
  o = beat_alloc (&bt->du0, base, clear, o, 8, 64);
  o = beat_alloc (&bt->dr0, base, clear, o, 8, 32);
  o = beat_alloc (&bt->dh3, base, clear, o, 16, 32);
  o = beat_alloc (&bt->da2, base, clear, o, 16, 64);
  o = beat_alloc (&bt->dh2, base, clear, o, 8, 64);
  o = beat_alloc (&bt->da1, base, clear, o, 8, 128);
  o = beat_alloc (&bt->dh1, base, clear, o, 4, 128);
  o = beat_alloc (&bt->da0, base, clear, o, 4, 256);
  return o;
}

/* Per-thread slot: the beat scratch, then VAE_N_PARAMS double gradient
 * accumulators; rounded to 64 bytes */
static size_t
slot_bytes (void)
{
  Beat bt;
  size_t n = beat_setup (&bt, NULL, 0) * sizeof (float)
      + VAE_N_PARAMS * sizeof (double);

  return (n + 63) & ~(size_t) 63;
}

size_t
vae_workspace_size (size_t batch)
{
  return 64 + (size_t) slots_for_batch (batch) * slot_bytes ();
}

static char *
align64 (void *p)
{
  uintptr_t u = (uintptr_t) p;

  return (char *) ((u + 63) & ~(uintptr_t) 63);
}

/* ---------------------------------------------------------------------- */
/* Elementwise maths */

/* Sums of 8 and 16 float lanes, pairwise, as double */
VAE_INLINE double
lanes8 (const float *s)
{
  return (double) (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3]
              + s[7])));
}

VAE_INLINE double
lanes16 (const float *s)
{
  float a[8];
  int j;

  for (j = 0; j < 8; j++)
    a[j] = s[j] + s[j + 8];
  return lanes8 (a);
}

/* exp (x), written without comparisons so that it vectorises (float
 * compares could trap, which stops GCC's if-conversion):
 * - |x| is clamped to 87 on the integer bits (NaN becomes +-87);
 * - n = round (x / ln2) as trunc (x / ln2 + 128.5) - 128, a floor since the
 *   argument is positive;
 * - Cody-Waite reduction r = x - n ln2 (|r| <= ln2 / 2), the Cephes expf
 *   polynomial for e^r (about 1 ulp), and 2^n built in the exponent bits. */
VAE_FORCE_INLINE float
vexpf (float x)
{
  union
  {
    int32_t i;
    float f;
  } u, s;
  float fx, r, p;
  int32_t n, ax;

  u.f = x;
  ax = u.i & 0x7fffffff;
  ax = ax < 0x42ae0000 ? ax : 0x42ae0000;       /* 87.0f */
  u.i = (u.i & (int32_t) 0x80000000) | ax;
  x = u.f;
  n = (int32_t) (x * 1.44269504088896341f + 128.5f) - 128;
  fx = (float) n;
  r = x - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  s.i = (n + 127) << 23;
  return p * s.f;
}

/* g = swish (a) = a sigmoid (alpha a), keeping s = sigmoid (alpha a) */
VAE_INLINE void
swish_fwd (float alpha, const float *restrict a, float *restrict s,
    float *restrict g, int C, int L)
{
  int c, t;

  for (c = 0; c < C; c++) {
    const float *restrict ar = a + (size_t) c * ROW (L);
    float *restrict sr = s + (size_t) c * ROW (L);
    float *restrict gr = g + (size_t) c * ROW (L);

    for (t = 0; t < L; t++) {
      float sg = 1.0f / (1.0f + vexpf (-alpha * ar[t]));

      sr[t] = sg;
      gr[t] = ar[t] * sg;
    }
  }
}

/* d/da swish = s + alpha a s (1 - s); d/dalpha swish = a^2 s (1 - s).
 * d holds dL/dg on entry and dL/da on return; returns sum dg * d/dalpha. */
VAE_INLINE double
swish_bwd (float alpha, const float *restrict a, const float *restrict s,
    float *restrict d, int C, int L)
{
  double dalpha = 0.0;
  int c, t, j;

  for (c = 0; c < C; c++) {
    const float *restrict ar = a + (size_t) c * ROW (L);
    const float *restrict sr = s + (size_t) c * ROW (L);
    float *restrict dr = d + (size_t) c * ROW (L);
    float acc[8] = { 0.0f };

    for (t = 0; t < L; t += 8)
      for (j = 0; j < 8; j++) {
        float sv = sr[t + j], av = ar[t + j], dg = dr[t + j];
        float q = av * sv * (1.0f - sv);

        dr[t + j] = dg * (sv + alpha * q);
        acc[j] += dg * av * q;
      }
    dalpha += lanes8 (acc);
  }
  return dalpha;
}

/* ---------------------------------------------------------------------- */
/* Layers */

/* Time blocks: 32 outputs at a time (four AVX registers), L % 32 == 0 */
#define TB 32

/* out[o][t] = b[o] + sum_i sum_k w[o][i][k] in[i][t + k - 1] (zero padded) */
VAE_INLINE void
conv_fwd (const float *restrict w, const float *restrict b,
    const float *restrict in, int cin, float *restrict out, int cout, int L)
{
  int o, i, t, j;

  for (o = 0; o < cout; o++) {
    float *restrict y = out + (size_t) o * ROW (L);

    for (t = 0; t < L; t += TB) {
      float acc[TB];

      for (j = 0; j < TB; j++)
        acc[j] = b[o];
      for (i = 0; i < cin; i++) {
        const float *restrict xr = in + (size_t) i * ROW (L) + t;
        const float *restrict wr = w + ((size_t) o * cin + i) * 3;
        float w0 = wr[0], w1 = wr[1], w2 = wr[2];

        for (j = 0; j < TB; j++)
          acc[j] += w0 * xr[j - 1] + w1 * xr[j] + w2 * xr[j + 1];
      }
      for (j = 0; j < TB; j++)
        y[t + j] = acc[j];
    }
  }
}

/* din[i][t] = sum_o sum_k w[o][i][k] dout[o][t - k + 1] (dout zero padded) */
VAE_INLINE void
conv_bwd_in (const float *restrict w, const float *restrict dout, int cout,
    float *restrict din, int cin, int L)
{
  int o, i, t, j;

  for (i = 0; i < cin; i++) {
    float *restrict dx = din + (size_t) i * ROW (L);

    for (t = 0; t < L; t += TB) {
      float acc[TB] = { 0.0f };

      for (o = 0; o < cout; o++) {
        const float *restrict dr = dout + (size_t) o * ROW (L) + t;
        const float *restrict wr = w + ((size_t) o * cin + i) * 3;
        float w0 = wr[0], w1 = wr[1], w2 = wr[2];

        for (j = 0; j < TB; j++)
          acc[j] += w0 * dr[j + 1] + w1 * dr[j] + w2 * dr[j - 1];
      }
      for (j = 0; j < TB; j++)
        dx[t + j] = acc[j];
    }
  }
}

/* gw[o][i][k] += sum_t dout[o][t] in[i][t + k - 1]; gb[o] += sum_t dout[o][t]
 * (float sums in 16 lanes, then double) */
VAE_INLINE void
conv_bwd_w (const float *restrict dout, int cout, const float *restrict in,
    int cin, int L, double *restrict gw, double *restrict gb)
{
  int o, i, t, j;

  for (o = 0; o < cout; o++) {
    const float *restrict dr = dout + (size_t) o * ROW (L);
    float sb[16] = { 0.0f };

    for (t = 0; t < L; t += 16)
      for (j = 0; j < 16; j++)
        sb[j] += dr[t + j];
    gb[o] += lanes16 (sb);

    for (i = 0; i < cin; i++) {
      const float *restrict xr = in + (size_t) i * ROW (L);
      float s0[16] = { 0.0f }, s1[16] = { 0.0f }, s2[16] = { 0.0f };
      double *g = gw + ((size_t) o * cin + i) * 3;

      for (t = 0; t < L; t += 16)
        for (j = 0; j < 16; j++) {
          float d = dr[t + j];

          s0[j] += d * xr[t + j - 1];
          s1[j] += d * xr[t + j];
          s2[j] += d * xr[t + j + 1];
        }
      g[0] += lanes16 (s0);
      g[1] += lanes16 (s1);
      g[2] += lanes16 (s2);
    }
  }
}

/* down: out[t] = in[2t - 1] + 2 in[2t] + in[2t + 1], L -> L / 2.  The even
 * and odd samples are split first: the overlapping stride-2 reads of the
 * direct form do not vectorise. */
VAE_INLINE void
down_fwd (const float *restrict in, float *restrict out, int C, int L)
{
  float ev[128], od[129];
  int c, t;

  for (c = 0; c < C; c++) {
    const float *restrict xr = in + (size_t) c * ROW (L);
    float *restrict y = out + (size_t) c * ROW (L / 2);

    od[0] = 0.0f;
    for (t = 0; t < L / 2; t++) {
      ev[t] = xr[2 * t];
      od[t + 1] = xr[2 * t + 1];
    }
    for (t = 0; t < L / 2; t++)
      y[t] = od[t] + 2.0f * ev[t] + od[t + 1];
  }
}

/* din[2t] = 2 dout[t]; din[2t + 1] = dout[t] + dout[t + 1] */
VAE_INLINE void
down_bwd (const float *restrict dout, float *restrict din, int C, int L)
{
  int c, t;

  for (c = 0; c < C; c++) {
    const float *restrict dy = dout + (size_t) c * ROW (L / 2);
    float *restrict dx = din + (size_t) c * ROW (L);

    for (t = 0; t < L / 2; t++) {
      dx[2 * t] = 2.0f * dy[t];
      dx[2 * t + 1] = dy[t] + dy[t + 1];
    }
  }
}

/* nearest x2: out[2t] = out[2t + 1] = in[t], L -> 2L */
VAE_INLINE void
up_fwd (const float *restrict in, float *restrict out, int C, int L)
{
  int c, t;

  for (c = 0; c < C; c++) {
    const float *restrict xr = in + (size_t) c * ROW (L);
    float *restrict y = out + (size_t) c * ROW (2 * L);

    for (t = 0; t < L; t++) {
      y[2 * t] = xr[t];
      y[2 * t + 1] = xr[t];
    }
  }
}

/* din[t] = dout[2t] + dout[2t + 1] */
VAE_INLINE void
up_bwd (const float *restrict dout, float *restrict din, int C, int L)
{
  int c, t;

  for (c = 0; c < C; c++) {
    const float *restrict dy = dout + (size_t) c * ROW (2 * L);
    float *restrict dx = din + (size_t) c * ROW (L);

    for (t = 0; t < L; t++)
      dx[t] = dy[2 * t] + dy[2 * t + 1];
  }
}

/* ---------------------------------------------------------------------- */
/* The network, one beat */

/* h = down (swish (conv0 (x))) ... h3 (16 x 32); mu, logvar = mean over t
 * of convA (h3), convB (h3).  The mean of a zero-padded conv is
 *   b + 1/32 sum_i (w_i0 (T_i - h_i[31]) + w_i1 T_i + w_i2 (T_i - h_i[0]))
 * with T_i = sum_t h_i[t], summed here in double. */
VAE_INLINE void
encode_beat (const float *p, Beat * bt, const float *x)
{
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  int i, k, t;

  memcpy (bt->x, x, VAE_BEAT_LENGTH * sizeof (float));
  conv_fwd (p + VAE_OFF_CONV0_WEIGHT, p + VAE_OFF_CONV0_BIAS, bt->x, 1,
      bt->a0, 4, 256);
  swish_fwd (alpha, bt->a0, bt->s0, bt->g0, 4, 256);
  down_fwd (bt->g0, bt->h1, 4, 256);
  conv_fwd (p + VAE_OFF_CONV1_WEIGHT, p + VAE_OFF_CONV1_BIAS, bt->h1, 4,
      bt->a1, 8, 128);
  swish_fwd (alpha, bt->a1, bt->s1, bt->g1, 8, 128);
  down_fwd (bt->g1, bt->h2, 8, 128);
  conv_fwd (p + VAE_OFF_CONV2_WEIGHT, p + VAE_OFF_CONV2_BIAS, bt->h2, 8,
      bt->a2, 16, 64);
  swish_fwd (alpha, bt->a2, bt->s2, bt->g2, 16, 64);
  down_fwd (bt->g2, bt->h3, 16, 64);

  for (i = 0; i < 16; i++) {
    const float *restrict h = bt->h3 + (size_t) i * ROW (32);
    float acc[16];

    for (t = 0; t < 16; t++)
      acc[t] = h[t] + h[t + 16];
    bt->tot[i] = lanes16 (acc);
  }
  for (k = 0; k < 2; k++) {
    const float *wa = p + VAE_OFF_CONVA_WEIGHT + k * 48;
    const float *wb = p + VAE_OFF_CONVB_WEIGHT + k * 48;
    double sa = 0.0, sb = 0.0;

    for (i = 0; i < 16; i++) {
      const float *h = bt->h3 + (size_t) i * ROW (32);
      double tot = bt->tot[i], s0 = tot - h[31], s2 = tot - h[0];

      sa += wa[3 * i] * s0 + wa[3 * i + 1] * tot + wa[3 * i + 2] * s2;
      sb += wb[3 * i] * s0 + wb[3 * i + 1] * tot + wb[3 * i + 2] * s2;
    }
    bt->mu[k] = p[VAE_OFF_CONVA_BIAS + k] + sa / 32.0;
    bt->lv[k] = p[VAE_OFF_CONVB_BIAS + k] + sb / 32.0;
  }
}

/* r0 = restore (z) as 8 x 32; g3 = swish (conv3 (up (r0))) (4 x 64);
 * g4 = swish (conv4 (up (g3))) (2 x 128); r = conv5 (up (g4)) (256) */
VAE_INLINE void
decode_beat (const float *p, Beat * bt, float z0, float z1)
{
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  const float *rw = p + VAE_OFF_RESTORE_WEIGHT;
  const float *rb = p + VAE_OFF_RESTORE_BIAS;
  int c, t;

  for (c = 0; c < 8; c++) {
    float *y = bt->r0 + (size_t) c * ROW (32);

    for (t = 0; t < 32; t++) {
      int j = c * 32 + t;

      y[t] = rb[j] + (rw[2 * j] * z0 + rw[2 * j + 1] * z1);
    }
  }
  up_fwd (bt->r0, bt->u0, 8, 32);
  conv_fwd (p + VAE_OFF_CONV3_WEIGHT, p + VAE_OFF_CONV3_BIAS, bt->u0, 8,
      bt->a3, 4, 64);
  swish_fwd (alpha, bt->a3, bt->s3, bt->g3, 4, 64);
  up_fwd (bt->g3, bt->u1, 4, 64);
  conv_fwd (p + VAE_OFF_CONV4_WEIGHT, p + VAE_OFF_CONV4_BIAS, bt->u1, 4,
      bt->a4, 2, 128);
  swish_fwd (alpha, bt->a4, bt->s4, bt->g4, 2, 128);
  up_fwd (bt->g4, bt->u2, 2, 128);
  conv_fwd (p + VAE_OFF_CONV5_WEIGHT, p + VAE_OFF_CONV5_BIAS, bt->u2, 2,
      bt->r, 1, 256);
}

/* Loss of one beat and its gradient added into g (double, VAE_N_PARAMS):
 *   z = mu + eps exp (logvar / 2),  r = decode (z)
 *   loss = 1/256 sum_j (r_j - x_j)^2 - 0.1/2 sum_k (1 + lv_k - mu_k^2 - e^lv_k)
 *   dL/dr_j = 2 (r_j - x_j) / 256
 *   dL/dmu_k = dL/dz_k + 0.1 mu_k
 *   dL/dlv_k = dL/dz_k eps_k exp (lv_k / 2) / 2 - 0.05 (1 - e^lv_k)
 * and backwards through every layer (see the helpers). */
VAE_INLINE double
loss_grad_beat (const float *p, Beat * bt, const float *x, const float *eps,
    double *g)
{
  float alpha = p[VAE_OFF_SIGMA_ALPHA];
  const float *rw = p + VAE_OFF_RESTORE_WEIGHT;
  double dalpha = 0.0, mse, kl, dz[2], dmu[2], dlv[2];
  float mu[2], lv[2], z[2], acc[8] = { 0.0f };
  int i, j, k, t;

  encode_beat (p, bt, x);
  for (k = 0; k < 2; k++) {
    /* PyTorch rounds mu and logvar to float before using them */
    mu[k] = (float) bt->mu[k];
    lv[k] = (float) bt->lv[k];
    z[k] = mu[k] + eps[k] * expf (0.5f * lv[k]);
  }
  decode_beat (p, bt, z[0], z[1]);

  /* reconstruction */
  for (t = 0; t < 256; t += 8)
    for (j = 0; j < 8; j++) {
      float e = bt->r[t + j] - bt->x[t + j];

      acc[j] += e * e;
      bt->dr[t + j] = e * (2.0f / 256.0f);
    }
  mse = lanes8 (acc) / 256.0;
  kl = 0.0;
  for (k = 0; k < 2; k++)
    kl += 1.0 + lv[k] - (double) mu[k] * mu[k] - exp ((double) lv[k]);
  kl *= 0.5;

  /* decoder */
  conv_bwd_w (bt->dr, 1, bt->u2, 2, 256, g + VAE_OFF_CONV5_WEIGHT,
      g + VAE_OFF_CONV5_BIAS);
  conv_bwd_in (p + VAE_OFF_CONV5_WEIGHT, bt->dr, 1, bt->du2, 2, 256);
  up_bwd (bt->du2, bt->da4, 2, 128);
  dalpha += swish_bwd (alpha, bt->a4, bt->s4, bt->da4, 2, 128);
  conv_bwd_w (bt->da4, 2, bt->u1, 4, 128, g + VAE_OFF_CONV4_WEIGHT,
      g + VAE_OFF_CONV4_BIAS);
  conv_bwd_in (p + VAE_OFF_CONV4_WEIGHT, bt->da4, 2, bt->du1, 4, 128);
  up_bwd (bt->du1, bt->da3, 4, 64);
  dalpha += swish_bwd (alpha, bt->a3, bt->s3, bt->da3, 4, 64);
  conv_bwd_w (bt->da3, 4, bt->u0, 8, 64, g + VAE_OFF_CONV3_WEIGHT,
      g + VAE_OFF_CONV3_BIAS);
  conv_bwd_in (p + VAE_OFF_CONV3_WEIGHT, bt->da3, 4, bt->du0, 8, 64);
  up_bwd (bt->du0, bt->dr0, 8, 32);

  /* restore */
  {
    double *gw = g + VAE_OFF_RESTORE_WEIGHT, *gb = g + VAE_OFF_RESTORE_BIAS;
    float d0[8] = { 0.0f }, d1[8] = { 0.0f };

    for (i = 0; i < 8; i++) {
      const float *dy = bt->dr0 + (size_t) i * ROW (32);

      for (t = 0; t < 32; t += 8)
        for (j = 0; j < 8; j++) {
          int n = i * 32 + t + j;
          float d = dy[t + j];

          gb[n] += d;
          gw[2 * n] += (double) (d * z[0]);
          gw[2 * n + 1] += (double) (d * z[1]);
          d0[j] += d * rw[2 * n];
          d1[j] += d * rw[2 * n + 1];
        }
    }
    dz[0] = lanes8 (d0);
    dz[1] = lanes8 (d1);
  }

  /* latent */
  for (k = 0; k < 2; k++) {
    dmu[k] = dz[k] + 0.1 * mu[k];
    dlv[k] = dz[k] * 0.5 * eps[k] * exp (0.5 * lv[k])
        - 0.05 * (1.0 - exp ((double) lv[k]));
  }

  /* convA / convB, mean over t */
  for (k = 0; k < 2; k++) {
    g[VAE_OFF_CONVA_BIAS + k] += dmu[k];
    g[VAE_OFF_CONVB_BIAS + k] += dlv[k];
  }
  for (i = 0; i < 16; i++) {
    const float *h = bt->h3 + (size_t) i * ROW (32);
    float *dh = bt->dh3 + (size_t) i * ROW (32);
    double tot = bt->tot[i], s[3], wsum[3];

    s[0] = tot - h[31];
    s[1] = tot;
    s[2] = tot - h[0];
    for (j = 0; j < 3; j++)
      wsum[j] = 0.0;
    for (k = 0; k < 2; k++) {
      const float *wa = p + VAE_OFF_CONVA_WEIGHT + k * 48 + 3 * i;
      const float *wb = p + VAE_OFF_CONVB_WEIGHT + k * 48 + 3 * i;
      double ca = dmu[k] / 32.0, cb = dlv[k] / 32.0;

      for (j = 0; j < 3; j++) {
        g[VAE_OFF_CONVA_WEIGHT + k * 48 + 3 * i + j] += ca * s[j];
        g[VAE_OFF_CONVB_WEIGHT + k * 48 + 3 * i + j] += cb * s[j];
        wsum[j] += ca * wa[j] + cb * wb[j];
      }
    }
    /* h[t] feeds outputs t + 1 (tap 0), t (tap 1), t - 1 (tap 2) */
    dh[0] = (float) (wsum[0] + wsum[1]);
    for (t = 1; t < 31; t++)
      dh[t] = (float) (wsum[0] + wsum[1] + wsum[2]);
    dh[31] = (float) (wsum[1] + wsum[2]);
  }

  /* encoder */
  down_bwd (bt->dh3, bt->da2, 16, 64);
  dalpha += swish_bwd (alpha, bt->a2, bt->s2, bt->da2, 16, 64);
  conv_bwd_w (bt->da2, 16, bt->h2, 8, 64, g + VAE_OFF_CONV2_WEIGHT,
      g + VAE_OFF_CONV2_BIAS);
  conv_bwd_in (p + VAE_OFF_CONV2_WEIGHT, bt->da2, 16, bt->dh2, 8, 64);
  down_bwd (bt->dh2, bt->da1, 8, 128);
  dalpha += swish_bwd (alpha, bt->a1, bt->s1, bt->da1, 8, 128);
  conv_bwd_w (bt->da1, 8, bt->h1, 4, 128, g + VAE_OFF_CONV1_WEIGHT,
      g + VAE_OFF_CONV1_BIAS);
  conv_bwd_in (p + VAE_OFF_CONV1_WEIGHT, bt->da1, 8, bt->dh1, 4, 128);
  down_bwd (bt->dh1, bt->da0, 4, 256);
  dalpha += swish_bwd (alpha, bt->a0, bt->s0, bt->da0, 4, 256);
  conv_bwd_w (bt->da0, 4, bt->x, 1, 256, g + VAE_OFF_CONV0_WEIGHT,
      g + VAE_OFF_CONV0_BIAS);

  g[VAE_OFF_SIGMA_ALPHA] += dalpha;
  return mse - 0.1 * kl;
}

/* ---------------------------------------------------------------------- */
/* Jobs over beat ranges */

typedef enum
{
  JOB_ENCODE,
  JOB_DECODE,
  JOB_SCORE,
  JOB_LOSS_GRAD
} JobKind;

typedef struct
{
  JobKind kind;
  const float *params, *x, *z, *eps;
  float *mu, *logvar, *recon, *err;
  size_t b0, b1;
  char *slot;
  double loss;
} Job;

static void VAE_CLONES
run_encode (Job * jb)
{
  Beat bt;
  size_t b;

  beat_setup (&bt, (float *) jb->slot, 0);
  for (b = jb->b0; b < jb->b1; b++) {
    encode_beat (jb->params, &bt, jb->x + b * VAE_BEAT_LENGTH);
    jb->mu[2 * b] = (float) bt.mu[0];
    jb->mu[2 * b + 1] = (float) bt.mu[1];
    jb->logvar[2 * b] = (float) bt.lv[0];
    jb->logvar[2 * b + 1] = (float) bt.lv[1];
  }
}

static void VAE_CLONES
run_decode (Job * jb)
{
  Beat bt;
  size_t b;

  beat_setup (&bt, (float *) jb->slot, 0);
  for (b = jb->b0; b < jb->b1; b++) {
    decode_beat (jb->params, &bt, jb->z[2 * b], jb->z[2 * b + 1]);
    memcpy (jb->recon + b * VAE_BEAT_LENGTH, bt.r,
        VAE_BEAT_LENGTH * sizeof (float));
  }
}

static void VAE_CLONES
run_score (Job * jb)
{
  Beat bt;
  size_t b;
  int t;

  beat_setup (&bt, (float *) jb->slot, 0);
  for (b = jb->b0; b < jb->b1; b++) {
    float mu0, mu1;

    encode_beat (jb->params, &bt, jb->x + b * VAE_BEAT_LENGTH);
    mu0 = (float) bt.mu[0];
    mu1 = (float) bt.mu[1];
    if (jb->mu != NULL) {
      jb->mu[2 * b] = mu0;
      jb->mu[2 * b + 1] = mu1;
    }
    if (jb->logvar != NULL) {
      jb->logvar[2 * b] = (float) bt.lv[0];
      jb->logvar[2 * b + 1] = (float) bt.lv[1];
    }
    decode_beat (jb->params, &bt, mu0, mu1);
    if (jb->recon != NULL)
      memcpy (jb->recon + b * VAE_BEAT_LENGTH, bt.r,
          VAE_BEAT_LENGTH * sizeof (float));
    if (jb->err != NULL) {
      double e = 0.0;

      for (t = 0; t < VAE_BEAT_LENGTH; t++) {
        double d = (double) bt.r[t] - bt.x[t];

        e += d * d;
      }
      jb->err[b] = (float) (e / VAE_BEAT_LENGTH);
    }
  }
}

static void VAE_CLONES
run_loss_grad (Job * jb)
{
  Beat bt;
  size_t b, n = beat_setup (&bt, (float *) jb->slot, 0);
  double *g = (double *) (jb->slot + n * sizeof (float));
  double loss = 0.0;

  for (b = 0; b < VAE_N_PARAMS; b++)
    g[b] = 0.0;
  for (b = jb->b0; b < jb->b1; b++)
    loss += loss_grad_beat (jb->params, &bt, jb->x + b * VAE_BEAT_LENGTH,
        jb->eps + 2 * b, g);
  jb->loss = loss;
}

static void *
job_thread (void *arg)
{
  Job *jb = arg;
  Beat bt;

  beat_setup (&bt, (float *) jb->slot, 1);
  switch (jb->kind) {
    case JOB_ENCODE:
      run_encode (jb);
      break;
    case JOB_DECODE:
      run_decode (jb);
      break;
    case JOB_SCORE:
      run_score (jb);
      break;
    case JOB_LOSS_GRAD:
      run_loss_grad (jb);
      break;
  }
  return NULL;
}

/* Splits [0, batch) into contiguous ranges, runs them (the first in the
 * calling thread; a thread that cannot be created runs inline too) */
static int
run_jobs (const Job * proto, size_t batch, void *workspace, Job * jobs)
{
  pthread_t tid[VAE_MAX_THREADS];
  int started[VAE_MAX_THREADS];
  int n = slots_for_batch (batch), i;
  size_t sb = slot_bytes ();
  char *ws = align64 (workspace);

  if (n > vae_get_threads ())
    n = vae_get_threads ();
  for (i = 0; i < n; i++) {
    jobs[i] = *proto;
    jobs[i].b0 = batch * i / n;
    jobs[i].b1 = batch * (i + 1) / n;
    jobs[i].slot = ws + sb * (size_t) i;
    jobs[i].loss = 0.0;
    started[i] = 0;
  }
  for (i = 1; i < n; i++)
    started[i] = pthread_create (&tid[i], NULL, job_thread, &jobs[i]) == 0;
  job_thread (&jobs[0]);
  for (i = 1; i < n; i++) {
    if (started[i])
      pthread_join (tid[i], NULL);
    else
      job_thread (&jobs[i]);
  }
  return n;
}

/* mu, logvar = encode (x): encode_beat () per beat, beats split over
 * threads; mu and logvar are formed in double and rounded to float */
int
vae_encode_ref (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, void *workspace)
{
  Job proto, jobs[VAE_MAX_THREADS];

  if (params == NULL || (batch > 0 && (x == NULL || mu == NULL
              || logvar == NULL || workspace == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  memset (&proto, 0, sizeof (proto));
  proto.kind = JOB_ENCODE;
  proto.params = params;
  proto.x = x;
  proto.mu = mu;
  proto.logvar = logvar;
  run_jobs (&proto, batch, workspace, jobs);
  return VAE_OK;
}

/* recon = decode (z): decode_beat () per beat */
int
vae_decode_ref (const float *params, const float *z, size_t batch,
    float *recon, void *workspace)
{
  Job proto, jobs[VAE_MAX_THREADS];

  if (params == NULL || (batch > 0 && (z == NULL || recon == NULL
              || workspace == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  memset (&proto, 0, sizeof (proto));
  proto.kind = JOB_DECODE;
  proto.params = params;
  proto.z = z;
  proto.recon = recon;
  run_jobs (&proto, batch, workspace, jobs);
  return VAE_OK;
}

/* encode_beat () then decode_beat () at z = mu, in one pass over each beat;
 * err[b] = 1/256 sum_j (recon[b,j] - x[b,j])^2 in double */
int
vae_score_ref (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, float *recon, float *err, void *workspace)
{
  Job proto, jobs[VAE_MAX_THREADS];

  if (params == NULL || (batch > 0 && (x == NULL || workspace == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0)
    return VAE_OK;
  memset (&proto, 0, sizeof (proto));
  proto.kind = JOB_SCORE;
  proto.params = params;
  proto.x = x;
  proto.mu = mu;
  proto.logvar = logvar;
  proto.recon = recon;
  proto.err = err;
  run_jobs (&proto, batch, workspace, jobs);
  return VAE_OK;
}

/* loss = sum over the batch of loss_grad_beat () (see there for the maths);
 * grad = the sum of the per-thread double accumulators, in thread order,
 * rounded to float */
int
vae_loss_grad_ref (const float *params, const float *x, const float *eps,
    size_t batch, float *grad, double *loss, void *workspace)
{
  Job proto, jobs[VAE_MAX_THREADS];
  Beat bt;
  size_t off = beat_setup (&bt, NULL, 0) * sizeof (float), i;
  double total = 0.0;
  int n, t;

  if (params == NULL || grad == NULL || (batch > 0 && (x == NULL
              || eps == NULL || workspace == NULL)))
    return VAE_ERR_INVALID_ARG;
  if (batch == 0) {
    memset (grad, 0, VAE_N_PARAMS * sizeof (float));
    if (loss != NULL)
      *loss = 0.0;
    return VAE_OK;
  }
  memset (&proto, 0, sizeof (proto));
  proto.kind = JOB_LOSS_GRAD;
  proto.params = params;
  proto.x = x;
  proto.eps = eps;
  n = run_jobs (&proto, batch, workspace, jobs);

  for (i = 0; i < VAE_N_PARAMS; i++) {
    double s = 0.0;

    for (t = 0; t < n; t++)
      s += ((const double *) (jobs[t].slot + off))[i];
    grad[i] = (float) s;
  }
  for (t = 0; t < n; t++)
    total += jobs[t].loss;
  if (loss != NULL)
    *loss = total;
  return VAE_OK;
}

/* ---------------------------------------------------------------------- */
/* Adam, as torch.optim.Adam (weight_decay 0, amsgrad off), in float:
 *   m = m + (1 - beta1) (g - m)          (torch.lerp)
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt (v) / sqrt (1 - beta2^t) + eps)
 * with the scalars formed in double as Python does, then used as float. */
int
vae_adam_step_ref (float *params, const float *grad, float *m, float *v,
    size_t n, uint64_t step, double lr, double beta1, double beta2, double eps)
{
  double bc1, bc2;
  float w1, fb2, w2, step_size, bc2_sqrt, feps = (float) eps;
  size_t i;

  if (params == NULL || grad == NULL || m == NULL || v == NULL || step == 0)
    return VAE_ERR_INVALID_ARG;
  bc1 = 1.0 - pow (beta1, (double) step);
  bc2 = 1.0 - pow (beta2, (double) step);
  w1 = (float) (1.0 - beta1);
  fb2 = (float) beta2;
  w2 = (float) (1.0 - beta2);
  step_size = (float) (lr / bc1);
  bc2_sqrt = (float) sqrt (bc2);
  for (i = 0; i < n; i++) {
    float gi = grad[i], denom;

    m[i] = m[i] + w1 * (gi - m[i]);
    v[i] = v[i] * fb2 + w2 * (gi * gi);
    denom = sqrtf (v[i]) / bc2_sqrt + feps;
    params[i] = params[i] - step_size * (m[i] / denom);
  }
  return VAE_OK;
}

/* ---------------------------------------------------------------------- */
/* Random numbers */

static uint64_t
splitmix64 (uint64_t * x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* s[0..3] = four successive splitmix64 outputs from @seed */
void
vae_rng_seed (VaeRng * rng, uint64_t seed)
{
  uint64_t x = seed;
  int i;

  for (i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&x);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna) */
uint64_t
vae_rng_next (VaeRng * rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

/* (next >> 11) 2^-53 */
double
vae_rng_uniform (VaeRng * rng)
{
  return (double) (vae_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Rejection of the lowest 2^64 mod bound values, then modulo */
uint64_t
vae_rng_below (VaeRng * rng, uint64_t bound)
{
  uint64_t threshold, r;

  if (bound <= 1)
    return 0;
  threshold = (0 - bound) % bound;
  do
    r = vae_rng_next (rng);
  while (r < threshold);
  return r % bound;
}

/* Box-Muller: u1 = 1 - uniform in (0, 1], u2 = uniform;
 * out[2i] = sqrt (-2 ln u1) cos (2 pi u2), out[2i + 1] = ... sin (2 pi u2);
 * for odd n the last sine is dropped */
void
vae_rng_normal (VaeRng * rng, float *out, size_t n)
{
  size_t i;

  for (i = 0; i < n; i += 2) {
    double u1 = 1.0 - vae_rng_uniform (rng);
    double u2 = vae_rng_uniform (rng);
    double r = sqrt (-2.0 * log (u1));
    double a = 6.283185307179586476925 * u2;

    out[i] = (float) (r * cos (a));
    if (i + 1 < n)
      out[i + 1] = (float) (r * sin (a));
  }
}

/* In table order, every element p = (2 u - 1) / sqrt (fan_in), u uniform */
void
vae_init_params_ref (float *params, VaeRng * rng)
{
  int i;
  size_t j;

  for (i = 0; i < VAE_N_TENSORS; i++) {
    const VaeParamInfo *pi = &vae_param_table[i];
    float *p = params + pi->offset;

    if (pi->fan_in == 0) {
      for (j = 0; j < pi->numel; j++)
        p[j] = 1.0f;
    } else {
      double bound = 1.0 / sqrt ((double) pi->fan_in);

      for (j = 0; j < pi->numel; j++)
        p[j] = (float) ((2.0 * vae_rng_uniform (rng) - 1.0) * bound);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Training */

void
vae_train_init_ref (VaeTrainState * st, float *params, float *m, float *v,
    uint64_t seed)
{
  memset (st, 0, sizeof (*st));
  st->params = params;
  st->m = m;
  st->v = v;
  st->step = 0;
  st->batch_size = VAE_TRAIN_BATCH;
  st->lr = 1e-3;
  st->beta1 = 0.9;
  st->beta2 = 0.999;
  st->eps = 1e-8;
  vae_rng_seed (&st->rng, seed);
  vae_init_params_ref (params, &st->rng);
  memset (m, 0, VAE_N_PARAMS * sizeof (float));
  memset (v, 0, VAE_N_PARAMS * sizeof (float));
}

/* Layout: perm (n_beats uint32), the minibatch (bs x 256), eps (bs x 2),
 * grad (VAE_N_PARAMS), then vae_workspace_size (bs) */
static size_t
train_layout (size_t n_beats, size_t bs, size_t *o_batch, size_t *o_eps,
    size_t *o_grad, size_t *o_work)
{
  size_t o = 0;

  o += (n_beats * sizeof (uint32_t) + 63) & ~(size_t) 63;
  *o_batch = o;
  o += (bs * VAE_BEAT_LENGTH * sizeof (float) + 63) & ~(size_t) 63;
  *o_eps = o;
  o += (bs * 2 * sizeof (float) + 63) & ~(size_t) 63;
  *o_grad = o;
  o += (VAE_N_PARAMS * sizeof (float) + 63) & ~(size_t) 63;
  *o_work = o;
  return o + vae_workspace_size (bs);
}

size_t
vae_train_workspace_size (size_t n_beats, size_t batch_size)
{
  size_t a, b, c, d;

  return 64 + train_layout (n_beats, batch_size, &a, &b, &c, &d);
}

/* Each epoch: perm = identity, Fisher-Yates from the top (j = below (i + 1)
 * for i = n - 1 .. 1); then per minibatch of perm order, eps = bs x 2
 * normals from vae_rng_normal, one loss/grad and one Adam step. */
int
vae_train_epoch_ref (VaeTrainState * st, const float *beats, size_t n_beats,
    void *workspace, double *mean_loss)
{
  size_t o_batch, o_eps, o_grad, o_work, i, bs, start;
  char *ws;
  uint32_t *perm;
  float *xb, *eps, *grad;
  double total = 0.0;

  if (st == NULL || st->params == NULL || st->m == NULL || st->v == NULL
      || beats == NULL || workspace == NULL || n_beats == 0
      || st->batch_size == 0 || n_beats > UINT32_MAX)
    return VAE_ERR_INVALID_ARG;
  bs = st->batch_size;
  ws = align64 (workspace);
  train_layout (n_beats, bs, &o_batch, &o_eps, &o_grad, &o_work);
  perm = (uint32_t *) ws;
  xb = (float *) (ws + o_batch);
  eps = (float *) (ws + o_eps);
  grad = (float *) (ws + o_grad);

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
    double loss;
    int ret;

    for (i = 0; i < nb; i++)
      memcpy (xb + i * VAE_BEAT_LENGTH,
          beats + (size_t) perm[start + i] * VAE_BEAT_LENGTH,
          VAE_BEAT_LENGTH * sizeof (float));
    vae_rng_normal (&st->rng, eps, 2 * nb);
    ret = vae_loss_grad_ref (st->params, xb, eps, nb, grad, &loss, ws + o_work);
    if (ret != VAE_OK)
      return ret;
    if (!isfinite (loss))
      return VAE_ERR_NONFINITE;
    total += loss;
    st->step++;
    vae_adam_step_ref (st->params, grad, st->m, st->v, VAE_N_PARAMS,
        st->step, st->lr, st->beta1, st->beta2, st->eps);
  }
  if (mean_loss != NULL)
    *mean_loss = total / (double) n_beats;
  return VAE_OK;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nms_ref.c: CPU reference of the streaming beat gate (see nms.h).
 */

#include "nms.h"
#include "cudadev.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef NMS_RESEARCH
#include <stdio.h>
#endif

/* Tunables of the adaptive rule, in seconds or as ratios, so that they scale
 * with the rate. The values were chosen once on the 22 DS1 records and are
 * the same for every record. */
typedef struct
{
  double cand_radius_s;         /* |y| peak must be the max within +-this */
  double spk_w;                 /* weight of a new beat in the signal level */
  double spk_w_sb;              /* same, for a beat found by searchback */
  double npk_w;                 /* weight of a new noise peak in the noise level */
  double thr_frac;              /* THR1 = NPK + thr_frac (SPK - NPK) */
  double thr2_frac;             /* THR2 = thr2_frac THR1 (searchback) */
  double twave_s;               /* T-wave check window after a beat */
  double twave_ratio;           /* a peak that small there is a T wave */
  double sb_factor;             /* searchback after sb_factor mean RR */
  double learn_s;               /* first levels from this much signal */
  double rr_init_s;             /* mean RR before any RR is known */
  double hw0_s;                 /* half-width of a sharp QRS lobe */
  double hw_pow;                /* weight (hw0 / hw)^hw_pow for wider lobes */
  double pwave_ratio;           /* a peak that small before a beat is a P wave */
  double sqi_before_s;          /* quality window before a beat */
  double sqi_after_s;           /* quality window after a beat */
  double sqi_seg_s;             /* quality sums are kept per segment this long */
  double sqi_kurt;              /* y kurtosis below this: unreadable */
  double hf_width_s;            /* width of the fine (muscle band) Ricker */
  double hf_ratio;              /* fine / QRS-band energy above this: noisy */
  double rr_spread;             /* RR spread below this: steady rhythm */
} NmsTune;

static NmsTune nms_tune = {
  0.100, 0.125, 0.25, 0.125, 0.30, 0.5, 0.36, 0.5, 1.66, 1.5, 1.0,
  0.044, 1.0, 0.5, 3.25, 0.25, 0.125, 5.0, 0.028, 0.075, 0.2
};

#define NMS_RR_HIST 8
/* a beat's rhythm is regular when its last NMS_RR_REG RR intervals agree */
#define NMS_RR_REG 4
/* samples per chunk of the fine-response pass */
#define NMS_CHUNK 512

/* moments of y over one quality segment */
typedef struct
{
  double s1, s2, s3, s4;
  double hf;                    /* sum of the squared fine response */
  uint64_t n;
} NmsSeg;

/* an accepted beat waiting for the quality of the signal around it */
typedef struct
{
  uint64_t t;                   /* peak sample */
  int regular;                  /* steady rhythm up to it */
} NmsPend;

enum
{
  CAND_PENDING = 0,
  CAND_NOISE,
  CAND_BEAT
};

typedef struct
{
  uint64_t t;                   /* sample of the |y| peak */
  float amp;                    /* |y| there */
  int state;
} NmsCand;

typedef struct
{
  float v;
  uint64_t i;
} NmsDequeItem;

struct NmsDetector
{
  NmsConfig cfg;
  int mode;                     /* 0 seed, 1 seed + floor, 2 adaptive */
  int n;                        /* NMS window */
  int c;                        /* (n + 1) / 2 */
  int w;                        /* Ricker window */

  uint64_t t0;                  /* first sample index */
  uint64_t t;                   /* index of the next sample */
  int flushed;

  /* sliding max: seed window n over y, adaptive window 2r + 1 over |y| */
  NmsDequeItem *dq;
  size_t dq_mask;
  size_t dq_head;               /* next pop from the front */
  size_t dq_tail;               /* next push at the back */
  float *ring;                  /* y (seed) or |y| (adaptive) history */
  float *yring;                 /* adaptive: y history */
  size_t ring_mask;

  /* seed */
  int prev_cand;

  /* adaptive: lengths in samples */
  int r;
  int refr;
  int twave;
  int learn;
  int look;
  float floor_amp;
  double hw0;

  NmsCand *cands;
  size_t cand_mask;
  uint64_t cand_tail;           /* oldest kept */
  uint64_t cand_next;           /* next to decide */
  uint64_t cand_head;           /* next free */
  uint64_t last_cand_t;
  int have_cand;

  int learning;
  uint64_t learn_start;
  double spk;
  double npk;
  int have_beat;
  uint64_t last_t;
  double last_amp;
  double rr_hist[NMS_RR_HIST];
  int rr_n;
  int rr_pos;
  double rr_avg;
  int sb_done;
  uint64_t sb_at;               /* searchback is due after this sample */
  uint64_t wait;                /* candidates are decided this long after */
  uint64_t last_gate;
  int have_gate;

  /* feature records of one span (at most NMS_CHUNK samples) */
  NmsCandRec *fc;
  NmsSegRec *fs;

  uint64_t epoch;               /* bumped by reset and CPU pushes */
  void *dev;                    /* nms.cu's device state */
  void (*free_dev) (void *);

  /* signal quality: moments of y per segment, beats waiting for theirs */
  int sqi;                      /* quality gating on */
  int seg;                      /* segment length in samples */
  int sqi_before;               /* window before / after a beat, samples */
  int sqi_after;
  int sqi_nseg;                 /* segments in a window */
  NmsSeg *segs;
  size_t seg_mask;
  uint64_t seg_done;            /* complete segments */
  NmsSeg seg_cur;
  NmsPend *pend;                /* accepted beats, FIFO */
  size_t pend_mask;
  uint64_t pend_head;
  uint64_t pend_tail;

  /* fine Ricker response of x (muscle-band energy) */
  int hw2;                      /* its width in samples */
  float *hk;                    /* its taps, zero-sum */
  float *xbuf;                  /* hw2 - 1 samples of x history + a chunk */
  float *f2;                    /* squared fine response of the chunk */
};

static size_t
pow2_at_least (size_t v)
{
  size_t p = 1;

  while (p < v)
    p <<= 1;
  return p;
}

static int
samples (double s, double rate)
{
  double v = floor (s * rate + 0.5);

  return v < 1.0 ? 1 : (int) v;
}

/* Ricker wavelet of width w samples on [-3, 3], as rickerconv makes it,
 * shifted to sum to zero so that a baseline offset gives no response. */
static double
ricker_tap (int j, int w)
{
  double u = -3.0 + 6.0 * j / (w - 1);

  return 2.0 * exp (-0.5 * u * u) * (1.0 - u * u) / sqrt ((double) w);
}

static void
ricker_taps (float *k, int w)
{
  double s = 0.0;
  int j;

  for (j = 0; j < w; j++)
    s += ricker_tap (j, w);
  for (j = 0; j < w; j++)
    k[j] = (float) (ricker_tap (j, w) - s / w);
}

/**
 * nms_config_init:
 * @cfg: (out): the configuration to fill
 * @rate: sample rate in Hz
 *
 * Fills @cfg with the defaults: 720 ms window, adaptive rule, 310 ms
 * refractory period, Ricker width from 120 ms, |y| floor 0.08, 1.5 s
 * lookahead, signal-quality gating on.
 */
void
nms_config_init (NmsConfig * cfg, double rate)
{
  memset (cfg, 0, sizeof (*cfg));
  cfg->rate = rate;
  cfg->window = (int) floor (0.720 * rate + 0.5);
  cfg->threshold = -1.0;
  cfg->refractory_s = 0.310;
  cfg->ricker_window = 0;
  cfg->min_amplitude = 0.08;
  cfg->lookahead_s = 1.5;
  cfg->quality_gate = 1;
}

#ifdef NMS_RESEARCH
static void
tune_from_env (void)
{
  static const char *names[] = {
    "NMS_CAND_RADIUS", "NMS_SPK_W", "NMS_SPK_W_SB", "NMS_NPK_W", "NMS_THR",
    "NMS_THR2", "NMS_TWAVE", "NMS_TWAVE_RATIO", "NMS_SB", "NMS_LEARN",
    "NMS_RR_INIT", "NMS_HW0", "NMS_HW_POW", "NMS_PWAVE_RATIO",
    "NMS_SQI_BEFORE", "NMS_SQI_AFTER", "NMS_SQI_SEG", "NMS_SQI_KURT",
    "NMS_HF_WIDTH", "NMS_HF_RATIO", "NMS_RR_SPREAD"
  };
  double *vals = (double *) &nms_tune;
  size_t k;

  for (k = 0; k < sizeof (names) / sizeof (names[0]); k++) {
    const char *s = getenv (names[k]);

    if (s)
      vals[k] = atof (s);
  }
}
#endif

/**
 * nms_detector_new:
 * @cfg: the configuration
 *
 * Returns: (transfer full) (nullable): a detector, or NULL when @cfg is
 * unusable (rate <= 0, window < 2, non-finite values) or memory is short.
 */
NmsDetector *
nms_detector_new (const NmsConfig * cfg)
{
  NmsDetector *d;
  size_t ring_len, dq_len, ncand;

  if (cfg == NULL || !(cfg->rate > 0.0) || !isfinite (cfg->rate)
      || cfg->rate > 1e6 || cfg->window < 2 || cfg->window > 1e7
      || !isfinite (cfg->threshold) || cfg->ricker_window < 0
      || cfg->ricker_window > 1e7)
    return NULL;
  if (cfg->threshold < 0.0 && (!(cfg->refractory_s >= 0.05)
          || !(cfg->refractory_s <= 2.0) || !(cfg->min_amplitude >= 0.0)
          || !isfinite (cfg->min_amplitude) || !(cfg->lookahead_s >= 0.5)
          || !(cfg->lookahead_s <= 10.0)))
    return NULL;

#ifdef NMS_RESEARCH
  tune_from_env ();
#endif

  d = calloc (1, sizeof (*d));
  if (d == NULL)
    return NULL;
  d->cfg = *cfg;
  d->n = cfg->window;
  d->c = (cfg->window + 1) / 2;
  d->w = cfg->ricker_window > 0 ? cfg->ricker_window :
      samples (0.120, cfg->rate);

  if (cfg->threshold >= 0.0) {
    d->mode = cfg->threshold > 0.0 ? 1 : 0;
    ring_len = pow2_at_least ((size_t) d->n + 1);
    dq_len = ring_len;
  } else {
    d->mode = 2;
    d->r = samples (nms_tune.cand_radius_s, cfg->rate);
    d->refr = samples (cfg->refractory_s, cfg->rate);
    d->twave = samples (nms_tune.twave_s, cfg->rate);
    d->learn = samples (nms_tune.learn_s, cfg->rate);
    d->look = samples (cfg->lookahead_s, cfg->rate);
    if (d->learn > d->look)
      d->learn = d->look;
    d->sqi = cfg->quality_gate != 0;
    d->seg = samples (nms_tune.sqi_seg_s, cfg->rate);
    d->sqi_before = samples (nms_tune.sqi_before_s, cfg->rate);
    d->sqi_after = samples (nms_tune.sqi_after_s, cfg->rate);
    d->sqi_nseg = (d->sqi_before + d->sqi_after + d->seg - 1) / d->seg;
    d->floor_amp = (float) cfg->min_amplitude;
    d->hw0 = nms_tune.hw0_s * cfg->rate;
    ring_len = pow2_at_least ((size_t) (2 * d->r + 2));
    dq_len = ring_len;
    /* candidates are > r apart; keep those of the last look + refr + r
     * samples plus the learning span */
    ncand = (size_t) (d->look + d->refr + 2 * d->r + d->learn) / (d->r + 1)
        + 8;
    d->cand_mask = pow2_at_least (ncand) - 1;
    d->cands = calloc (d->cand_mask + 1, sizeof (NmsCand));
    d->yring = calloc (ring_len, sizeof (float));
    /* segment sums of a window that ends up to look + seg ago */
    d->seg_mask = pow2_at_least ((size_t) (d->sqi_nseg +
            (d->look + d->seg) / d->seg + 4)) - 1;
    d->segs = calloc (d->seg_mask + 1, sizeof (NmsSeg));
    /* beats are >= refr apart and wait at most look + seg */
    d->pend_mask = pow2_at_least ((size_t) ((d->look + d->seg +
                d->sqi_after) / d->refr + 4)) - 1;
    d->pend = calloc (d->pend_mask + 1, sizeof (NmsPend));
    d->hw2 = samples (nms_tune.hf_width_s, cfg->rate);
    if (d->hw2 < 3)
      d->hw2 = 3;
    d->hk = calloc ((size_t) d->hw2, sizeof (float));
    d->xbuf = calloc ((size_t) d->hw2 - 1 + NMS_CHUNK, sizeof (float));
    d->f2 = calloc (NMS_CHUNK, sizeof (float));
    d->fc = calloc ((size_t) (NMS_CHUNK + d->r) / (d->r + 1) + 2,
        sizeof (NmsCandRec));
    d->fs = calloc ((size_t) NMS_CHUNK / d->seg + 2, sizeof (NmsSegRec));
    if (d->cands == NULL || d->yring == NULL || d->segs == NULL
        || d->pend == NULL || d->fc == NULL || d->fs == NULL)
      goto no_mem;
    if (d->hk == NULL || d->xbuf == NULL || d->f2 == NULL)
      goto no_mem;
    ricker_taps (d->hk, d->hw2);
  }
  d->ring_mask = ring_len - 1;
  d->dq_mask = dq_len - 1;
  d->ring = calloc (ring_len, sizeof (float));
  d->dq = calloc (dq_len, sizeof (NmsDequeItem));
  if (d->ring == NULL || d->dq == NULL)
    goto no_mem;

  nms_detector_reset (d, 0);
  return d;

  /* ERRORS */
no_mem:
  {
    nms_detector_free (d);
    return NULL;
  }
}

/**
 * nms_detector_free:
 * @d: (transfer full) (nullable): a detector
 */
void
nms_detector_free (NmsDetector * d)
{
  if (d == NULL)
    return;
  if (d->free_dev)
    d->free_dev (d->dev);
  free (d->fc);
  free (d->fs);
  free (d->ring);
  free (d->dq);
  free (d->cands);
  free (d->yring);
  free (d->segs);
  free (d->pend);
  free (d->hk);
  free (d->xbuf);
  free (d->f2);
  free (d);
}

/**
 * nms_detector_reset:
 * @d: a detector
 * @first_sample: absolute index of the next sample pushed
 *
 * Forgets all history, learned levels included.
 */
void
nms_detector_reset (NmsDetector * d, uint64_t first_sample)
{
  d->t0 = first_sample;
  d->t = first_sample;
  d->flushed = 0;
  d->epoch++;
  d->dq_head = d->dq_tail = 0;
  memset (d->ring, 0, (d->ring_mask + 1) * sizeof (float));
  if (d->yring)
    memset (d->yring, 0, (d->ring_mask + 1) * sizeof (float));
  d->prev_cand = 0;
  d->cand_tail = d->cand_next = d->cand_head = 0;
  d->have_cand = 0;
  d->last_cand_t = 0;
  d->learning = 1;
  d->learn_start = first_sample;
  d->spk = d->npk = 0.0;
  d->have_beat = 0;
  d->last_t = 0;
  d->last_amp = 0.0;
  d->rr_n = d->rr_pos = 0;
  d->rr_avg = nms_tune.rr_init_s * d->cfg.rate;
  d->sb_done = 0;
  d->sb_at = 0;
  d->wait = (uint64_t) (d->r + (d->refr > d->twave ? d->refr : d->twave));
  d->last_gate = 0;
  d->have_gate = 0;
  d->seg_done = 0;
  memset (&d->seg_cur, 0, sizeof (d->seg_cur));
  d->pend_head = d->pend_tail = 0;
  if (d->xbuf)
    memset (d->xbuf, 0, ((size_t) d->hw2 - 1) * sizeof (float));
}

/**
 * nms_detector_latency:
 * @d: a detector
 *
 * Returns: the largest number of samples between the arrival of a sample
 * and the decision about a gate at it. Seed rule: N - 1. Adaptive rule:
 * (N + 1) / 2 + max (lookahead, r + refractory, 0.375 s) samples,
 * r = 0.1 s (0.375 s: the end of the signal-quality window).
 */
uint64_t
nms_detector_latency (const NmsDetector * d)
{
  int a;

  if (d->mode != 2)
    return (uint64_t) d->n - 1;
  a = d->r + d->refr;
  if (d->look > a)
    a = d->look;
  if (d->sqi && d->sqi_after + d->seg > a)
    a = d->sqi_after + d->seg;
  return (uint64_t) d->c + (uint64_t) a;
}

/**
 * nms_detector_max_gates:
 * @d: a detector
 * @n: samples to push
 *
 * Returns: how many #NmsGate the out array of nms_detector_push () (or of
 * nms_detector_flush (), with @n = 0) must hold.
 */
size_t
nms_detector_max_gates (const NmsDetector * d, size_t n)
{
  size_t gap;

  /* seed: two gates are at least two samples apart */
  if (d->mode != 2)
    return n / 2 + 2;
  /* adaptive: beats are >= max (refr, r + 1) apart and decided at most
   * latency samples after their peak arrived */
  gap = (size_t) (d->refr > d->r + 1 ? d->refr : d->r + 1);
  return (n + (size_t) nms_detector_latency (d) + (size_t) d->r) / gap + 2;
}

/* Monotonic deque: push (v, i) keeping values non-increasing, and drop
 * items whose index is below lo. The front holds the max of the window. */
static inline float
deque_push (NmsDetector * d, float v, uint64_t i, uint64_t lo)
{
  NmsDequeItem *dq = d->dq;
  size_t m = d->dq_mask;

  while (d->dq_tail != d->dq_head && dq[(d->dq_tail - 1) & m].v <= v)
    d->dq_tail--;
  dq[d->dq_tail & m].v = v;
  dq[d->dq_tail & m].i = i;
  d->dq_tail++;
  while (dq[d->dq_head & m].i < lo)
    d->dq_head++;
  return dq[d->dq_head & m].v;
}

/*
 * nms_seed_ref: the seed's rule (threshold == 0), and the seed rule with an
 * amplitude floor (threshold > 0).
 *
 *   cand(p) = [ max_{k = p}^{p+N-1} y[k] == y[p + c] ] and y[p + c] >= thr,
 *             c = (N + 1) div 2, 0 <= p - t0 <= n_total - N
 *   gate(p) = cand(p) and not cand(p - 1)
 *   rpeak(p) = p + c - W div 2  (= p + c - (W - 1) / 2 rounded half down,
 *             the lag of the causal Ricker response)
 *
 * thr is -inf for threshold == 0. The max is a monotonic deque, O(1)
 * amortised per sample; the comparison is exact, in float. cand(p) is known
 * when sample p + N - 1 arrives, so the latency is N - 1.
 */
static size_t
nms_seed_ref (NmsDetector * d, const float *y, size_t n, NmsGate * out)
{
  size_t k, ng = 0;
  uint64_t j, p, lo;
  float v, mx, centre;
  float thr = d->mode == 1 ? (float) d->cfg.threshold : -INFINITY;
  int cand;
  uint64_t nn = (uint64_t) d->n;

  for (k = 0; k < n; k++) {
    v = y[k];
    if (!isfinite (v))
      v = 0.0f;
    j = d->t++;
    d->ring[j & d->ring_mask] = v;
    lo = j + 1 >= nn ? j + 1 - nn : 0;
    mx = deque_push (d, v, j, lo);
    if (j - d->t0 + 1 < nn)
      continue;
    p = j + 1 - nn;
    centre = d->ring[(p + (uint64_t) d->c) & d->ring_mask];
    cand = mx == centre && centre >= thr;
    if (cand && !d->prev_cand) {
      uint64_t c = (uint64_t) d->c, h = (uint64_t) (d->w / 2);

      out[ng].gate = p;
      out[ng].rpeak = p + c >= d->t0 + h ? p + c - h : d->t0;
      ng++;
    }
    d->prev_cand = cand;
  }
  return ng;
}

/* ---- adaptive rule ---- */

static inline double
thr1 (const NmsDetector * d)
{
  return d->npk + nms_tune.thr_frac * (d->spk - d->npk);
}

static void
emit (NmsDetector * d, uint64_t t, NmsGate * out, size_t *ng)
{
  uint64_t c = (uint64_t) d->c, h = (uint64_t) (d->w / 2);
  uint64_t g = t >= d->t0 + c ? t - c : d->t0;

  if (d->have_gate && g <= d->last_gate)
    g = d->last_gate + 1;
  out[*ng].gate = g;
  out[*ng].rpeak = t >= d->t0 + h ? t - h : d->t0;
  (*ng)++;
  d->last_gate = g;
  d->have_gate = 1;
}

/* never overrun the FIFO of waiting beats, whatever happens */
#define pend_guard(d) \
  do { \
    if ((d)->pend_head - (d)->pend_tail > (d)->pend_mask + 1) \
      (d)->pend_tail = (d)->pend_head - ((d)->pend_mask + 1); \
  } while (0)

/* Steady rhythm: the last NMS_RR_REG RR intervals (this beat's included)
 * lie within rr_spread of their mean, max - min <= rr_spread mean. */
static int
rhythm_regular (const NmsDetector * d)
{
  double mn = 1e300, mx = 0.0, sum = 0.0;
  int i;

  if (d->rr_n < NMS_RR_REG)
    return 0;
  for (i = 1; i <= NMS_RR_REG; i++) {
    double rr = d->rr_hist[(d->rr_pos - i + NMS_RR_HIST) % NMS_RR_HIST];

    sum += rr;
    if (rr < mn)
      mn = rr;
    if (rr > mx)
      mx = rr;
  }
  return mx - mn <= nms_tune.rr_spread * sum / NMS_RR_REG;
}

static void
accept_beat (NmsDetector * d, NmsCand * k, double wgt, NmsGate * out,
    size_t *ng)
{
  k->state = CAND_BEAT;
  d->spk = wgt * k->amp + (1.0 - wgt) * d->spk;
  if (d->have_beat) {
    double rr = (double) (k->t - d->last_t);
    double sum = 0.0;
    int i;

    d->rr_hist[d->rr_pos] = rr;
    d->rr_pos = (d->rr_pos + 1) % NMS_RR_HIST;
    if (d->rr_n < NMS_RR_HIST)
      d->rr_n++;
    for (i = 0; i < d->rr_n; i++)
      sum += d->rr_hist[i];
    d->rr_avg = sum / d->rr_n;
  }
  d->have_beat = 1;
  d->last_t = k->t;
  d->last_amp = k->amp;
  d->sb_done = 0;
  d->sb_at = k->t + (uint64_t) floor (nms_tune.sb_factor * d->rr_avg);
  if (d->sqi) {
    /* the gate waits for the quality of the signal around it */
    NmsPend *p = &d->pend[d->pend_head++ & d->pend_mask];

    p->t = k->t;
    p->regular = rhythm_regular (d);
    pend_guard (d);
  } else {
    emit (d, k->t, out, ng);
  }
}

/* A candidate is dominant when no other candidate within the refractory
 * period on either side is larger (ties: the earlier wins). */
static int
dominant (const NmsDetector * d, uint64_t idx)
{
  const NmsCand *k = &d->cands[idx & d->cand_mask];
  uint64_t q;
  uint64_t rf = (uint64_t) d->refr;

  for (q = idx; q > d->cand_tail;) {
    const NmsCand *o = &d->cands[--q & d->cand_mask];

    if (k->t - o->t >= rf)
      break;
    if (o->amp >= k->amp)
      return 0;
  }
  for (q = idx + 1; q < d->cand_head; q++) {
    const NmsCand *o = &d->cands[q & d->cand_mask];

    if (o->t - k->t >= rf)
      break;
    if (o->amp > k->amp)
      return 0;
  }
  return 1;
}

/* A candidate is a P wave (or other pre-beat wave) when a later candidate
 * within the T-wave window is above THR1 and much larger. */
static int
pwave (const NmsDetector * d, uint64_t idx)
{
  const NmsCand *k = &d->cands[idx & d->cand_mask];
  uint64_t q;
  double t1 = thr1 (d);

  for (q = idx + 1; q < d->cand_head; q++) {
    const NmsCand *o = &d->cands[q & d->cand_mask];

    if (o->t - k->t >= (uint64_t) d->twave)
      break;
    if (o->amp >= t1 && k->amp < nms_tune.pwave_ratio * o->amp)
      return 1;
  }
  return 0;
}

static void
decide (NmsDetector * d, uint64_t idx, NmsGate * out, size_t *ng)
{
  NmsCand *k = &d->cands[idx & d->cand_mask];
  double amp = k->amp;

  k->state = CAND_NOISE;
  d->sb_done = 0;
  if (amp >= d->floor_amp && dominant (d, idx)
      && (!d->have_beat || k->t - d->last_t >= (uint64_t) d->refr)
      && amp >= thr1 (d)) {
    if (d->have_beat && k->t - d->last_t < (uint64_t) d->twave
        && amp < nms_tune.twave_ratio * d->last_amp) {
      /* T wave: falls through to noise */
    } else if (pwave (d, idx)) {
      /* P wave: falls through to noise */
    } else {
      accept_beat (d, k, nms_tune.spk_w, out, ng);
      return;
    }
  }
  d->npk = nms_tune.npk_w * amp + (1.0 - nms_tune.npk_w) * d->npk;
}

/* Searchback: no beat for sb_factor mean RR; take the largest dominant
 * noise candidate since the last beat that is above THR2, not in the
 * refractory period, not a T wave, and still young enough to be decided
 * within the lookahead. */
static void
searchback (NmsDetector * d, uint64_t now, NmsGate * out, size_t *ng)
{
  while (d->have_beat && !d->sb_done && now > d->sb_at) {
    uint64_t q, best = 0;
    int found = 0;
    double thr2 = nms_tune.thr2_frac * thr1 (d);
    float best_amp = 0.0f;

    for (q = d->cand_next; q > d->cand_tail;) {
      NmsCand *o = &d->cands[--q & d->cand_mask];

      if (o->t <= d->last_t || now - o->t > (uint64_t) d->look)
        break;
      if (o->state != CAND_NOISE || o->amp < d->floor_amp || o->amp < thr2
          || o->t - d->last_t < (uint64_t) d->refr)
        continue;
      if (o->t - d->last_t < (uint64_t) d->twave
          && o->amp < nms_tune.twave_ratio * d->last_amp)
        continue;
      if (!dominant (d, q))
        continue;
      if (o->amp >= best_amp) {
        best_amp = o->amp;
        best = q;
        found = 1;
      }
    }
    if (!found) {
      d->sb_done = 1;
      break;
    }
    accept_beat (d, &d->cands[best & d->cand_mask], nms_tune.spk_w_sb, out, ng);
  }
}

/* Ends learning: the first levels come from the candidates seen so far. */
static int
learn_end (NmsDetector * d)
{
  uint64_t q;
  float mx = 0.0f;

  for (q = d->cand_next; q < d->cand_head; q++)
    if (d->cands[q & d->cand_mask].amp > mx)
      mx = d->cands[q & d->cand_mask].amp;
  if (mx < d->floor_amp) {
    /* nothing beat-like yet: the candidates are noise, learn again */
    for (q = d->cand_next; q < d->cand_head; q++) {
      d->cands[q & d->cand_mask].state = CAND_NOISE;
      d->npk = nms_tune.npk_w * d->cands[q & d->cand_mask].amp +
          (1.0 - nms_tune.npk_w) * d->npk;
    }
    d->cand_next = d->cand_head;
    return 0;
  }
  d->spk = mx;
  d->npk = 0.125 * mx;
  d->learning = 0;
  return 1;
}

static void
drop_old (NmsDetector * d, uint64_t now)
{
  uint64_t keep = (uint64_t) d->look + (uint64_t) d->refr + 2;

  while (d->cand_tail < d->cand_next
      && now - d->cands[d->cand_tail & d->cand_mask].t > keep)
    d->cand_tail++;
  /* never overrun the ring, whatever happens */
  while (d->cand_head - d->cand_tail > d->cand_mask) {
    if (d->cand_tail == d->cand_next)
      d->cands[d->cand_next++ & d->cand_mask].state = CAND_NOISE;
    d->cand_tail++;
  }
}

/* Width of the lobe of y around the |y| peak ai at i, at half its height
 * (at most 2 r + 1; nms.cu computes it the same way). */
static inline uint64_t
lobe_width (const NmsDetector * d, uint64_t i, float ai)
{
  float h = 0.5f * ai, s = d->yring[i & d->ring_mask] >= 0.0f ? 1.0f : -1.0f;
  uint64_t lo = i, hi = i, r = (uint64_t) d->r;

  while (lo > d->t0 && i - lo < r && s * d->yring[(lo - 1) & d->ring_mask] > h)
    lo--;
  while (hi - i < r && s * d->yring[(hi + 1) & d->ring_mask] > h)
    hi++;
  return hi - lo + 1;
}

/**
 * nms_stage_amp:
 *
 * Sharpness weighting of a |y| peak a: a (hw0 / hw)^p when its lobe,
 * measured at half its height, is hw > hw0 samples wide.
 */
float
nms_stage_amp (const NmsDetector * d, float a, uint64_t lobe)
{
  double hw = (double) lobe;
  float w;

  if (hw <= d->hw0)
    w = 1.0f;
  else
    w = (float) pow (d->hw0 / hw, nms_tune.hw_pow);
  return a * w;
}

/* Candidate extraction (feature stage): sample j has y = yv; decides
 * whether the sample r before it is a local max of |y| within +-r, and
 * appends it to c[*nc]. */
static inline void
cand_feature (NmsDetector * d, float yv, uint64_t j, NmsCandRec * c, size_t *nc)
{
  uint64_t r = (uint64_t) d->r, i, lo;
  float mx, ai, a = fabsf (yv);

  d->ring[j & d->ring_mask] = a;
  d->yring[j & d->ring_mask] = yv;
  lo = j >= 2 * r ? j - 2 * r : 0;
  mx = deque_push (d, a, j, lo);
  if (j < d->t0 + r)
    return;
  i = j - r;
  /* the first W - 1 responses are the filter's start-up transient */
  if (i < d->t0 + (uint64_t) d->w)
    return;
  ai = d->ring[i & d->ring_mask];
  if (ai > 0.0f && ai == mx && (!d->have_cand || i - d->last_cand_t > r)) {
    c[*nc].t = i;
    c[*nc].amp = nms_stage_amp (d, ai, lobe_width (d, i, ai));
    (*nc)++;
    d->last_cand_t = i;
    d->have_cand = 1;
  }
}

/* Decision stage: candidate c becomes known (sample c->t + r arrived) */
static inline void
cand_add (NmsDetector * d, const NmsCandRec * c)
{
  NmsCand *k = &d->cands[d->cand_head++ & d->cand_mask];

  k->t = c->t;
  k->amp = c->amp;
  k->state = CAND_PENDING;
}

/* ---- signal quality ---- */

/* f[i] = (sum_m k[m] b[h + i - m])^2 for i < n, tap by tap so that the
 * inner loops vectorise (n is a constant in the common, full-chunk call) */
static inline void
fine_fir (float *restrict f, const float *restrict b,
    const float *restrict k, size_t h, size_t n)
{
  size_t i, m;

  for (i = 0; i < n; i++)
    f[i] = k[0] * b[h + i];
  for (m = 1; m <= h; m++) {
    const float km = k[m], *src = b + h - m;

    for (i = 0; i < n; i++)
      f[i] += km * src[i];
  }
  for (i = 0; i < n; i++)
    f[i] *= f[i];
}

/* Squared fine Ricker response of the next n <= NMS_CHUNK samples of x
 * (NULL: zeros) into f2; xbuf keeps the last hw2 - 1 samples. */
static void
fine_chunk (NmsDetector * d, const float *x, size_t n)
{
  size_t h = (size_t) d->hw2 - 1, i;
  float *b = d->xbuf;

  if (x == NULL)
    memset (b + h, 0, n * sizeof (float));
  /* v - v is 0 only for finite v: NaN and inf become 0 */
  for (i = 0; x && i < n; i++)
    b[h + i] = x[i] - x[i] == 0.0f ? x[i] : 0.0f;
  if (n == NMS_CHUNK)
    fine_fir (d->f2, b, d->hk, h, NMS_CHUNK);
  else
    fine_fir (d->f2, b, d->hk, h, n);
  memmove (b, b + n, h * sizeof (float));
}

/* Segment sums (feature stage), in this order: nms.cu sums the same way */
static inline void
seg_feature (NmsDetector * d, float yv, float f2, NmsSegRec * s, size_t *ns)
{
  NmsSeg *c = &d->seg_cur;
  double v = yv, v2 = v * v;

  c->hf += f2;
  c->s1 += v;
  c->s2 += v2;
  c->s3 += v2 * v;
  c->s4 += v2 * v2;
  if (++c->n == (uint64_t) d->seg) {
    s[*ns].s1 = c->s1;
    s[*ns].s2 = c->s2;
    s[*ns].s3 = c->s3;
    s[*ns].s4 = c->s4;
    s[*ns].hf = c->hf;
    (*ns)++;
    memset (c, 0, sizeof (*c));
  }
}

/* Decision stage: a complete segment */
static inline void
seg_add (NmsDetector * d, const NmsSegRec * s)
{
  NmsSeg *g = &d->segs[d->seg_done++ & d->seg_mask];

  g->s1 = s->s1;
  g->s2 = s->s2;
  g->s3 = s->s3;
  g->s4 = s->s4;
  g->hf = s->hf;
  g->n = (uint64_t) d->seg;
}

/* Segment holding the end of the quality window of a beat peaking at t. */
static inline uint64_t
sqi_end_seg (const NmsDetector * d, uint64_t t)
{
  return (t - d->t0 + (uint64_t) d->sqi_after) / (uint64_t) d->seg;
}

/* Is the signal readable in the quality window that ends with segment e
 * (complete)? See nms_adaptive_ref for the rule. */
static int
readable (const NmsDetector * d, uint64_t e, int regular)
{
  uint64_t s0 = e + 1 >= (uint64_t) d->sqi_nseg ? e + 1 - d->sqi_nseg : 0;
  uint64_t q, n = 0;
  double s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, hf = 0.0, mu, m2, m4;

  for (q = s0; q <= e; q++) {
    const NmsSeg *g = &d->segs[q & d->seg_mask];

    s1 += g->s1;
    s2 += g->s2;
    s3 += g->s3;
    s4 += g->s4;
    hf += g->hf;
    n += g->n;
  }
  if (n == 0)
    return 0;
  mu = s1 / n;
  m2 = s2 / n - mu * mu;
  m4 = s4 / n - 4.0 * mu * s3 / n + 6.0 * mu * mu * s2 / n - 3.0 * mu * mu *
      mu * mu;
  if (!(m2 > 0.0 && m4 >= nms_tune.sqi_kurt * m2 * m2))
    return 0;
  return regular || hf <= nms_tune.hf_ratio * s2;
}

/* Emits or drops the waiting beats whose quality window is complete (all of
 * them at the end of the stream). */
static void
release (NmsDetector * d, int final, NmsGate * out, size_t *ng)
{
  while (d->pend_tail != d->pend_head) {
    const NmsPend *p = &d->pend[d->pend_tail & d->pend_mask];
    uint64_t t = p->t;
    uint64_t e = sqi_end_seg (d, t);

    if (e >= d->seg_done) {
      if (!final || d->seg_done == 0)
        break;
      e = d->seg_done - 1;
    }
    if (readable (d, e, p->regular))
      emit (d, t, out, ng);
    d->pend_tail++;
  }
}

static void
decide_ready (NmsDetector * d, uint64_t now, int final, NmsGate * out,
    size_t *ng)
{
  uint64_t wait = d->wait;

  if (d->learning) {
    if (!final && now - d->learn_start < (uint64_t) d->learn)
      return;
    if (!learn_end (d)) {
      d->learn_start = now;
      return;
    }
  }
  while (d->cand_next < d->cand_head
      && (final || d->cands[d->cand_next & d->cand_mask].t + wait < now)) {
    decide (d, d->cand_next, out, ng);
    d->cand_next++;
  }
  searchback (d, now, out, ng);
  drop_old (d, now);
}

/*
 * nms_adaptive_ref: the adaptive rule (threshold < 0).
 *
 * a[n] = |y[n]|. Candidates are samples i with a[i] = max a[i-r .. i+r],
 * a[i] > 0, more than r after the previous candidate (r = 0.1 s). A
 * candidate k is dominant when no candidate within +-R (R = refractory_s)
 * is larger. Levels as in Pan & Tompkins (1985):
 *
 *   THR1 = NPK + 0.25 (SPK - NPK),  THR2 = 0.5 THR1
 *   beat:  SPK <- 0.125 a + 0.875 SPK  (0.25 / 0.75 after searchback)
 *   noise: NPK <- 0.125 a + 0.875 NPK
 *
 * Each candidate is decided r + R samples after its peak: it is a beat when
 * it is dominant, a >= max (THR1, A_min), it lies >= R after the previous
 * beat, and it is not a T wave (within 0.36 s of the previous beat with a
 * below half the previous beat's). Otherwise it is noise. Searchback: when
 * no beat came for 1.66 mean RR (mean of the last 8 RR), the largest
 * dominant noise candidate since the last beat with a >= max (THR2, A_min)
 * that passes the refractory and T-wave tests, and whose peak is at most
 * lookahead old, becomes a beat. SPK and NPK start from the largest
 * candidate of the first 1.5 s (learning; repeated while that is below
 * A_min, so flat lines and small noise never start it).
 *
 * Signal quality (quality_gate, default on): a beat peaking at k is only
 * reported when the kurtosis of y over the 3.5 s window [k - 3.25 s,
 * k + 0.25 s] (whole 0.125 s segments, the last one holding k + 0.25 s)
 * is at least 5:
 *
 *   m_p = mean over the window of (y - mean y)^p,  m4 >= 5 m2^2
 *
 * An ECG's wavelet response is sparse, sharp QRS lobes on a quiet
 * background: on the DS1 records the kurtosis around a beat is mostly 8 to
 * 20 and below 6 for about 0.1 % of beats. Gaussian-like noise gives 3;
 * baseline wander with broadband noise about 3, muscle artifact about 5
 * (it comes in bursts). Below 5 the signal is unreadable: the beat is
 * still detected (levels and RR history learn from it as before) but no
 * gate is reported, as a monitor shows "noisy signal" instead of beats.
 *
 * Muscle noise in bursts is peaky enough to pass the kurtosis test, so the
 * same window must also pass a spectral test. f is the response of x to a
 * fine Ricker wavelet 28 ms wide (peak near 56 Hz, taps shifted to sum to
 * 0; y's wavelet is 120 ms wide, peak near 12 Hz; both have the same
 * white-noise gain). A QRS has its energy in 5-25 Hz, muscle noise well
 * above, so the window is unreadable when
 *
 *   sum f^2 > 0.075 sum y^2
 *
 * unless the rhythm up to the beat is steady: its last 4 RR intervals lie
 * within 0.2 of their mean (max - min <= 0.2 mean), which a noisy but
 * readable ECG keeps and noise peaks do not. On DS1 the ratio is below
 * 0.075 for 99.9 % of beats; on the nstdb muscle-noise recording it is
 * above for 98 % of the beats the kurtosis test lets through, on the
 * baseline-wander recording (which carries broadband noise) for 70 %.
 * Without x (NULL) f is 0 and only the kurtosis test applies.
 *
 * The window ends 0.375 s after the peak at most, before the candidate is
 * decided (r + max (R, 0.36 s) later), so gates come out when they did
 * without the test and the latency does not grow.
 *
 * A beat peaking at k gives gate = k - c and rpeak = k - W div 2.
 */
static size_t
nms_adaptive_ref (NmsDetector * d, const float *x, const float *y, size_t n,
    NmsGate * out)
{
  size_t k, m, ng = 0;

  /* spans of NMS_CHUNK samples: (a) features, then (b) decisions */
  for (k = 0; k < n; k += m) {
    size_t i, nc = 0, ns = 0;
    uint64_t j;
    float a;

    m = n - k < NMS_CHUNK ? n - k : NMS_CHUNK;
    if (d->sqi)
      fine_chunk (d, x ? x + k : NULL, m);
    for (i = 0; i < m; i++) {
      a = y[k + i];
      if (!isfinite (a))
        a = 0.0f;
      j = d->t + i;
      cand_feature (d, a, j, d->fc, &nc);
      if (d->sqi)
        seg_feature (d, a, d->f2[i], d->fs, &ns);
    }
    ng += nms_stage_decide (d, m, d->fc, nc, d->fs, ns, out + ng);
  }
  return ng;
}

/**
 * nms_stage_decide:
 *
 * The decision stage of the adaptive rule over samples t .. t + n - 1. At
 * each sample j, in this order: (A) the candidate whose peak is r before j
 * becomes known; (B) when a decision is due (learning, the oldest pending
 * candidate is wait old, or searchback is due), decide_ready (j + 1);
 * (C) the segment ending at j completes; (D) the waiting beats whose
 * quality window is complete are released. Only the samples where one of
 * these can happen are visited: the state changes nowhere else.
 */
size_t
nms_stage_decide (NmsDetector * d, size_t n, const NmsCandRec * c,
    size_t nc, const NmsSegRec * s, size_t ns, NmsGate * out)
{
  uint64_t j = d->t, end = d->t + n, r = (uint64_t) d->r;
  uint64_t seg = (uint64_t) d->seg;
  size_t ci = 0, si = 0, ng = 0;

  if (d->mode != 2) {
    d->t = end;
    return 0;
  }
  while (j < end) {
    uint64_t nx = end;

    /* (A) */
    while (ci < nc && c[ci].t + r <= j)
      cand_add (d, &c[ci++]);
    /* (B), the test of the reference's sample loop */
    if (d->learning || (d->cand_next < d->cand_head
            && d->cands[d->cand_next & d->cand_mask].t + d->wait < j + 1)
        || (d->have_beat && !d->sb_done && j + 1 > d->sb_at))
      decide_ready (d, j + 1, 0, out, &ng);
    if (d->sqi) {
      /* (C) */
      if (si < ns && d->t0 + (d->seg_done + 1) * seg - 1 <= j)
        seg_add (d, &s[si++]);
      /* (D) */
      if (d->pend_tail != d->pend_head
          && sqi_end_seg (d, d->pend[d->pend_tail & d->pend_mask].t) <
          d->seg_done)
        release (d, 0, out, &ng);
    }
    /* the next sample where (A) to (C) can happen; (D) only follows them */
    if (ci < nc && c[ci].t + r < nx)
      nx = c[ci].t + r;
    if (d->sqi && si < ns && d->t0 + (d->seg_done + 1) * seg - 1 < nx)
      nx = d->t0 + (d->seg_done + 1) * seg - 1;
    if (d->learning) {
      if (d->learn_start + (uint64_t) d->learn - 1 < nx)
        nx = d->learn_start + (uint64_t) d->learn - 1;
    } else {
      if (d->cand_next < d->cand_head
          && d->cands[d->cand_next & d->cand_mask].t + d->wait < nx)
        nx = d->cands[d->cand_next & d->cand_mask].t + d->wait;
      if (d->have_beat && !d->sb_done && d->sb_at < nx)
        nx = d->sb_at;
    }
    j = nx > j ? nx : j + 1;
  }
  d->t = end;
  return ng;
}

/**
 * nms_detector_push:
 * @d: a detector
 * @x: (array length=n) (nullable): raw samples (mV), for the muscle-noise
 *     test of the quality gate; NULL skips that test
 * @y: (array length=n): Ricker response of the same samples
 * @n: number of samples
 * @out: (out caller-allocates) (array): at least
 *     nms_detector_max_gates (d, n) gates
 *
 * Returns: the number of gates decided during this call, written to @out in
 * ascending order; they may lie before this block (see
 * nms_detector_latency ()).
 */
size_t
nms_detector_push (NmsDetector * d, const float *x, const float *y,
    size_t n, NmsGate * out)
{
  if (d->flushed || n == 0)
    return 0;
  d->epoch++;
  if (d->mode == 2)
    return nms_adaptive_ref (d, x, y, n, out);
  return nms_seed_ref (d, y, n, out);
}

/**
 * nms_detector_flush:
 * @d: a detector
 * @out: (out caller-allocates) (array): at least
 *     nms_detector_max_gates (d, 0) gates
 *
 * End of stream: decides every pending candidate with what is known. The
 * detector then ignores pushes until nms_detector_reset ().
 *
 * Returns: the number of gates written to @out.
 */
size_t
nms_detector_flush (NmsDetector * d, NmsGate * out)
{
  size_t ng = 0, nc, k;
  uint64_t j, end;

  if (d->flushed)
    return 0;
  d->flushed = 1;
  if (d->mode != 2)
    return 0;
  end = d->t;
  /* the last r samples' candidates, with zeros after the end */
  nc = 0;
  for (j = end; j < end + (uint64_t) d->r; j++)
    cand_feature (d, 0.0f, j, d->fc, &nc);
  for (k = 0; k < nc; k++)
    cand_add (d, &d->fc[k]);
  decide_ready (d, end, 1, out, &ng);
  if (d->sqi) {
    /* the last, partial segment counts as it is */
    if (d->seg_cur.n > 0) {
      d->segs[d->seg_done++ & d->seg_mask] = d->seg_cur;
      memset (&d->seg_cur, 0, sizeof (d->seg_cur));
    }
    release (d, 1, out, &ng);
  }
  return ng;
}

/* ---- stage interface (nms.h; for nms.cu) ---- */

static size_t
hist_y_len (const NmsDetector * d)
{
  return d->mode == 2 ? (size_t) (2 * d->r) : (size_t) d->n - 1;
}

/**
 * nms_stage_get:
 * @d: a detector
 * @s: (out): the geometry and the carried feature state
 * @hist_y: (out) (nullable): s->hist_y floats, y before sample s->t
 * @hist_x: (out) (nullable): s->hist_x floats, x before sample s->t
 */
void
nms_stage_get (const NmsDetector * d, NmsStage * s, float *hist_y,
    float *hist_x)
{
  size_t h = hist_y_len (d), k;

  memset (s, 0, sizeof (*s));
  s->mode = d->mode;
  s->window = d->n;
  s->centre = d->c;
  s->floor = d->mode == 1 ? (float) d->cfg.threshold : -INFINITY;
  s->radius = d->r;
  s->first = d->w;
  s->seg = d->mode == 2 && d->sqi ? d->seg : 0;
  s->fine_width = s->seg ? d->hw2 : 0;
  s->fine_taps = s->seg ? d->hk : NULL;
  s->hist_y = h;
  s->hist_x = s->seg ? (size_t) d->hw2 - 1 : 0;
  s->t0 = d->t0;
  s->t = d->t;
  s->epoch = d->epoch;
  s->flushed = d->flushed;
  s->prev_cand = d->prev_cand;
  s->have_cand = d->have_cand;
  s->last_cand_t = d->last_cand_t;
  if (d->mode == 2) {
    s->seg_cur.s1 = d->seg_cur.s1;
    s->seg_cur.s2 = d->seg_cur.s2;
    s->seg_cur.s3 = d->seg_cur.s3;
    s->seg_cur.s4 = d->seg_cur.s4;
    s->seg_cur.hf = d->seg_cur.hf;
    s->seg_cur_n = d->seg_cur.n;
  }
  if (hist_y) {
    const float *src = d->mode == 2 ? d->yring : d->ring;

    for (k = 0; k < h; k++) {
      uint64_t back = (uint64_t) (h - k);

      hist_y[k] = back <= d->t - d->t0 ? src[(d->t - back) & d->ring_mask] :
          0.0f;
    }
  }
  if (hist_x && s->hist_x)
    memcpy (hist_x, d->xbuf, s->hist_x * sizeof (float));
}

/**
 * nms_stage_put:
 *
 * After a feature stage computed elsewhere (nms.cu): the carried feature
 * state of @s and the history that ends at sample @t_end (what
 * nms_stage_get () would give once the decision stage reached t_end).
 */
void
nms_stage_put (NmsDetector * d, const NmsStage * s, uint64_t t_end,
    const float *hist_y, const float *hist_x)
{
  size_t h = hist_y_len (d), k;

  d->prev_cand = s->prev_cand;
  d->have_cand = s->have_cand;
  d->last_cand_t = s->last_cand_t;
  if (d->mode == 2) {
    d->seg_cur.s1 = s->seg_cur.s1;
    d->seg_cur.s2 = s->seg_cur.s2;
    d->seg_cur.s3 = s->seg_cur.s3;
    d->seg_cur.s4 = s->seg_cur.s4;
    d->seg_cur.hf = s->seg_cur.hf;
    d->seg_cur.n = s->seg_cur_n;
  }
  /* the ring and the sliding max as the reference leaves them at t_end:
   * the deque of the last h samples gives the same maxima from now on */
  d->dq_head = d->dq_tail = 0;
  for (k = 0; k < h; k++) {
    uint64_t back = (uint64_t) (h - k), j, lo;
    float v = hist_y[k];

    if (back > t_end - d->t0)
      continue;
    j = t_end - back;
    if (d->mode == 2) {
      d->yring[j & d->ring_mask] = v;
      d->ring[j & d->ring_mask] = fabsf (v);
      lo = j >= 2 * (uint64_t) d->r ? j - 2 * (uint64_t) d->r : 0;
      deque_push (d, fabsf (v), j, lo);
    } else {
      d->ring[j & d->ring_mask] = v;
      lo = j + 1 >= (uint64_t) d->n ? j + 1 - (uint64_t) d->n : 0;
      deque_push (d, v, j, lo);
    }
  }
  if (hist_x && d->mode == 2 && d->sqi)
    memcpy (d->xbuf, hist_x, ((size_t) d->hw2 - 1) * sizeof (float));
}

void
nms_stage_attach (NmsDetector * d, void *dev, void (*free_dev) (void *))
{
  d->dev = dev;
  d->free_dev = free_dev;
}

void *
nms_stage_device (const NmsDetector * d)
{
  return d->dev;
}

#ifndef ECG_KERNELS_CUDA
int
nms_detector_cuda_prepare (NmsDetector * d, size_t max_block, int device)
{
  (void) d;
  (void) max_block;
  (void) device;
  return ECG_CUDA_ERR_NO_DEVICE;
}

size_t
nms_detector_push_cuda (NmsDetector * d, const float *x_dev,
    const float *y_dev, size_t n, NmsGate * out, void *stream, int *status)
{
  (void) d;
  (void) x_dev;
  (void) y_dev;
  (void) n;
  (void) out;
  (void) stream;
  if (status)
    *status = ECG_CUDA_ERR_NO_DEVICE;
  return 0;
}
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nms: streaming beat gating on the Ricker-wavelet response of an ECG.
 *
 * Pure C99 compute core of the nmsgate element (docs/nmsgate.md). The
 * detector takes blocks of raw samples x (mV) and of the causal Ricker
 * response y, and reports gates: the start sample of each beat window and
 * the estimated R-peak sample. Sample indices are absolute and continue
 * across calls to nms_detector_push ().
 *
 * Two rules:
 *
 * - threshold == 0: the seed's non-maximum suppression, exactly
 *   (nms_seed_ref in nms_ref.c); threshold > 0 adds a fixed floor on y.
 * - threshold < 0 (default): the adaptive detector (nms_adaptive_ref in
 *   nms_ref.c): dual adaptive thresholds on |y| peaks, refractory period,
 *   T-wave rejection, searchback, absolute noise floor, and a
 *   signal-quality gate (kurtosis of y around each beat, and the energy of
 *   x in the muscle-noise band against y's, unless the rhythm is steady)
 *   that reports no beats while the signal is unreadable noise. It never reports beats on
 *   flat lines, in pauses or in small noise.
 *
 * No allocation happens after nms_detector_new (); memory is bounded by the
 * configuration, not by the stream length.
 */

#ifndef __NMS_H__
#define __NMS_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NmsDetector NmsDetector;

/**
 * NmsConfig:
 * @rate: sample rate in Hz.
 * @window: NMS window N in samples (seed: 180 at 250 Hz); the gate of a
 *     beat whose response peaks at sample k is k - (N + 1) / 2.
 * @threshold: 0: the seed rule exactly; > 0: the seed rule plus a fixed
 *     floor on y at the window centre; < 0: the adaptive rule (default).
 * @refractory_s: adaptive rule: minimum RR interval in seconds (default
 *     0.31 s, i.e. at most 194 beats/min); two beats are never reported
 *     closer than this, and a |y| peak is only a beat when it is the
 *     largest within +-refractory_s (this rejects P and T waves and most
 *     flutter waves).
 * @ricker_window: width W of the Ricker wavelet that produced y, in
 *     samples (0: round (0.120 s * rate), the rickerconv default). Used for
 *     the R-peak estimate, since the causal response lags the QRS by
 *     (W - 1) / 2 samples.
 * @min_amplitude: adaptive rule: absolute floor on |y| peaks (default
 *     0.08, about the response to a 0.15 mV QRS); peaks below it are never
 *     beats, which keeps flat lines and small noise silent.
 * @lookahead_s: adaptive rule: how long a candidate may wait for a decision
 *     (learning, searchback), in seconds (default 1.5 s). Bounds the
 *     latency.
 * @quality_gate: adaptive rule: 1 (default) reports a beat only where the
 *     signal around it is readable (signal-quality index: kurtosis of y,
 *     and muscle-band energy of x when x is given; see nms_adaptive_ref in
 *     nms_ref.c), so noise gives no beats; 0 reports every detected beat.
 *
 * Detector configuration. Fill it with nms_config_init () first.
 */
typedef struct
{
  double rate;
  int window;
  double threshold;
  double refractory_s;
  int ricker_window;
  double min_amplitude;
  double lookahead_s;
  int quality_gate;
} NmsConfig;

/**
 * NmsGate:
 * @gate: beat start sample (the NMS window start p).
 * @rpeak: estimated R-peak sample.
 */
typedef struct
{
  uint64_t gate;
  uint64_t rpeak;
} NmsGate;

void nms_config_init (NmsConfig * cfg, double rate);

NmsDetector *nms_detector_new (const NmsConfig * cfg);

void nms_detector_free (NmsDetector * d);

void nms_detector_reset (NmsDetector * d, uint64_t first_sample);

size_t nms_detector_max_gates (const NmsDetector * d, size_t n);

size_t nms_detector_push (NmsDetector * d, const float *x, const float *y,
                          size_t n, NmsGate * out);

size_t nms_detector_flush (NmsDetector * d, NmsGate * out);

uint64_t nms_detector_latency (const NmsDetector * d);

/*
 * CUDA twin (kernels/nms.cu; without CUDA these return
 * ECG_CUDA_ERR_NO_DEVICE, cudadev.h). The detector runs in two stages,
 * on the CPU too (nms_ref.c): (a) features, data-parallel over the samples
 * (sliding max of |y|, local maxima and their half widths, per-segment
 * sums of y, y^2, y^3, y^4 and of the squared fine response of x), and (b)
 * the sequential decisions over the sparse candidates and segments. The
 * CUDA path computes (a) on the device, downloads the compact records
 * (about 10 bytes per |y| peak and 40 per 0.125 s segment, never the
 * signal) and runs the same (b) on the host, so its gates equal
 * nms_detector_push ()'s exactly, in any block sizes.
 *
 * nms_detector_cuda_prepare: allocates the device scratch and pinned host
 * buffers on @device (-1: the current one) for blocks of up to @max_block
 * samples (larger blocks are processed in parts). Call it once before
 * the first CUDA push; again to change the size. Returns 0 or an
 * ECG_CUDA_ERR_* status. nms_detector_free () releases it all.
 *
 * nms_detector_push_cuda: nms_detector_push () with @x_dev (nullable) and
 * @y_dev in device memory, work ordered on @stream (a cudaStream_t, NULL:
 * the legacy default stream). Synchronises @stream before it returns (the
 * gates are on the host). Resets, CPU pushes and nms_detector_flush ()
 * may be mixed freely with CUDA pushes. *@status (nullable) receives 0 or
 * a negative status; on error no gates are returned and the detector
 * should be reset.
 */
int nms_detector_cuda_prepare (NmsDetector * d, size_t max_block,
                               int device);

size_t nms_detector_push_cuda (NmsDetector * d, const float *x_dev,
                               const float *y_dev, size_t n, NmsGate * out,
                               void *stream, int *status);

/*
 * Stage interface between nms_ref.c and nms.cu (not for elements).
 *
 * NmsCandRec: a candidate of the feature stage: a local max of |y| at
 * sample @t, created when sample t + radius arrives; @amp is |y| there
 * times the sharpness weight (nms_stage_amp ()).
 * NmsSegRec: the sums of one quality segment in the reference's order
 * (double, sample by sample from the segment's start).
 */
typedef struct
{
  uint64_t t;
  float amp;
} NmsCandRec;

typedef struct
{
  double s1, s2, s3, s4;
  double hf;
} NmsSegRec;

/*
 * NmsStage: what the feature stage needs and carries from block to block.
 * history: the @hist_y samples of y before sample @t (sanitised: non-finite
 * values are 0; zeros before t0) and the @hist_x samples of x before it
 * (the fine filter's memory). Seed rule: hist_y = window - 1; adaptive
 * rule: hist_y = 2 radius.
 */
typedef struct
{
  int mode;                     /* 0 seed, 1 seed + floor, 2 adaptive */
  int window;                   /* seed: N */
  int centre;                   /* seed: (N + 1) / 2 */
  float floor;                  /* seed: y floor (-inf for mode 0) */
  int radius;                   /* adaptive: r */
  int first;                    /* adaptive: candidates from t0 + first */
  int seg;                      /* adaptive: quality segment, 0: gate off */
  int fine_width;               /* taps of the fine filter */
  const float *fine_taps;
  size_t hist_y, hist_x;
  uint64_t t0, t;
  uint64_t epoch;               /* changes on reset and CPU pushes */
  int flushed;
  /* carried feature state */
  int prev_cand;                /* seed: cand (t - N) */
  int have_cand;                /* adaptive: last candidate */
  uint64_t last_cand_t;
  NmsSegRec seg_cur;            /* the partial segment */
  uint64_t seg_cur_n;
} NmsStage;

void nms_stage_get (const NmsDetector * d, NmsStage * s, float *hist_y,
                    float *hist_x);

/* Sets the carried feature state (prev_cand, have_cand, last_cand_t,
 * seg_cur, seg_cur_n of @s) and the history that ends at sample @t_end */
void nms_stage_put (NmsDetector * d, const NmsStage * s, uint64_t t_end,
                    const float *hist_y, const float *hist_x);

/* Candidate amplitude of a |y| peak @a whose lobe is @lobe samples wide
 * at half height (the sharpness weight) */
float nms_stage_amp (const NmsDetector * d, float a, uint64_t lobe);

/* Decision stage over the next @n samples: candidates created there, in
 * order, and the segments completed there. Advances the detector by n.
 * Seed rule: @c, @s unused, only advances. Returns the gates. */
size_t nms_stage_decide (NmsDetector * d, size_t n, const NmsCandRec * c,
                         size_t nc, const NmsSegRec * s, size_t ns,
                         NmsGate * out);

/* Device state owned by the detector (nms.cu) */
void nms_stage_attach (NmsDetector * d, void *dev, void (*free_dev) (void *));
void *nms_stage_device (const NmsDetector * d);

#ifdef __cplusplus
}
#endif

#endif /* __NMS_H__ */

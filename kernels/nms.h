/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nms: streaming beat gating on the Ricker-wavelet response of an ECG.
 *
 * Pure C99 compute core of the nmsgate element (DESIGN.md section 2). The
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

#ifdef __cplusplus
}
#endif

#endif /* __NMS_H__ */

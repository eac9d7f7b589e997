/* Beat outlier score on top of the LightVAE (CPU reference).
 *
 * Each beat gets a score from three unsupervised parts, all in units of a
 * robust z-score so that they add up:
 *
 *   morphology    how much worse the VAE reconstructs this beat than the
 *                 stream's typical beat (log reconstruction error against
 *                 the running median of this stream, scaled by the
 *                 calibration spread; only "worse" counts);
 *   latent        how far the latent mean lies from this stream's typical
 *                 latent mean (scaled by the calibration spread);
 *   prematurity   how much earlier the beat came than the local rhythm
 *                 (1 - RR / median of the previous RRs, in steps of 10 %).
 *
 * The per-stream ("adapt") centres are running medians over the last
 * adapt_s seconds of the stream, so each patient is scored against his own
 * dominant beat; before enough beats have been seen, and with adapt off,
 * the centres learned at training time (ScoreCalibration) are used.
 * Decisions are not delayed: a beat's score is final when it is scored.
 * tools/score-research/README.md has the derivation and the measurements.
 *
 * Plain C99, libm only; no GLib or GStreamer types.
 */

#ifndef __ECG_KERNELS_SCORE_H__
#define __ECG_KERNELS_SCORE_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCORE_LATENT_DIMS         2

/* Version of the rule and of the calibration text; bumped when either
 * changes meaning, so that old models are refused instead of misread */
#define SCORE_VERSION             1

/* Bounds of the per-stream state (score_state_new allocates them once) */
#define SCORE_RR_HISTORY_MAX      32
#define SCORE_ADAPT_MAX_BEATS     1024

/* Beat flags as the front-end sets them (beat meta) */
#define SCORE_FLAG_SHORT          (1u << 0)
#define SCORE_FLAG_LONG           (1u << 1)
#define SCORE_FLAG_TAIL           (1u << 2)
#define SCORE_FLAG_TRUNCATED      (1u << 3)

/* The threshold in robust standard deviations above the median score */
#define SCORE_THRESHOLD_MADS      5.0

/* Large enough for score_calibration_to_kv () */
#define SCORE_KV_MAX              1024

/* Status codes */
#define SCORE_OK                  0
#define SCORE_ERR_INVALID_ARG    -1
#define SCORE_ERR_NONFINITE      -2
#define SCORE_ERR_NO_DATA        -3
#define SCORE_ERR_PARSE          -4
#define SCORE_ERR_MISSING_KEY    -5
#define SCORE_ERR_VERSION        -6
#define SCORE_ERR_NO_SPACE       -7
#define SCORE_ERR_NO_MEMORY      -8

typedef struct
{
  double rate;                  /* Hz of the RR values (samples) */
  int adapt;                    /* 1: centres per stream (default 1) */
  double adapt_s;               /* adapt window, seconds of stream (300) */
  int adapt_min_beats;          /* beats before the stream's own centres
                                 * replace the calibration ones (16) */
  int rr_history;               /* previous RRs in the local rhythm (8),
                                 * 1 .. SCORE_RR_HISTORY_MAX */
  double premature_step;        /* prematurity giving one unit (0.10) */
  double latent_weight;         /* weight of the latent distance (1.0) */
} ScoreConfig;

typedef struct
{
  /* robust centre (median) and scale (1.4826 MAD) of the calibration
   * beats' log reconstruction error and latent mean */
  double lerr_centre;
  double lerr_scale;
  double mu_centre[SCORE_LATENT_DIMS];
  double mu_scale[SCORE_LATENT_DIMS];
  /* median and 1.4826 MAD of the calibration beats' scores (scored as a
   * stream with the default ScoreConfig), and the outlier threshold
   * score_median + SCORE_THRESHOLD_MADS * score_scale.  A robust cut rather
   * than a percentile: calibration beats are unlabelled and in some
   * recordings more than 1 % of them are ectopic. */
  double score_median;
  double score_scale;
  double threshold;
  uint64_t n_beats;             /* calibration beats */
} ScoreCalibration;

/* The state of one stream; opaque */
typedef struct ScoreState ScoreState;

const char *score_strerror (int status);

/* Defaults (above) for RR values at @rate Hz */
void score_config_init (ScoreConfig * cfg, double rate);

/* Returns SCORE_OK or SCORE_ERR_INVALID_ARG naming nothing; a valid config
 * has rate > 0, adapt_s > 0, adapt_min_beats >= 1, rr_history in
 * 1 .. SCORE_RR_HISTORY_MAX, premature_step > 0, latent_weight >= 0 */
int score_config_validate (const ScoreConfig * cfg);

/* The VAE input: every beat row (n rows of len floats, in place) loses its
 * median, so the model sees the shape and not the baseline offset.  Both
 * training (vaetrain) and scoring (vaescore) call it.  len is 1 .. 1024
 * (SCORE_ERR_INVALID_ARG otherwise).  Non-finite samples
 * give SCORE_ERR_NONFINITE (rows before the bad one are already done). */
int score_prepare_rows_ref (float *rows, size_t n, size_t len);

/* CUDA twin (kernels/score.cu; built with the meson option cuda): the same
 * rows, bit for bit, from device memory at @rows, asynchronously on
 * @stream (a cudaStream_t; NULL: the legacy default stream).  Unlike the
 * reference it does not stop at a row with a non-finite sample: such a
 * row is left as it is and the others are prepared, as when the reference
 * is called row by row.  @nonfinite (device memory, n ints, nullable)
 * gets 1 for each row left as it is, 0 for each prepared one.  Returns
 * SCORE_OK, SCORE_ERR_INVALID_ARG (the reference's argument checks) or an
 * ECG_CUDA_ERR_* status of cudadev.h (ecg_cuda_strerror () names it). */
int score_prepare_rows_cuda (float *rows, size_t n, size_t len,
    int *nonfinite, void *stream);

/* Names the preprocessing for the model metadata: "median-removed" */
const char *score_input_name (void);

/* Learns @cal from calibration beats (beats the VAE did not train on),
 * given in stream order: mu, logvar (n x 2, logvar nullable, unused),
 * err (n), rr (n, samples at @rate since the previous beat, 0 unknown),
 * flags (n, nullable).  A beat with rr == 0 starts a new stream (a new
 * record); a random subset of a recording kept in stream order is fine.
 * Needs n >= 2; non-finite values give SCORE_ERR_NONFINITE. */
int score_calibrate_ref (const float *mu, const float *logvar,
    const float *err, const uint64_t * rr, const uint32_t * flags, size_t n,
    double rate, ScoreCalibration * cal);

/* Writes @cal as text, keys in a fixed order separated by ';':
 *   score.version=1;score.lerr_centre=G;score.lerr_scale=G;
 *   score.mu_centre=G,G;score.mu_scale=G,G;score.score_median=G;
 *   score.score_scale=G;score.threshold=G;score.n_beats=U
 * (G: %.17g, exact round trip; U: decimal).  Returns the length written
 * (without the NUL) or SCORE_ERR_NO_SPACE if @size is too small. */
int score_calibration_to_kv (const ScoreCalibration * cal, char *buf,
    size_t size);

/* Parses the text of score_calibration_to_kv (), keys in any order, and
 * is strict: every key exactly once, no unknown key, numbers finite and
 * complete, scales > 0, version SCORE_VERSION; @cal is left untouched on
 * error (SCORE_ERR_PARSE, SCORE_ERR_MISSING_KEY, SCORE_ERR_VERSION). */
int score_calibration_from_kv (ScoreCalibration * cal, const char *text);

/* The outlier threshold: a beat is an outlier when score > threshold */
double score_calibration_threshold (const ScoreCalibration * cal);

/* (transfer full) (nullable): a new stream state, NULL on a bad config or
 * calibration or no memory.  Bounded: a few tens of KiB. */
ScoreState *score_state_new (const ScoreConfig * cfg,
    const ScoreCalibration * cal);
void score_state_free (ScoreState * st);

/* Forgets the stream (flush, DISCONT, new stream) */
void score_state_reset (ScoreState * st);

/* Scores n beats in stream order (arguments as score_calibrate_ref) into
 * score[i]; no allocation.  Every score is final at once (no delay), so it
 * returns n.  Scoring in blocks of any size gives the same scores as one
 * call.  A beat with a non-finite err or mu gets a NaN score and leaves the
 * state as it was. */
size_t score_beats_ref (ScoreState * st, const float *mu,
    const float *logvar, const float *err, const uint64_t * rr,
    const uint32_t * flags, size_t n, float *score);

#ifdef __cplusplus
}
#endif

#endif /* __ECG_KERNELS_SCORE_H__ */

/* LightVAE compute core (CPU reference).
 *
 * The seed's LightVAE exactly as ../shared/data/golden/vae/README.md writes
 * it out: Conv1d 1-4-8-16 (kernel 3, padding 1) with one shared learnable
 * Swish and [1,2,1] stride-2 depthwise downsampling, mean-pooled convA/convB
 * to a 2-D latent, Linear(2, 256) restore, nearest x2 upsampling, Conv1d
 * 8-4-2-1.
 *
 * All parameters live in one contiguous float32 array of VAE_N_PARAMS floats,
 * laid out in PyTorch state_dict order (vae_param_table).  Beats are rows of
 * VAE_BEAT_LENGTH float32 samples, row-major.
 *
 * No GLib or GStreamer types here: plain C99, libm and pthreads.
 */

#ifndef __ECG_KERNELS_VAE_H__
#define __ECG_KERNELS_VAE_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VAE_BEAT_LENGTH   256
#define VAE_LATENT_DIMS   2
#define VAE_N_PARAMS      1618
#define VAE_N_TENSORS     19
#define VAE_MAX_DIMS      3

/* The seed's batch size; vae_train_epoch_ref () uses it */
#define VAE_TRAIN_BATCH   1024

/* Threads used by one call: at most VAE_MAX_THREADS, at least
 * VAE_MIN_BEATS_PER_THREAD beats each, never more than vae_get_threads () */
#define VAE_MAX_THREADS           8
#define VAE_MIN_BEATS_PER_THREAD  32

/* Offsets (in floats) of each tensor in the parameter array */
#define VAE_OFF_SIGMA_ALPHA       0
#define VAE_OFF_CONV0_WEIGHT      1
#define VAE_OFF_CONV0_BIAS        13
#define VAE_OFF_CONV1_WEIGHT      17
#define VAE_OFF_CONV1_BIAS        113
#define VAE_OFF_CONV2_WEIGHT      121
#define VAE_OFF_CONV2_BIAS        505
#define VAE_OFF_CONVA_WEIGHT      521
#define VAE_OFF_CONVA_BIAS        617
#define VAE_OFF_CONVB_WEIGHT      619
#define VAE_OFF_CONVB_BIAS        715
#define VAE_OFF_RESTORE_WEIGHT    717
#define VAE_OFF_RESTORE_BIAS      1229
#define VAE_OFF_CONV3_WEIGHT      1485
#define VAE_OFF_CONV3_BIAS        1581
#define VAE_OFF_CONV4_WEIGHT      1585
#define VAE_OFF_CONV4_BIAS        1609
#define VAE_OFF_CONV5_WEIGHT      1611
#define VAE_OFF_CONV5_BIAS        1617

/* Status codes */
#define VAE_OK                    0
#define VAE_ERR_INVALID_ARG      -1
#define VAE_ERR_NONFINITE        -2

typedef struct
{
  const char *name;             /* PyTorch state_dict name */
  int ndim;
  int64_t shape[VAE_MAX_DIMS];
  size_t offset;                /* in floats */
  size_t numel;
  int fan_in;                   /* for PyTorch's default init */
} VaeParamInfo;

/* The VAE_N_TENSORS tensors in state_dict order; static storage */
extern const VaeParamInfo vae_param_table[VAE_N_TENSORS];

/* Returns the table entry for @name, or NULL */
const VaeParamInfo *vae_param_lookup (const char *name);

const char *vae_strerror (int status);

/* Threads: 0 (default) means the number of online CPUs.  The setting is
 * process-wide; workspaces are sized for VAE_MAX_THREADS so it may change
 * at any time. */
void vae_set_threads (int n_threads);
int vae_get_threads (void);

/* Bytes of scratch memory that vae_encode_ref, vae_decode_ref and
 * vae_loss_grad_ref need for @batch beats.  Any alignment is accepted. */
size_t vae_workspace_size (size_t batch);

/* mu, logvar (batch x 2) = encode (x (batch x 256)) */
int vae_encode_ref (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, void *workspace);

/* recon (batch x 256) = decode (z (batch x 2)) */
int vae_decode_ref (const float *params, const float *z, size_t batch,
    float *recon, void *workspace);

/* Scoring in one pass: mu, logvar = encode (x); recon = decode (mu);
 * err[b] = mean_j (recon[b,j] - x[b,j])^2.  recon and err may be NULL. */
int vae_score_ref (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, float *recon, float *err, void *workspace);

/* loss and grad (VAE_N_PARAMS floats, overwritten) for one minibatch, with
 * z = mu + eps * exp (0.5 logvar) and eps (batch x 2) given. */
int vae_loss_grad_ref (const float *params, const float *x, const float *eps,
    size_t batch, float *grad, double *loss, void *workspace);

/* One Adam step over n parameters, PyTorch's torch.optim.Adam (no weight
 * decay, no amsgrad); step is the 1-based step number.  The hyperparameters
 * are doubles as in Python (PyTorch's defaults: 1e-3, 0.9, 0.999, 1e-8). */
int vae_adam_step_ref (float *params, const float *grad, float *m, float *v,
    size_t n, uint64_t step, double lr, double beta1, double beta2,
    double eps);

/* Random numbers: xoshiro256** seeded through splitmix64 */
typedef struct
{
  uint64_t s[4];
} VaeRng;

void vae_rng_seed (VaeRng * rng, uint64_t seed);
uint64_t vae_rng_next (VaeRng * rng);
/* uniform double in [0, 1) with 53 random bits */
double vae_rng_uniform (VaeRng * rng);
/* uniform integer in [0, bound) without bias; bound > 0 */
uint64_t vae_rng_below (VaeRng * rng, uint64_t bound);
/* n standard normal floats, Box-Muller in pairs */
void vae_rng_normal (VaeRng * rng, float *out, size_t n);

/* PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
 * weights and biases of every Conv1d and Linear, sigma.alpha = 1 */
void vae_init_params_ref (float *params, VaeRng * rng);

/* Training state; the arrays are the caller's, VAE_N_PARAMS floats each */
typedef struct
{
  float *params;
  float *m;                     /* Adam first moment */
  float *v;                     /* Adam second moment */
  uint64_t step;                /* Adam steps done */
  VaeRng rng;                   /* drives shuffles and eps */
  size_t batch_size;            /* VAE_TRAIN_BATCH */
  double lr, beta1, beta2, eps; /* 1e-3, 0.9, 0.999, 1e-8 */
} VaeTrainState;

/* Seeds the RNG with @seed, initialises params from it (as
 * vae_init_params_ref), zeroes m and v, sets PyTorch's Adam defaults */
void vae_train_init_ref (VaeTrainState * st, float *params, float *m,
    float *v, uint64_t seed);

/* For vae_train_epoch_ref () on n_beats beats with st->batch_size ==
 * batch_size (a different batch size needs a new workspace) */
size_t vae_train_workspace_size (size_t n_beats, size_t batch_size);

/* One epoch over n_beats beats (n_beats x 256) in a fresh shuffled order,
 * minibatches of st->batch_size with the last partial one included (as
 * PyTorch's DataLoader without drop_last), one Adam step each.
 * RNG use, in order: the shuffle (perm = identity, then Fisher-Yates from
 * the top with j = vae_rng_below (i + 1)), then per minibatch 2 x rows
 * normals for eps.  mean_loss (nullable): the sum of the minibatch losses
 * divided by n_beats.  VAE_ERR_NONFINITE when a loss is NaN or infinite
 * (the parameters keep the last finite step). */
int vae_train_epoch_ref (VaeTrainState * st, const float *beats,
    size_t n_beats, void *workspace, double *mean_loss);


/* ---------------------------------------------------------------------- */
/* CUDA twins (kernels/vae.cu; built with the meson option cuda).
 *
 * Same maths as the _ref functions above.  Every pointer argument is a
 * device pointer (VaeTrainState's params, m and v too), except
 * host_workspace; `stream` is a cudaStream_t (NULL: the legacy default
 * stream).  All calls but vae_train_epoch_cuda are asynchronous.  They
 * return VAE_OK, VAE_ERR_INVALID_ARG, VAE_ERR_NONFINITE or an
 * ECG_CUDA_ERR_* status from cudadev.h; ecg_cuda_strerror () describes
 * each. */

/* Threads per block and the most blocks one call uses */
#define VAE_CUDA_THREADS      256
#define VAE_CUDA_MAX_BLOCKS   1024

/* Device bytes of scratch for vae_loss_grad_cuda on @batch beats; the
 * forward calls need none (they accept NULL) */
size_t vae_cuda_workspace_size (size_t batch);

int vae_encode_cuda (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, void *workspace, void *stream);

int vae_decode_cuda (const float *params, const float *z, size_t batch,
    float *recon, void *workspace, void *stream);

/* mu, logvar, recon and err may be NULL */
int vae_score_cuda (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, float *recon, float *err, void *workspace,
    void *stream);

/* grad (VAE_N_PARAMS floats) and loss (one double) on the device */
int vae_loss_grad_cuda (const float *params, const float *x, const float *eps,
    size_t batch, float *grad, double *loss, void *workspace, void *stream);

int vae_adam_step_cuda (float *params, const float *grad, float *m, float *v,
    size_t n, uint64_t step, double lr, double beta1, double beta2,
    double eps, void *stream);

/* Device bytes for vae_train_epoch_cuda (n_beats, st->batch_size ==
 * batch_size), and host bytes for its host_workspace */
size_t vae_train_cuda_workspace_size (size_t n_beats, size_t batch_size);
size_t vae_train_cuda_host_workspace_size (size_t n_beats);

/* vae_train_epoch_ref on the device: st->params, st->m, st->v and beats
 * (n_beats x 256) are device pointers.  The shuffle and eps come from
 * st->rng on the host exactly as in the reference and are uploaded once;
 * the minibatches run as stream-ordered kernels (no host round trip); the
 * call synchronises the stream once at the end for mean_loss. */
int vae_train_epoch_cuda (VaeTrainState * st, const float *beats,
    size_t n_beats, void *workspace, void *host_workspace,
    double *mean_loss, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* __ECG_KERNELS_VAE_H__ */

/* vae-bench: wall-clock timings of the LightVAE CPU core.
 *
 *   vae-bench [--threads N] [--score-beats N] [--train-beats N]
 *             [--epochs N] [--beats FILE]
 *
 * Beats come from FILE (float32 rows of 256) tiled to the sizes asked for,
 * default $ECG_SHARED_DATA/golden/vae/beats.f32 (or
 * $ECG_SOURCE_ROOT/../shared/data/...), else synthetic beats.  Reports
 * encode + decode of the scoring set (default 100,000 beats) and training
 * from a fresh init (default 30 epochs on 75,000 beats).
 */

#include "vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of all threads: with other load on the machine it shows the
 * work done, where wall time shows what the machine gave us */
static double
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *
read_beats (const char *path, size_t *n_beats)
{
  FILE *f = fopen (path, "rb");
  long size;
  float *buf = NULL;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) <= 0
      || size % (VAE_BEAT_LENGTH * 4) != 0 || fseek (f, 0, SEEK_SET) != 0)
    goto out;
  buf = malloc (size);
  if (buf == NULL || fread (buf, 1, size, f) != (size_t) size) {
    free (buf);
    buf = NULL;
    goto out;
  }
  *n_beats = size / (VAE_BEAT_LENGTH * 4);
out:
  fclose (f);
  return buf;
}

/* n beats: the source beats tiled, or a synthetic QRS-like bump */
static float *
make_set (const float *src, size_t n_src, size_t n, VaeRng * rng)
{
  float *x = malloc (n * VAE_BEAT_LENGTH * sizeof (float));
  size_t b;
  int t;

  if (x == NULL)
    return NULL;
  for (b = 0; b < n; b++) {
    if (src != NULL) {
      memcpy (x + b * VAE_BEAT_LENGTH, src + (b % n_src) * VAE_BEAT_LENGTH,
          VAE_BEAT_LENGTH * sizeof (float));
    } else {
      double c = 100.0 + 20.0 * vae_rng_uniform (rng);

      for (t = 0; t < VAE_BEAT_LENGTH; t++)
        x[b * VAE_BEAT_LENGTH + t] = (float) exp (-(t - c) * (t - c) / 50.0);
    }
  }
  return x;
}

int
main (int argc, char **argv)
{
  size_t n_score = 100000, n_train = 75000, n_src = 0, i;
  int epochs = 30, threads = 0, e;
  const char *beats_path = NULL;
  char path[4096];
  float *src = NULL, *xs, *xt, *mu, *lv, *rec, *params, *m, *v;
  void *ws, *tws;
  VaeRng rng;
  VaeTrainState st;
  double t0, c0, t_enc, t_dec, t_score, t_train, c_enc, c_score, c_train;
  double loss = 0.0, first = 0.0;

  for (i = 1; i < (size_t) argc; i++) {
    if (strcmp (argv[i], "--threads") == 0 && i + 1 < (size_t) argc)
      threads = atoi (argv[++i]);
    else if (strcmp (argv[i], "--score-beats") == 0 && i + 1 < (size_t) argc)
      n_score = strtoul (argv[++i], NULL, 10);
    else if (strcmp (argv[i], "--train-beats") == 0 && i + 1 < (size_t) argc)
      n_train = strtoul (argv[++i], NULL, 10);
    else if (strcmp (argv[i], "--epochs") == 0 && i + 1 < (size_t) argc)
      epochs = atoi (argv[++i]);
    else if (strcmp (argv[i], "--beats") == 0 && i + 1 < (size_t) argc)
      beats_path = argv[++i];
    else {
      fprintf (stderr, "usage: %s [--threads N] [--score-beats N] "
          "[--train-beats N] [--epochs N] [--beats FILE]\n", argv[0]);
      return 2;
    }
  }
  if (n_score == 0 || n_train == 0) {
    fprintf (stderr, "beat counts must be positive\n");
    return 2;
  }
  vae_set_threads (threads);

  if (beats_path == NULL) {
    const char *d = getenv ("ECG_SHARED_DATA");
    const char *r = getenv ("ECG_SOURCE_ROOT");

    if (d != NULL)
      snprintf (path, sizeof (path), "%s/golden/vae/beats.f32", d);
    else
      snprintf (path, sizeof (path), "%s/../shared/data/golden/vae/beats.f32",
          r != NULL ? r : ".");
    beats_path = path;
  }
  src = read_beats (beats_path, &n_src);
  printf ("beats: %s, %d threads\n", src != NULL ? beats_path : "synthetic",
      vae_get_threads ());

  vae_rng_seed (&rng, 1);
  xs = make_set (src, n_src, n_score, &rng);
  xt = make_set (src, n_src, n_train, &rng);
  mu = malloc (n_score * 2 * sizeof (float));
  lv = malloc (n_score * 2 * sizeof (float));
  rec = malloc (n_score * VAE_BEAT_LENGTH * sizeof (float));
  params = malloc (VAE_N_PARAMS * sizeof (float));
  m = malloc (VAE_N_PARAMS * sizeof (float));
  v = malloc (VAE_N_PARAMS * sizeof (float));
  ws = malloc (vae_workspace_size (n_score));
  tws = malloc (vae_train_workspace_size (n_train, VAE_TRAIN_BATCH));
  if (xs == NULL || xt == NULL || mu == NULL || lv == NULL || rec == NULL
      || params == NULL || m == NULL || v == NULL || ws == NULL
      || tws == NULL) {
    fprintf (stderr, "out of memory\n");
    return 1;
  }

  vae_train_init_ref (&st, params, m, v, 42);

  t0 = now ();
  c0 = cpu_now ();
  vae_encode_ref (params, xs, n_score, mu, lv, ws);
  t_enc = now () - t0;
  t0 = now ();
  vae_decode_ref (params, mu, n_score, rec, ws);
  t_dec = now () - t0;
  c_enc = cpu_now () - c0;
  t0 = now ();
  c0 = cpu_now ();
  vae_score_ref (params, xs, n_score, mu, lv, rec, NULL, ws);
  t_score = now () - t0;
  c_score = cpu_now () - c0;
  printf ("scoring %zu beats: encode %.3f s + decode %.3f s = %.3f s wall "
      "(%.3f s cpu); vae_score_ref %.3f s wall (%.3f s cpu, %.0f beats/s)\n",
      n_score, t_enc, t_dec, t_enc + t_dec, c_enc, t_score, c_score,
      n_score / t_score);

  t0 = now ();
  c0 = cpu_now ();
  for (e = 0; e < epochs; e++) {
    int ret = vae_train_epoch_ref (&st, xt, n_train, tws, &loss);

    if (ret != VAE_OK) {
      fprintf (stderr, "epoch %d: %s\n", e, vae_strerror (ret));
      return 1;
    }
    if (e == 0)
      first = loss;
  }
  t_train = now () - t0;
  c_train = cpu_now () - c0;
  printf ("training %d epochs on %zu beats: %.2f s wall (%.2f s cpu, "
      "%.2f s/epoch), mean loss %.6f -> %.6f\n", epochs, n_train, t_train,
      c_train, epochs > 0 ? t_train / epochs : 0.0, first, loss);

  free (src);
  free (xs);
  free (xt);
  free (mu);
  free (lv);
  free (rec);
  free (params);
  free (m);
  free (v);
  free (ws);
  free (tws);
  return 0;
}

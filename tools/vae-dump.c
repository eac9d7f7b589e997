/* vae-dump: run the LightVAE CPU core on a beats file and write its outputs,
 * for tests/gpu/check_torch_load.py to compare with PyTorch.
 *
 *   vae-dump [--train EPOCHS] [--seed N] [--save MODEL_OUT] MODEL BEATS OUTDIR
 *
 * MODEL is a safetensors LightVAE (or "-" with --train: start from the
 * seeded PyTorch-style init).  BEATS is float32 rows of 256 samples.  With
 * --train, trains that many epochs on BEATS first; with --save, writes the
 * model through our safetensors writer.  Writes OUTDIR/mu.f32,
 * OUTDIR/logvar.f32 (beats x 2) and OUTDIR/recon.f32 (decode (mu)).
 */

#include "vae.h"
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
write_f32 (const char *dir, const char *name, const float *data, size_t n)
{
  char path[4096];
  FILE *f;
  int ok;

  snprintf (path, sizeof (path), "%s/%s", dir, name);
  f = fopen (path, "wb");
  if (f == NULL) {
    perror (path);
    return -1;
  }
  ok = fwrite (data, sizeof (float), n, f) == n;
  if (fclose (f) != 0 || !ok) {
    fprintf (stderr, "%s: write failed\n", path);
    return -1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *beats = NULL, *outdir = NULL, *save = NULL;
  int epochs = 0, i, ret;
  unsigned long long seed = 0;
  float params[VAE_N_PARAMS], m[VAE_N_PARAMS], v[VAE_N_PARAMS];
  float *x = NULL, *mu = NULL, *lv = NULL, *rec = NULL;
  void *ws = NULL;
  char detail[256] = "";
  size_t n = 0;
  long size;
  FILE *f;
  int argn = 0;

  for (i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--train") == 0 && i + 1 < argc)
      epochs = atoi (argv[++i]);
    else if (strcmp (argv[i], "--seed") == 0 && i + 1 < argc)
      seed = strtoull (argv[++i], NULL, 10);
    else if (strcmp (argv[i], "--save") == 0 && i + 1 < argc)
      save = argv[++i];
    else if (argn == 0 && (argn = 1))
      model = argv[i];
    else if (argn == 1 && (argn = 2))
      beats = argv[i];
    else if (argn == 2 && (argn = 3))
      outdir = argv[i];
    else
      argn = 4;
  }
  if (argn != 3) {
    fprintf (stderr, "usage: %s [--train EPOCHS] [--seed N] [--save "
        "MODEL_OUT] MODEL|- BEATS OUTDIR\n", argv[0]);
    return 2;
  }

  f = fopen (beats, "rb");
  if (f == NULL || fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) <= 0
      || size % (4 * VAE_BEAT_LENGTH) != 0 || fseek (f, 0, SEEK_SET) != 0) {
    fprintf (stderr, "%s: not a float32 x 256 beats file\n", beats);
    return 1;
  }
  n = (size_t) size / (4 * VAE_BEAT_LENGTH);
  x = malloc ((size_t) size);
  if (x == NULL || fread (x, 1, (size_t) size, f) != (size_t) size) {
    fprintf (stderr, "%s: read failed\n", beats);
    return 1;
  }
  fclose (f);

  if (strcmp (model, "-") == 0) {
    VaeRng rng;

    vae_rng_seed (&rng, seed);
    vae_init_params_ref (params, &rng);
  } else {
    ret = safetensors_read_lightvae (model, params, NULL, detail,
        sizeof (detail));
    if (ret != 0) {
      fprintf (stderr, "%s: %s (%s)\n", model, safetensors_strerror (ret),
          detail);
      return 1;
    }
  }

  if (epochs > 0) {
    VaeTrainState st;
    void *tws = malloc (vae_train_workspace_size (n, VAE_TRAIN_BATCH));
    double loss = 0.0;
    float init[VAE_N_PARAMS];

    memcpy (init, params, sizeof (init));
    vae_train_init_ref (&st, params, m, v, seed);
    if (strcmp (model, "-") != 0)
      memcpy (params, init, sizeof (init));
    for (i = 0; i < epochs && tws != NULL; i++) {
      ret = vae_train_epoch_ref (&st, x, n, tws, &loss);
      if (ret != 0) {
        fprintf (stderr, "epoch %d: %s\n", i, vae_strerror (ret));
        return 1;
      }
      fprintf (stderr, "epoch %d: mean loss %.6f\n", i + 1, loss);
    }
    free (tws);
  }

  if (save != NULL) {
    static const SafetensorsMeta meta[] = { {"rate", "250"} };

    ret = safetensors_write_lightvae (save, params, meta, 1);
    if (ret != 0) {
      fprintf (stderr, "%s: %s\n", save, safetensors_strerror (ret));
      return 1;
    }
  }

  mu = malloc (n * 2 * sizeof (float));
  lv = malloc (n * 2 * sizeof (float));
  rec = malloc (n * VAE_BEAT_LENGTH * sizeof (float));
  ws = malloc (vae_workspace_size (n));
  if (mu == NULL || lv == NULL || rec == NULL || ws == NULL) {
    fprintf (stderr, "out of memory\n");
    return 1;
  }
  vae_score_ref (params, x, n, mu, lv, rec, NULL, ws);
  if (write_f32 (outdir, "mu.f32", mu, n * 2) != 0
      || write_f32 (outdir, "logvar.f32", lv, n * 2) != 0
      || write_f32 (outdir, "recon.f32", rec, n * VAE_BEAT_LENGTH) != 0)
    return 1;
  printf ("%zu beats -> %s/{mu,logvar,recon}.f32\n", n, outdir);

  free (x);
  free (mu);
  free (lv);
  free (rec);
  free (ws);
  return 0;
}

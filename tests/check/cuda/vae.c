/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The LightVAE CUDA twins against vae_ref.c: encode, decode and score on
 * random parameters and synthetic beats (and, when $ECG_SHARED_DATA has
 * golden/vae, on the PyTorch golden model and beats), loss + gradient,
 * Adam, and 30 epochs of training from one seed on both sides.  Then the
 * training speed on 75,000 beats.
 *
 * Usage: cuda-vae [--cmp-beats N] [--speed-beats N] [--epochs N]
 * (defaults 8192, 75000, 30; --speed-beats 0 skips the speed run).
 * Exit 0 pass, 1 fail, 77 no device.
 */
#include "cudatest.h"
#include "safetensors.h"

/* A synthetic ECG-like beat: P, QRS and T bumps with jittered position,
 * width and amplitude, baseline wander and noise */
static void
make_beats (VaeRng * rng, float *x, size_t n)
{
  size_t b;
  int t;

  for (b = 0; b < n; b++) {
    double qp = 90 + 10 * vae_rng_uniform (rng), qa = 0.8 + 0.5 *
        vae_rng_uniform (rng), tp = 170 + 20 * vae_rng_uniform (rng);
    double ta = 0.2 + 0.2 * vae_rng_uniform (rng), pa = 0.1 + 0.1 *
        vae_rng_uniform (rng), base = 0.2 * (vae_rng_uniform (rng) - 0.5);
    double slope = 0.002 * (vae_rng_uniform (rng) - 0.5);
    float noise[256];

    vae_rng_normal (rng, noise, 256);
    for (t = 0; t < 256; t++) {
      double q = (t - qp) / 3.0, tw = (t - tp) / 14.0, p = (t - 40.0) / 8.0;

      x[b * 256 + t] = (float) (base + slope * t + qa * exp (-0.5 * q * q)
          - 0.15 * qa * exp (-0.5 * (q + 2) * (q + 2)) + ta * exp (-0.5 * tw
              * tw) + pa * exp (-0.5 * p * p) + 0.02 * noise[t]);
    }
  }
}

/* ---------------------------------------------------------------------- */

static void
test_forward (const char *what, const float *params, const float *x,
    size_t n, const float *gold_mu, const float *gold_recon)
{
  float *mu = xmalloc (n * 2 * 4), *lv = xmalloc (n * 2 * 4);
  float *rec = xmalloc (n * 256 * 4), *err = xmalloc (n * 4);
  float *mug = xmalloc (n * 2 * 4), *lvg = xmalloc (n * 2 * 4);
  float *recg = xmalloc (n * 256 * 4), *errg = xmalloc (n * 4);
  float *z = xmalloc (n * 2 * 4);
  void *ws = xmalloc (vae_workspace_size (n));
  float *dp = dmalloc (VAE_N_PARAMS * 4), *dx = dmalloc (n * 256 * 4);
  float *dmu = dmalloc (n * 2 * 4), *dlv = dmalloc (n * 2 * 4);
  float *drec = dmalloc (n * 256 * 4), *derr = dmalloc (n * 4);
  float *dz = dmalloc (n * 2 * 4);
  double e_mu, e_lv, e_rec, e_err, n_rec, t0, t1;
  VaeRng rng;
  int ret;

  upload (dp, params, VAE_N_PARAMS * 4);
  upload (dx, x, n * 256 * 4);

  /* score: mu, logvar, recon at z = mu, err */
  t0 = now_s ();
  vae_score_ref (params, x, n, mu, lv, rec, err, ws);
  t0 = now_s () - t0;
  poison (dmu, n * 8);
  poison (dlv, n * 8);
  poison (drec, n * 1024);
  poison (derr, n * 4);
  ret = vae_score_cuda (dp, dx, n, dmu, dlv, drec, derr, NULL, NULL);
  CK (cudaDeviceSynchronize ());
  t1 = now_s ();
  vae_score_cuda (dp, dx, n, dmu, dlv, drec, derr, NULL, NULL);
  CK (cudaDeviceSynchronize ());
  t1 = now_s () - t1;
  download (mug, dmu, n * 8);
  download (lvg, dlv, n * 8);
  download (recg, drec, n * 1024);
  download (errg, derr, n * 4);
  /* mu, logvar and the reconstruction are sums that cancel: near zero,
   * compare with 1 % of their scale (a reconstructed sample at 0.1 % of
   * the largest once differed by 1.16e-4 of itself, float rounding of a
   * sum in another order: seed 4766801016929569949) */
  e_mu = max_rel (mug, mu, 2 * n, 1e-2 * max_abs (mu, 2 * n));
  e_lv = max_rel (lvg, lv, 2 * n, 1e-2 * max_abs (lv, 2 * n));
  e_rec = max_rel (recg, rec, 256 * n, 1e-2 * max_abs (rec, 256 * n));
  n_rec = norm_rel (recg, rec, 256 * n);
  e_err = max_rel (errg, err, n, 1e-12);
  check (ret == 0, "%s: vae_score_cuda on %zu beats returns %d", what, n, ret);
  check (e_err <= 1e-4, "%s: err max rel error %.3g (limit 1e-4)", what, e_err);
  check (e_mu <= 1e-4 && e_lv <= 1e-4, "%s: mu, logvar max rel error %.3g, "
      "%.3g (norm rel %.3g, %.3g)", what, e_mu, e_lv,
      norm_rel (mug, mu, 2 * n), norm_rel (lvg, lv, 2 * n));
  check (e_rec <= 1e-4 && n_rec <= 1e-5, "%s: recon max rel error %.3g, "
      "norm rel %.3g", what, e_rec, n_rec);
  printf ("# timing: %s: score %zu beats: cuda %.3f ms, ref %.1f ms\n", what,
      n, t1 * 1e3, t0 * 1e3);
  if (gold_mu != NULL) {
    e_mu = norm_rel (mug, gold_mu, 2 * n);
    e_rec = norm_rel (recg, gold_recon, 256 * n);
    check (e_mu < 1e-5 && e_rec < 1e-5, "%s: mu and recon match PyTorch "
        "(norm rel %.3g, %.3g)", what, e_mu, e_rec);
  }

  /* encode alone gives the same mu, logvar */
  poison (dmu, n * 8);
  ret = vae_encode_cuda (dp, dx, n, dmu, dlv, NULL, NULL);
  CK (cudaDeviceSynchronize ());
  download (z, dmu, n * 8);
  check (ret == 0 && memcmp (z, mug, n * 8) == 0,
      "%s: vae_encode_cuda gives the score's mu", what);

  /* decode at random z */
  vae_rng_seed (&rng, 5);
  vae_rng_normal (&rng, z, 2 * n);
  vae_decode_ref (params, z, n, rec, ws);
  upload (dz, z, n * 8);
  poison (drec, n * 1024);
  ret = vae_decode_cuda (dp, dz, n, drec, NULL, NULL);
  CK (cudaDeviceSynchronize ());
  download (recg, drec, n * 1024);
  e_rec = max_rel (recg, rec, 256 * n, 1e-3 * max_abs (rec, 256 * n));
  check (ret == 0 && e_rec <= 1e-4, "%s: decode at random z: max rel "
      "error %.3g", what, e_rec);
  check (vae_score_cuda (NULL, dx, n, NULL, NULL, NULL, derr, NULL,
          NULL) == VAE_ERR_INVALID_ARG, "NULL params is VAE_ERR_INVALID_ARG");

  free (mu);
  free (lv);
  free (rec);
  free (err);
  free (mug);
  free (lvg);
  free (recg);
  free (errg);
  free (z);
  free (ws);
  CK (cudaFree (dp));
  CK (cudaFree (dx));
  CK (cudaFree (dmu));
  CK (cudaFree (dlv));
  CK (cudaFree (drec));
  CK (cudaFree (derr));
  CK (cudaFree (dz));
}

/* loss and gradient of one batch; gold_loss (0: none) from PyTorch */
static void
test_loss_grad (const char *what, const float *params, const float *x,
    const float *eps, size_t n, double gold_loss)
{
  float grad[VAE_N_PARAMS], gradg[VAE_N_PARAMS];
  void *ws = xmalloc (vae_workspace_size (n));
  float *dp = dmalloc (VAE_N_PARAMS * 4), *dx = dmalloc (n * 1024);
  float *de = dmalloc (n * 8), *dg = dmalloc (VAE_N_PARAMS * 4);
  void *dws = dmalloc (vae_cuda_workspace_size (n));
  double *dl = dmalloc (sizeof (double)), loss, lossg, e, worst = 0.0;
  const char *worst_name = "";
  int i, ret;

  vae_loss_grad_ref (params, x, eps, n, grad, &loss, ws);
  upload (dp, params, VAE_N_PARAMS * 4);
  upload (dx, x, n * 1024);
  upload (de, eps, n * 8);
  poison (dg, VAE_N_PARAMS * 4);
  ret = vae_loss_grad_cuda (dp, dx, de, n, dg, dl, dws, NULL);
  CK (cudaDeviceSynchronize ());
  download (gradg, dg, VAE_N_PARAMS * 4);
  download (&lossg, dl, sizeof (double));
  check (ret == 0 && fabs (lossg - loss) <= 1e-5 * fabs (loss),
      "%s: loss of %zu beats %.7f, ref %.7f", what, n, lossg, loss);
  for (i = 0; i < VAE_N_TENSORS; i++) {
    const VaeParamInfo *pi = &vae_param_table[i];

    e = norm_rel (gradg + pi->offset, grad + pi->offset, pi->numel);
    if (!(e <= worst)) {
      worst = e;
      worst_name = pi->name;
    }
  }
  check (worst <= 1e-4, "%s: gradient per tensor norm rel error <= %.3g "
      "(%s); overall %.3g", what, worst, worst_name,
      norm_rel (gradg, grad, VAE_N_PARAMS));
  if (gold_loss != 0.0)
    check (fabs (lossg - gold_loss) <= 1e-5 * fabs (gold_loss),
        "%s: loss matches PyTorch %.7f", what, gold_loss);
  free (ws);
  CK (cudaFree (dp));
  CK (cudaFree (dx));
  CK (cudaFree (de));
  CK (cudaFree (dg));
  CK (cudaFree (dws));
  CK (cudaFree (dl));
}

static void
test_adam (VaeRng * rng)
{
  enum
  { N = VAE_N_PARAMS };
  static float p[N], g[N], m[N], v[N], pg[N], mg[N], vg[N];
  float *dp = dmalloc (N * 4), *dg = dmalloc (N * 4), *dm = dmalloc (N * 4),
      *dv = dmalloc (N * 4);
  int i, ret;

  for (i = 0; i < N; i++) {
    p[i] = (float) (vae_rng_uniform (rng) * 2.0 - 1.0);
    g[i] = (float) (vae_rng_uniform (rng) * 0.2 - 0.1);
    m[i] = (float) (vae_rng_uniform (rng) * 0.02 - 0.01);
    v[i] = (float) (vae_rng_uniform (rng) * 1e-4);
  }
  upload (dp, p, N * 4);
  upload (dg, g, N * 4);
  upload (dm, m, N * 4);
  upload (dv, v, N * 4);
  vae_adam_step_ref (p, g, m, v, N, 17, 1e-3, 0.9, 0.999, 1e-8);
  ret = vae_adam_step_cuda (dp, dg, dm, dv, N, 17, 1e-3, 0.9, 0.999, 1e-8,
      NULL);
  CK (cudaDeviceSynchronize ());
  download (pg, dp, N * 4);
  download (mg, dm, N * 4);
  download (vg, dv, N * 4);
  check (ret == 0 && memcmp (pg, p, sizeof (p)) == 0
      && memcmp (mg, m, sizeof (m)) == 0 && memcmp (vg, v, sizeof (v)) == 0,
      "vae_adam_step_cuda equals vae_adam_step_ref bit for bit (max rel "
      "%.3g)", max_rel (pg, p, N, 1e-30));
  CK (cudaFree (dp));
  CK (cudaFree (dg));
  CK (cudaFree (dm));
  CK (cudaFree (dv));
}

/* @epochs epochs from one seed on the GPU and (with_ref) the CPU */
static void
test_train (uint64_t seed, const float *beats, size_t n, int epochs,
    int with_ref)
{
  static float p[VAE_N_PARAMS], m[VAE_N_PARAMS], v[VAE_N_PARAMS];
  VaeTrainState st, sg;
  void *ws = NULL, *hws = xmalloc (vae_train_cuda_host_workspace_size (n));
  float *dp = dmalloc (VAE_N_PARAMS * 4), *dm = dmalloc (VAE_N_PARAMS * 4);
  float *dv = dmalloc (VAE_N_PARAMS * 4), *db = dmalloc (n * 1024);
  void *dws = dmalloc (vae_train_cuda_workspace_size (n, VAE_TRAIN_BATCH));
  double loss_ref = 0.0, loss_gpu = 0.0, t_ref = 0.0, t_gpu, e;
  int ep, ret = 0, ret_ref = 0;

  upload (db, beats, n * 1024);

  /* warm-up (module load, first launches) on a throwaway state */
  vae_train_init_ref (&sg, p, m, v, seed ^ 1);
  upload (dp, p, sizeof (p));
  upload (dm, m, sizeof (m));
  upload (dv, v, sizeof (v));
  sg.params = dp;
  sg.m = dm;
  sg.v = dv;
  ret = vae_train_epoch_cuda (&sg, db, n < 4096 ? n : 4096, dws, hws, NULL,
      NULL);

  vae_train_init_ref (&sg, p, m, v, seed);
  upload (dp, p, sizeof (p));
  upload (dm, m, sizeof (m));
  upload (dv, v, sizeof (v));
  sg.params = dp;
  sg.m = dm;
  sg.v = dv;
  t_gpu = now_s ();
  for (ep = 0; ep < epochs && ret == 0; ep++) {
    ret = vae_train_epoch_cuda (&sg, db, n, dws, hws, &loss_gpu, NULL);
    if (ep == 0 || ep + 1 == epochs || (ep + 1) % 10 == 0)
      printf ("# gpu epoch %d: mean loss %.6f\n", ep + 1, loss_gpu);
  }
  t_gpu = now_s () - t_gpu;
  check (ret == 0, "vae_train_epoch_cuda: %d epochs on %zu beats: %s",
      epochs, n, ecg_cuda_strerror (ret));
  printf ("# timing: training %d epochs x %zu beats on the GPU: %.3f s "
      "(%.1f ms per epoch, %llu Adam steps)\n", epochs, n, t_gpu,
      t_gpu * 1e3 / epochs, (unsigned long long) sg.step);

  if (with_ref) {
    ws = xmalloc (vae_train_workspace_size (n, VAE_TRAIN_BATCH));
    vae_train_init_ref (&st, p, m, v, seed);
    t_ref = now_s ();
    for (ep = 0; ep < epochs && ret_ref == 0; ep++) {
      ret_ref = vae_train_epoch_ref (&st, beats, n, ws, &loss_ref);
      if (ep == 0 || ep + 1 == epochs || (ep + 1) % 10 == 0)
        printf ("# cpu epoch %d: mean loss %.6f\n", ep + 1, loss_ref);
    }
    t_ref = now_s () - t_ref;
    printf ("# timing: the same on the CPU (%d threads): %.2f s\n",
        vae_get_threads (), t_ref);
    e = fabs (loss_gpu - loss_ref) / fabs (loss_ref);
    check (ret_ref == 0 && e <= 0.02, "after %d epochs on %zu beats: GPU "
        "loss %.6f, CPU loss %.6f (rel diff %.3g, limit 0.02); steps %llu, "
        "%llu", epochs, n, loss_gpu, loss_ref, e,
        (unsigned long long) sg.step, (unsigned long long) st.step);
    /* the RNG streams stayed in step */
    check (memcmp (&st.rng, &sg.rng, sizeof (st.rng)) == 0,
        "the GPU trainer drew the same random numbers as the CPU one");
    {
      float pg[VAE_N_PARAMS];

      download (pg, dp, sizeof (pg));
      printf ("# parameters after training: norm rel difference %.3g\n",
          norm_rel (pg, p, VAE_N_PARAMS));
    }
  }
  free (ws);
  free (hws);
  CK (cudaFree (dp));
  CK (cudaFree (dm));
  CK (cudaFree (dv));
  CK (cudaFree (db));
  CK (cudaFree (dws));
}

/* ---------------------------------------------------------------------- */

static void *
read_all (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  void *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) >= 0
      && fseek (f, 0, SEEK_SET) == 0) {
    buf = xmalloc ((size_t) n + 1);
    if (fread (buf, 1, (size_t) n, f) != (size_t) n) {
      free (buf);
      buf = NULL;
    } else {
      ((char *) buf)[n] = '\0';
      *size = (size_t) n;
    }
  }
  fclose (f);
  return buf;
}

static void
test_golden (void)
{
  const char *env = getenv ("ECG_SHARED_DATA");
  char dir[2048], path[2300], detail[256];
  float params[VAE_N_PARAMS], *beats, *mu, *rec, *eps;
  size_t nb = 0, nm = 0, nr = 0, ne = 0, nl = 0;
  char *loss_txt;
  int ret;

  if (env == NULL) {
    printf ("# golden: ECG_SHARED_DATA unset, skipped\n");
    return;
  }
  snprintf (dir, sizeof (dir), "%s/golden/vae", env);
  snprintf (path, sizeof (path), "%s/model.safetensors", dir);
  ret = safetensors_read_lightvae (path, params, NULL, detail, sizeof (detail));
  if (ret != 0) {
    printf ("# golden: %s not readable (%s), skipped\n", path, detail);
    return;
  }
  snprintf (path, sizeof (path), "%s/beats.f32", dir);
  beats = read_all (path, &nb);
  snprintf (path, sizeof (path), "%s/mu.f32", dir);
  mu = read_all (path, &nm);
  snprintf (path, sizeof (path), "%s/recon.f32", dir);
  rec = read_all (path, &nr);
  snprintf (path, sizeof (path), "%s/eps.f32", dir);
  eps = read_all (path, &ne);
  snprintf (path, sizeof (path), "%s/loss.txt", dir);
  loss_txt = read_all (path, &nl);
  if (beats == NULL || mu == NULL || rec == NULL || eps == NULL
      || loss_txt == NULL || nb != 1024 * 1024 || nm != 1024 * 8
      || nr != 1024 * 1024 || ne < 256 * 8) {
    check (0, "golden files in %s readable and sized", dir);
  } else {
    test_forward ("golden", params, beats, 1024, mu, rec);
    test_loss_grad ("golden", params, beats, eps, 256, strtod (loss_txt, NULL));
  }
  free (beats);
  free (mu);
  free (rec);
  free (eps);
  free (loss_txt);
}

int
main (int argc, char **argv)
{
  size_t cmp_beats = 8192, speed_beats = 75000, n;
  int epochs = 30, i;
  uint64_t seed;
  static float params[VAE_N_PARAMS];
  float *beats, *eps;
  VaeRng rng;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp (argv[i], "--cmp-beats") == 0)
      cmp_beats = strtoul (argv[i + 1], NULL, 0);
    else if (strcmp (argv[i], "--speed-beats") == 0)
      speed_beats = strtoul (argv[i + 1], NULL, 0);
    else if (strcmp (argv[i], "--epochs") == 0)
      epochs = atoi (argv[i + 1]);
  }
  require_device ();
  seed = test_seed ();
  vae_rng_seed (&rng, seed);

  /* random parameters (PyTorch's init, alpha moved off 1) on 3001
   * synthetic beats: more than one wave of blocks, odd count */
  n = 3001;
  vae_init_params_ref (params, &rng);
  params[VAE_OFF_SIGMA_ALPHA] = (float) (0.5 + vae_rng_uniform (&rng));
  beats = xmalloc (n * 1024);
  eps = xmalloc (n * 8);
  make_beats (&rng, beats, n);
  vae_rng_normal (&rng, eps, 2 * n);
  test_forward ("random", params, beats, n, NULL, NULL);
  test_loss_grad ("random", params, beats, eps, 1024, 0.0);
  test_loss_grad ("random", params, beats, eps, 37, 0.0);
  test_loss_grad ("random", params, beats, eps, 3001, 0.0);
  test_adam (&rng);
  free (beats);
  free (eps);

  test_golden ();

  if (cmp_beats > 0) {
    beats = xmalloc (cmp_beats * 1024);
    make_beats (&rng, beats, cmp_beats);
    test_train (seed, beats, cmp_beats, epochs, 1);
    free (beats);
  }
  if (speed_beats > 0) {
    beats = xmalloc (speed_beats * 1024);
    make_beats (&rng, beats, speed_beats);
    test_train (seed + 1, beats, speed_beats, epochs,
        getenv ("ECG_CUDA_TRAIN_REF") != NULL);
    free (beats);
  }
  return finish ();
}

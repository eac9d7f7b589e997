/* Unit test of kernels/vae_ref.c and kernels/safetensors.c against the
 * PyTorch golden vectors in shared/data/golden/vae.
 *
 * Data: $ECG_SHARED_DATA (the path of shared/data), else
 * $ECG_SOURCE_ROOT/../shared/data.  Exit 0 pass, 1 fail, 77 skip (the
 * golden folder is missing; the tests that need no data still run and a
 * failure among them still fails).
 */

#include "vae.h"
#include "safetensors.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static void *
read_all (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  long n;
  void *buf;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) != 0 || (n = ftell (f)) < 0
      || fseek (f, 0, SEEK_SET) != 0) {
    fclose (f);
    return NULL;
  }
  buf = malloc (n > 0 ? (size_t) n : 1);
  if (buf == NULL || fread (buf, 1, (size_t) n, f) != (size_t) n) {
    free (buf);
    fclose (f);
    return NULL;
  }
  fclose (f);
  *size = (size_t) n;
  return buf;
}

/* ||a - b|| / ||b|| in double */
static double
rel_err (const float *a, const float *b, size_t n)
{
  double num = 0.0, den = 0.0;
  size_t i;

  for (i = 0; i < n; i++) {
    double d = (double) a[i] - b[i];

    num += d * d;
    den += (double) b[i] * b[i];
  }
  if (den == 0.0)
    return num == 0.0 ? 0.0 : INFINITY;
  return sqrt (num / den);
}

static char golden[4096];

static float *
golden_f32 (const char *name, size_t *n)
{
  char path[sizeof (golden) + 256];
  size_t size = 0;
  float *buf;

  snprintf (path, sizeof (path), "%s/%.200s", golden, name);
  buf = read_all (path, &size);
  if (buf != NULL)
    *n = size / 4;
  return buf;
}

/* ---------------------------------------------------------------------- */

static void
test_forward (const float *params, const float *x, size_t n)
{
  float *mu = malloc (n * 2 * sizeof (float));
  float *lv = malloc (n * 2 * sizeof (float));
  float *rec = malloc (n * 256 * sizeof (float));
  float *mu2 = malloc (n * 2 * sizeof (float));
  float *rec2 = malloc (n * 256 * sizeof (float));
  float *err = malloc (n * sizeof (float));
  float *gmu, *glv, *grec;
  void *ws = malloc (vae_workspace_size (n));
  size_t n1 = 0, n2 = 0, n3 = 0, b;
  double e, emax = 0.0;
  int ret, t;

  gmu = golden_f32 ("mu.f32", &n1);
  glv = golden_f32 ("logvar.f32", &n2);
  grec = golden_f32 ("recon.f32", &n3);
  if (gmu == NULL || glv == NULL || grec == NULL || n1 != 2 * n || n2 != 2 * n
      || n3 != 256 * n) {
    check (0, "golden mu/logvar/recon readable and sized for %zu beats", n);
    goto out;
  }

  ret = vae_encode_ref (params, x, n, mu, lv, ws);
  check (ret == 0, "vae_encode_ref returns %d", ret);
  ret = vae_decode_ref (params, mu, n, rec, ws);
  check (ret == 0, "vae_decode_ref returns %d", ret);
  e = rel_err (mu, gmu, 2 * n);
  check (e < 1e-5, "mu matches PyTorch (rel %.3g)", e);
  e = rel_err (lv, glv, 2 * n);
  check (e < 1e-5, "logvar matches PyTorch (rel %.3g)", e);
  e = rel_err (rec, grec, 256 * n);
  check (e < 1e-5, "decode (mu) matches PyTorch (rel %.3g)", e);

  /* one-pass scoring gives the same numbers, any thread count */
  for (t = 1; t <= 3; t++) {
    vae_set_threads (t);
    memset (mu2, 0, n * 2 * sizeof (float));
    vae_score_ref (params, x, n, mu2, NULL, rec2, err, ws);
    emax = 0.0;
    for (b = 0; b < n; b++) {
      double s = 0.0;
      int j;

      for (j = 0; j < 256; j++)
        s += ((double) rec[b * 256 + j] - x[b * 256 + j])
            * ((double) rec[b * 256 + j] - x[b * 256 + j]);
      s /= 256.0;
      if (fabs (s - err[b]) > emax)
        emax = fabs (s - err[b]) / (s > 1e-30 ? s : 1e-30);
    }
    check (memcmp (mu, mu2, n * 2 * sizeof (float)) == 0
        && memcmp (rec, rec2, n * 256 * sizeof (float)) == 0
        && emax < 1e-6, "vae_score_ref with %d threads equals encode + "
        "decode (err rel %.3g)", t, emax);
  }
  vae_set_threads (0);

  /* batch of one and an odd batch */
  vae_encode_ref (params, x + 5 * 256, 1, mu2, mu2 + 2, ws);
  check (mu2[0] == mu[10] && mu2[1] == mu[11] && mu2[2] == lv[10]
      && mu2[3] == lv[11], "a batch of one beat gives the same mu, logvar");
  check (vae_encode_ref (params, x, 0, mu2, lv, ws) == 0,
      "an empty batch is fine");
  check (vae_encode_ref (NULL, x, 1, mu2, lv, ws) == VAE_ERR_INVALID_ARG,
      "NULL params is VAE_ERR_INVALID_ARG");

out:
  free (mu);
  free (lv);
  free (rec);
  free (mu2);
  free (rec2);
  free (err);
  free (gmu);
  free (glv);
  free (grec);
  free (ws);
}

static void
test_loss_grad (const float *params, const float *x)
{
  const size_t n = 256;
  float grad[VAE_N_PARAMS], grad1[VAE_N_PARAMS], *eps, *g;
  void *ws = malloc (vae_workspace_size (n));
  char path[sizeof (golden) + 64], name[64], text[64] = "";
  size_t ne = 0, ng = 0, sz = 0;
  double loss = 0.0, loss1 = 0.0, want, e;
  char *txt;
  int i, ret;

  eps = golden_f32 ("eps.f32", &ne);
  snprintf (path, sizeof (path), "%s/loss.txt", golden);
  txt = read_all (path, &sz);
  if (eps == NULL || ne < 2 * n || txt == NULL) {
    check (0, "golden eps.f32 and loss.txt readable");
    goto out;
  }
  memcpy (text, txt, sz < sizeof (text) - 1 ? sz : sizeof (text) - 1);
  want = strtod (text, NULL);

  ret = vae_loss_grad_ref (params, x, eps, n, grad, &loss, ws);
  check (ret == 0, "vae_loss_grad_ref returns %d", ret);
  check (fabs (loss - want) / fabs (want) < 1e-5,
      "loss %.7f matches PyTorch %.7f", loss, want);
  for (i = 0; i < VAE_N_TENSORS; i++) {
    const VaeParamInfo *pi = &vae_param_table[i];

    snprintf (name, sizeof (name), "grad_%s.f32", pi->name);
    g = golden_f32 (name, &ng);
    if (g == NULL || ng != pi->numel) {
      check (0, "golden %s readable, %zu floats", name, pi->numel);
      free (g);
      continue;
    }
    e = rel_err (grad + pi->offset, g, pi->numel);
    check (e < 1e-4, "gradient of %s matches PyTorch (rel %.3g)", pi->name, e);
    free (g);
  }

  /* the split over threads only reorders sums */
  vae_set_threads (1);
  vae_loss_grad_ref (params, x, eps, n, grad1, &loss1, ws);
  vae_set_threads (0);
  e = rel_err (grad1, grad, VAE_N_PARAMS);
  check (e < 1e-6 && fabs (loss1 - loss) < 1e-9 * fabs (loss),
      "one thread gives the same loss and gradient (rel %.3g)", e);

out:
  free (eps);
  free (txt);
  free (ws);
}

static void
test_adam (void)
{
  enum
  { N = 64 };
  float p[N], g[N], m[N], v[N], p0[N], m0[N], v0[N];
  double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, worst = 0.0;
  VaeRng rng;
  uint64_t step = 3;
  int i, ret, ok = 1;

  vae_rng_seed (&rng, 7);
  for (i = 0; i < N; i++) {
    p0[i] = p[i] = (float) (vae_rng_uniform (&rng) * 2.0 - 1.0);
    g[i] = (float) (vae_rng_uniform (&rng) * 0.2 - 0.1);
    m0[i] = m[i] = (float) (vae_rng_uniform (&rng) * 0.02 - 0.01);
    v0[i] = v[i] = (float) (vae_rng_uniform (&rng) * 1e-4);
  }
  ret = vae_adam_step_ref (p, g, m, v, N, step, lr, b1, b2, eps);
  check (ret == 0, "vae_adam_step_ref returns %d", ret);
  for (i = 0; i < N; i++) {
    /* torch.optim.Adam, in double */
    double mm = b1 * m0[i] + (1.0 - b1) * g[i];
    double vv = b2 * v0[i] + (1.0 - b2) * (double) g[i] * g[i];
    double bc1 = 1.0 - pow (b1, (double) step);
    double bc2 = 1.0 - pow (b2, (double) step);
    double pp = p0[i] - lr / bc1 * mm / (sqrt (vv) / sqrt (bc2) + eps);
    /* 1e-4 of the update plus the rounding of p itself (one ulp) */
    double e = fabs (pp - p[i]) / (1e-4 * fabs (p0[i] - pp) + FLT_EPSILON
        * fabs (pp));

    if (fabs (mm - m[i]) > 1e-6 * fabs (mm) + 1e-12
        || fabs (vv - v[i]) > 1e-6 * fabs (vv) + 1e-15 || e > 1.0)
      ok = 0;
    if (e > worst)
      worst = e;
  }
  check (ok, "Adam step 3 matches the double reference (worst %.3g of the "
      "tolerance)", worst);

  /* first step from zero moments: p - lr * g / (|g| + eps) */
  p[0] = 1.0f;
  g[0] = 0.5f;
  m[0] = v[0] = 0.0f;
  vae_adam_step_ref (p, g, m, v, 1, 1, lr, b1, b2, eps);
  check (fabsf (p[0] - 0.999f) < 1e-7f && fabsf (m[0] - 0.05f) < 1e-9f
      && fabsf (v[0] - 0.00025f) < 1e-10f,
      "first Adam step moves by lr: p %.9g m %.9g v %.9g", p[0], m[0], v[0]);
  check (vae_adam_step_ref (p, g, m, v, 1, 0, lr, b1, b2, eps)
      == VAE_ERR_INVALID_ARG, "step 0 is VAE_ERR_INVALID_ARG");
}

static void
test_rng_init (void)
{
  VaeRng a, b;
  float *z = malloc (100001 * sizeof (float));
  float params[VAE_N_PARAMS];
  double s = 0.0, s2 = 0.0;
  int i, ok = 1;
  size_t j;

  vae_rng_seed (&a, 123);
  vae_rng_seed (&b, 123);
  for (i = 0; i < 100; i++)
    if (vae_rng_next (&a) != vae_rng_next (&b))
      ok = 0;
  check (ok, "the RNG is deterministic for a seed");
  vae_rng_seed (&a, 0);
  /* xoshiro256** seeded with splitmix64 (0): first output */
  check (vae_rng_next (&a) == 0x99ec5f36cb75f2b4ULL,
      "xoshiro256** / splitmix64 reference output");
  ok = 1;
  for (i = 0; i < 10000; i++)
    if (vae_rng_below (&a, 7) >= 7)
      ok = 0;
  check (ok, "vae_rng_below stays below its bound");

  vae_rng_normal (&a, z, 100001);
  for (i = 0; i < 100001; i++) {
    s += z[i];
    s2 += (double) z[i] * z[i];
  }
  s /= 100001;
  s2 = s2 / 100001 - s * s;
  check (fabs (s) < 0.02 && fabs (s2 - 1.0) < 0.02,
      "Box-Muller normals: mean %.4f variance %.4f", s, s2);

  vae_init_params_ref (params, &a);
  ok = params[VAE_OFF_SIGMA_ALPHA] == 1.0f;
  for (i = 1; i < VAE_N_TENSORS; i++) {
    const VaeParamInfo *pi = &vae_param_table[i];
    double bound = 1.0 / sqrt ((double) pi->fan_in), mx = 0.0;

    for (j = 0; j < pi->numel; j++) {
      double q = fabs (params[pi->offset + j]);

      if (q > bound)
        ok = 0;
      if (q > mx)
        mx = q;
    }
    /* the largest of >= 12 draws is rarely under half the bound */
    if (pi->numel >= 12 && mx < 0.5 * bound)
      ok = 0;
  }
  check (ok, "init: alpha = 1, every tensor in U(-1/sqrt(fan_in), "
      "1/sqrt(fan_in))");
  free (z);
}

static void
test_train (const float *x, size_t n)
{
  float *p = malloc (VAE_N_PARAMS * sizeof (float));
  float *m = malloc (VAE_N_PARAMS * sizeof (float));
  float *v = malloc (VAE_N_PARAMS * sizeof (float));
  float *p2 = malloc (VAE_N_PARAMS * sizeof (float));
  float grad[VAE_N_PARAMS];
  float *eps = malloc (n * 2 * sizeof (float));
  size_t nb = n - 24;           /* a partial last batch */
  void *tws = malloc (vae_train_workspace_size (nb, 128));
  void *ws = malloc (vae_workspace_size (nb));
  VaeTrainState st;
  VaeRng rng;
  double before, after, first = 0.0, last = 0.0;
  int e, ret = 0;

  vae_rng_seed (&rng, 99);
  vae_rng_normal (&rng, eps, 2 * nb);

  vae_train_init_ref (&st, p, m, v, 2024);
  st.batch_size = 128;
  vae_loss_grad_ref (p, x, eps, nb, grad, &before, ws);
  for (e = 0; e < 6 && ret == 0; e++) {
    ret = vae_train_epoch_ref (&st, x, nb, tws, &last);
    if (e == 0)
      first = last;
  }
  check (ret == 0, "vae_train_epoch_ref returns %d", ret);
  check (st.step == 6 * ((nb + 127) / 128), "%llu Adam steps for 6 epochs of "
      "%zu beats in batches of 128", (unsigned long long) st.step, nb);
  vae_loss_grad_ref (p, x, eps, nb, grad, &after, ws);
  check (after < 0.8 * before && last < first,
      "training lowers the loss: fixed-eps loss %.4f -> %.4f, epoch mean "
      "%.5f -> %.5f", before / nb, after / nb, first, last);

  /* same seed, same result */
  memcpy (p2, p, VAE_N_PARAMS * sizeof (float));
  vae_train_init_ref (&st, p, m, v, 2024);
  st.batch_size = 128;
  for (e = 0; e < 6; e++)
    vae_train_epoch_ref (&st, x, nb, tws, NULL);
  check (memcmp (p, p2, VAE_N_PARAMS * sizeof (float)) == 0,
      "training is reproducible from its seed");

  free (p);
  free (m);
  free (v);
  free (p2);
  free (eps);
  free (tws);
  free (ws);
}

/* ---------------------------------------------------------------------- */
/* safetensors */

/* 8-byte length, the header padded to 8, then data */
static uint8_t *
make_file (const char *header, const void *data, size_t dlen, size_t *size)
{
  size_t h = strlen (header), hp = (h + 7) & ~(size_t) 7, i;
  uint8_t *buf = malloc (8 + hp + dlen + 1);

  for (i = 0; i < 8; i++)
    buf[i] = (uint8_t) ((uint64_t) hp >> (8 * i));
  memcpy (buf + 8, header, h);
  memset (buf + 8 + h, ' ', hp - h);
  if (dlen > 0)
    memcpy (buf + 8 + hp, data, dlen);
  *size = 8 + hp + dlen;
  return buf;
}

static void
expect_parse (const char *what, const void *buf, size_t size, int want)
{
  SafetensorsFile *f = NULL;
  char detail[256] = "";
  int ret = safetensors_parse (buf, size, &f, detail, sizeof (detail));

  check (ret == want, "%s: %d (%s) [%s], want %d (%s)", what, ret,
      safetensors_strerror (ret), detail, want, safetensors_strerror (want));
  safetensors_free (f);
}

static void
expect_header (const char *what, const char *header, size_t dlen, int want)
{
  static const float data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  size_t size;
  uint8_t *buf = make_file (header, data, dlen, &size);

  expect_parse (what, buf, size, want);
  free (buf);
}

#define T_A "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static void
test_safetensors_errors (void)
{
  static const float data[8] = { 0 };
  uint8_t *buf;
  size_t size;
  const char *valid =
      "{\"__metadata__\":{\"k\":\"v\"}," T_A
      ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
  int i;

  expect_header ("a valid two-tensor file", valid, 12, SAFETENSORS_OK);
  expect_parse ("empty file", "", 0, SAFETENSORS_ERR_EMPTY);
  expect_parse ("5-byte file", "\x08\0\0\0\0", 5, SAFETENSORS_ERR_TRUNCATED);

  buf = make_file (valid, data, 12, &size);
  expect_parse ("file cut in the data", buf, size - 4,
      SAFETENSORS_ERR_TRUNCATED);
  expect_parse ("file cut in the header", buf, 20, SAFETENSORS_ERR_HEADER_SIZE);
  buf[0] = (uint8_t) (size - 7);
  expect_parse ("header length > file", buf, size, SAFETENSORS_ERR_HEADER_SIZE);
  for (i = 0; i < 8; i++)
    buf[i] = 0xff;
  expect_parse ("header length 2^64 - 1", buf, size,
      SAFETENSORS_ERR_HEADER_SIZE);
  free (buf);

  expect_header ("bad JSON (';' for ':')",
      "{\"a\";{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (trailing comma)", "{" T_A ",}", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (unterminated string)", "{\"a", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (bad escape)", "{\"a\\x\":1}", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (lone surrogate)", "{\"\\ud800\":1}", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (invalid UTF-8)", "{\"\xc0\xaf\":1}", 8,
      SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (two values)", "{}{}", 0, SAFETENSORS_ERR_JSON);
  expect_header ("bad JSON (number 01)", "{\"a\":01}", 0, SAFETENSORS_ERR_JSON);

  expect_header ("header is an array", "[]", 0, SAFETENSORS_ERR_HEADER);
  expect_header ("unknown tensor field",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
      "\"x\":1}}", 8, SAFETENSORS_ERR_HEADER);
  expect_header ("tensor without data_offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, SAFETENSORS_ERR_HEADER);
  expect_header ("negative shape",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
      SAFETENSORS_ERR_HEADER);
  expect_header ("fractional offset",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8,
      SAFETENSORS_ERR_HEADER);
  expect_header ("three offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8,
      SAFETENSORS_ERR_HEADER);
  expect_header ("metadata value not a string",
      "{\"__metadata__\":{\"k\":1}," T_A "}", 8, SAFETENSORS_ERR_HEADER);
  expect_header ("duplicate tensor", "{" T_A "," T_A "}", 8,
      SAFETENSORS_ERR_DUPLICATE);
  expect_header ("duplicate metadata key",
      "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," T_A "}", 8,
      SAFETENSORS_ERR_DUPLICATE);

  expect_header ("wrong dtype (F16)",
      "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8,
      SAFETENSORS_ERR_DTYPE);
  expect_header ("wrong dtype (F64)",
      "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
      SAFETENSORS_ERR_DTYPE);
  expect_header ("shape does not match the bytes",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
      SAFETENSORS_ERR_SIZE);
  expect_header ("huge shape",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
      "\"data_offsets\":[0,8]}}", 8, SAFETENSORS_ERR_SIZE);
  expect_header ("offsets out of range", "{" T_A ",\"b\":{\"dtype\":\"F32\","
      "\"shape\":[1],\"data_offsets\":[100,104]}}", 12,
      SAFETENSORS_ERR_OFFSETS);
  expect_header ("overlapping offsets", "{" T_A ",\"b\":{\"dtype\":\"F32\","
      "\"shape\":[1],\"data_offsets\":[4,8]}}", 12, SAFETENSORS_ERR_OFFSETS);
  expect_header ("reversed offsets",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
      SAFETENSORS_ERR_OFFSETS);
  expect_header ("data not covered", valid, 16, SAFETENSORS_ERR_OFFSETS);
  expect_header ("no tensors, no data", "{}", 0, SAFETENSORS_OK);
  expect_header ("scalar and empty tensors",
      "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}", 4,
      SAFETENSORS_OK);
}

static int
meta_equal (const SafetensorsFile * f, const SafetensorsMeta * meta, size_t n)
{
  size_t i;

  if (f->n_meta != n)
    return 0;
  for (i = 0; i < n; i++)
    if (strcmp (f->meta[i].key, meta[i].key) != 0
        || strcmp (f->meta[i].value, meta[i].value) != 0)
      return 0;
  return 1;
}

static void
test_safetensors_roundtrip (const char *tmpdir)
{
  static const SafetensorsMeta meta[] = {
    {"arch", "LightVAE"}, {"beat_length", "256"}, {"rate", "250"},
    {"latent_dims", "2"}, {"score_mean", "0.0123"},
    {"note", "quote \" backslash \\ newline \n tab \t ctl \x01 \xc2\xb5V"},
  };
  const size_t n_meta = sizeof (meta) / sizeof (meta[0]);
  float params[VAE_N_PARAMS], back[VAE_N_PARAMS];
  SafetensorsFile *f = NULL;
  char path[4200], detail[256];
  VaeRng rng;
  size_t hlen;
  int ret, i, sorted = 1;

  vae_rng_seed (&rng, 5);
  vae_init_params_ref (params, &rng);
  params[3] = -0.0f;
  params[4] = 1e-40f;           /* subnormal */
  snprintf (path, sizeof (path), "%s/rt.safetensors", tmpdir);
  ret = safetensors_write_lightvae (path, params, meta, n_meta);
  check (ret == 0, "safetensors_write_lightvae returns %d", ret);
  ret = safetensors_read_lightvae (path, back, &f, detail, sizeof (detail));
  check (ret == 0, "safetensors_read_lightvae returns %d %s", ret, detail);
  if (ret != 0)
    return;
  check (memcmp (params, back, sizeof (params)) == 0,
      "tensor bytes survive the round trip");
  check (meta_equal (f, meta, n_meta), "metadata survives the round trip");
  hlen = (size_t) f->buf[0] | (size_t) f->buf[1] << 8;
  check (hlen % 8 == 0 && (f->buf[8 + hlen - 1] == ' '
          || f->buf[8 + hlen - 1] == '}'), "header of %zu bytes, padded with "
      "spaces to a multiple of 8", hlen);
  for (i = 1; i < (int) f->n_tensors; i++)
    if (strcmp (f->tensors[i - 1].name, f->tensors[i].name) >= 0
        || f->tensors[i].begin != f->tensors[i - 1].end)
      sorted = 0;
  check (sorted && f->n_tensors == VAE_N_TENSORS, "tensors sorted by name, "
      "laid out in that order");
  safetensors_free (f);
}

/* Writing the golden model's tensors with its metadata gives its bytes */
static void
test_safetensors_golden (const float *params, const SafetensorsFile * gf,
    const uint8_t * gbytes, size_t gsize)
{
  SafetensorsWriteTensor t[VAE_N_TENSORS];
  uint64_t shapes[VAE_N_TENSORS][VAE_MAX_DIMS];
  uint8_t *out = NULL;
  size_t size = 0;
  int k, d, ret;

  for (k = 0; k < VAE_N_TENSORS; k++) {
    const VaeParamInfo *pi = &vae_param_table[k];

    for (d = 0; d < pi->ndim; d++)
      shapes[k][d] = (uint64_t) pi->shape[d];
    t[k].name = pi->name;
    t[k].ndim = pi->ndim;
    t[k].shape = shapes[k];
    t[k].data = params + pi->offset;
  }
  ret = safetensors_serialize (t, VAE_N_TENSORS, gf->meta, gf->n_meta, &out,
      &size);
  check (ret == 0 && size == gsize && memcmp (out, gbytes, gsize) == 0,
      "our writer reproduces the Python-written model.safetensors byte for "
      "byte (%zu vs %zu bytes)", size, gsize);
  free (out);
}

/* LightVAE loader checks, on variants of the golden model */
static void
test_lightvae_errors (const float *params, const char *tmpdir)
{
  SafetensorsWriteTensor t[VAE_N_TENSORS + 1];
  uint64_t shapes[VAE_N_TENSORS + 1][VAE_MAX_DIMS];
  static const uint64_t wrong[2] = { 4, 3 };
  static const SafetensorsMeta bad_arch = { "arch", "BigVAE" };
  static const float extra[2] = { 1, 2 };
  static const uint64_t extra_shape[1] = { 2 };
  float back[VAE_N_PARAMS];
  char path[4200], detail[256];
  int k, d, ret, n;

  snprintf (path, sizeof (path), "%s/bad.safetensors", tmpdir);
  for (k = 0; k < VAE_N_TENSORS; k++) {
    const VaeParamInfo *pi = &vae_param_table[k];

    for (d = 0; d < pi->ndim; d++)
      shapes[k][d] = (uint64_t) pi->shape[d];
    t[k].name = pi->name;
    t[k].ndim = pi->ndim;
    t[k].shape = shapes[k];
    t[k].data = params + pi->offset;
  }

  /* missing conv5.bias (the last) */
  safetensors_write_file (path, t, VAE_N_TENSORS - 1, NULL, 0);
  ret = safetensors_read_lightvae (path, back, NULL, detail, sizeof (detail));
  check (ret == SAFETENSORS_ERR_MISSING && strstr (detail, "conv5.bias"),
      "missing tensor: %d [%s]", ret, detail);

  /* an extra tensor */
  t[VAE_N_TENSORS].name = "conv9.weight";
  t[VAE_N_TENSORS].ndim = 1;
  t[VAE_N_TENSORS].shape = extra_shape;
  t[VAE_N_TENSORS].data = extra;
  safetensors_write_file (path, t, VAE_N_TENSORS + 1, NULL, 0);
  ret = safetensors_read_lightvae (path, back, NULL, detail, sizeof (detail));
  check (ret == SAFETENSORS_ERR_UNEXPECTED && strstr (detail, "conv9.weight"),
      "extra tensor: %d [%s]", ret, detail);

  /* conv0.weight (4, 1, 3) written as (4, 3) */
  n = 1;
  t[n].ndim = 2;
  t[n].shape = wrong;
  safetensors_write_file (path, t, VAE_N_TENSORS, NULL, 0);
  ret = safetensors_read_lightvae (path, back, NULL, detail, sizeof (detail));
  check (ret == SAFETENSORS_ERR_SHAPE && strstr (detail, "conv0.weight"),
      "wrong shape: %d [%s]", ret, detail);
  t[n].ndim = 3;
  t[n].shape = shapes[n];

  safetensors_write_file (path, t, VAE_N_TENSORS, &bad_arch, 1);
  ret = safetensors_read_lightvae (path, back, NULL, detail, sizeof (detail));
  check (ret == SAFETENSORS_ERR_METADATA && strstr (detail, "arch"),
      "wrong arch metadata: %d [%s]", ret, detail);

  /* PyTorch's save_file without metadata loads */
  safetensors_write_file (path, t, VAE_N_TENSORS, NULL, 0);
  ret = safetensors_read_lightvae (path, back, NULL, detail, sizeof (detail));
  check (ret == 0 && memcmp (back, params, sizeof (back)) == 0,
      "a file without metadata loads: %d", ret);

  ret = safetensors_read_lightvae ("/nonexistent/x.safetensors", back, NULL,
      detail, sizeof (detail));
  check (ret == SAFETENSORS_ERR_IO, "a missing file is SAFETENSORS_ERR_IO");
  remove (path);
}

int
main (void)
{
  const char *d = getenv ("ECG_SHARED_DATA");
  const char *r = getenv ("ECG_SOURCE_ROOT");
  char tmpdir[] = "/tmp/vae-test-XXXXXX", path[4400], detail[256];
  float params[VAE_N_PARAMS], *x = NULL;
  SafetensorsFile *gf = NULL;
  uint8_t *gbytes = NULL;
  size_t n = 0, gsize = 0;
  int have_golden, ret;

  if (d != NULL)
    snprintf (golden, sizeof (golden), "%s/golden/vae", d);
  else
    snprintf (golden, sizeof (golden), "%s/../shared/data/golden/vae",
        r != NULL ? r : ".");
  if (mkdtemp (tmpdir) == NULL) {
    perror ("mkdtemp");
    return 1;
  }

  test_adam ();
  test_rng_init ();
  test_safetensors_errors ();
  test_safetensors_roundtrip (tmpdir);

  snprintf (path, sizeof (path), "%s/model.safetensors", golden);
  have_golden = access (path, R_OK) == 0;
  if (have_golden) {
    ret = safetensors_read_lightvae (path, params, &gf, detail,
        sizeof (detail));
    check (ret == 0, "golden model.safetensors loads: %d %s", ret, detail);
    gbytes = read_all (path, &gsize);
    x = golden_f32 ("beats.f32", &n);
    n /= 256;
    check (x != NULL && n >= 256, "golden beats.f32 has %zu beats", n);
    if (ret == 0 && x != NULL && n >= 256) {
      test_forward (params, x, n);
      test_loss_grad (params, x);
      test_safetensors_golden (params, gf, gbytes, gsize);
      test_lightvae_errors (params, tmpdir);
      test_train (x, n);
    }
  }

  snprintf (path, sizeof (path), "%s/rt.safetensors", tmpdir);
  remove (path);
  rmdir (tmpdir);
  safetensors_free (gf);
  free (gbytes);
  free (x);

  if (finish () != 0)
    return 1;
  if (!have_golden) {
    printf ("SKIP: no golden vectors at %s\n", golden);
    return 77;
  }
  return 0;
}

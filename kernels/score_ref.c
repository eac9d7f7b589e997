/* Beat outlier score on top of the LightVAE: CPU reference.
 *
 * See score.h for the rule in words and tools/score-research/README.md for
 * how it was chosen and what it measures.
 */

#include "score.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The calibration text must not depend on the process locale (a decimal
 * comma would break it): numbers are written and read in the "C" locale,
 * switched for the calling thread only. */
static locale_t
score_c_locale (void)
{
  static locale_t c_locale = (locale_t) 0;

  if (c_locale == (locale_t) 0)
    c_locale = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
  return c_locale;
}

/* log () of a reconstruction error; the floor keeps an exact 0 finite */
#define SCORE_ERR_FLOOR  1e-12
/* MAD of a normal variable times this is its standard deviation */
#define SCORE_MAD_TO_SD  1.4826
/* Smallest scale accepted, so a constant calibration set cannot divide
 * by zero */
#define SCORE_MIN_SCALE  1e-6

struct ScoreState
{
  ScoreConfig cfg;
  ScoreCalibration cal;
  double window;                /* adapt window in samples of rr */

  /* RR ring: the last cfg.rr_history nonzero RRs */
  double rr[SCORE_RR_HISTORY_MAX];
  int rr_n, rr_head;

  /* Adapt ring: the beats of the last adapt window; oldest at a_head */
  double a_lerr[SCORE_ADAPT_MAX_BEATS];
  double a_mu[SCORE_LATENT_DIMS][SCORE_ADAPT_MAX_BEATS];
  double a_dt[SCORE_ADAPT_MAX_BEATS];   /* stream time to the next entry */
  double a_span;                /* sum of a_dt over the ring */
  int a_n, a_head;
  /* the same values kept sorted, so each median costs O(1) and each
   * update one binary search and one memmove */
  double s_lerr[SCORE_ADAPT_MAX_BEATS];
  double s_mu[SCORE_LATENT_DIMS][SCORE_ADAPT_MAX_BEATS];

  double scratch[SCORE_ADAPT_MAX_BEATS];
};

const char *
score_strerror (int status)
{
  switch (status) {
    case SCORE_OK:
      return "success";
    case SCORE_ERR_INVALID_ARG:
      return "invalid argument";
    case SCORE_ERR_NONFINITE:
      return "non-finite value";
    case SCORE_ERR_NO_DATA:
      return "not enough beats";
    case SCORE_ERR_PARSE:
      return "malformed score calibration";
    case SCORE_ERR_MISSING_KEY:
      return "score calibration key missing";
    case SCORE_ERR_VERSION:
      return "unsupported score calibration version";
    case SCORE_ERR_NO_SPACE:
      return "buffer too small";
    case SCORE_ERR_NO_MEMORY:
      return "out of memory";
    default:
      return "unknown error";
  }
}

void
score_config_init (ScoreConfig * cfg, double rate)
{
  cfg->rate = rate;
  cfg->adapt = 1;
  cfg->adapt_s = 300.0;
  cfg->adapt_min_beats = 16;
  cfg->rr_history = 8;
  cfg->premature_step = 0.10;
  cfg->latent_weight = 1.0;
}

int
score_config_validate (const ScoreConfig * cfg)
{
  if (cfg == NULL || !(cfg->rate > 0.0) || !isfinite (cfg->rate)
      || !(cfg->adapt_s > 0.0) || !isfinite (cfg->adapt_s)
      || cfg->adapt_min_beats < 1 || cfg->rr_history < 1
      || cfg->rr_history > SCORE_RR_HISTORY_MAX
      || !(cfg->premature_step > 0.0) || !isfinite (cfg->premature_step)
      || !(cfg->latent_weight >= 0.0) || !isfinite (cfg->latent_weight))
    return SCORE_ERR_INVALID_ARG;
  return SCORE_OK;
}

/* The k-th smallest of x[0 .. n-1] (0-based), Wirth's selection; x is
 * reordered so that x[0 .. k-1] <= x[k] <= x[k+1 .. n-1] */
static double
select_kth (double *x, size_t n, size_t k)
{
  long lo = 0, hi = (long) n - 1, kk = (long) k;

  while (lo < hi) {
    double pivot = x[kk];
    long i = lo, j = hi;

    do {
      while (x[i] < pivot)
        i++;
      while (pivot < x[j])
        j--;
      if (i <= j) {
        double t = x[i];

        x[i] = x[j];
        x[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < kk)
      lo = i;
    if (kk < i)
      hi = j;
  }
  return x[kk];
}

/* The median of x[0 .. n-1], n >= 1 (x is reordered); for even n the mean
 * of the two middle values */
static double
median_inplace (double *x, size_t n)
{
  size_t k = n / 2, i;
  double hi, lo;

  hi = select_kth (x, n, k);
  if (n % 2 == 1)
    return hi;
  /* after selection every x[0 .. k-1] <= x[k] */
  lo = x[0];
  for (i = 1; i < k; i++)
    if (x[i] > lo)
      lo = x[i];
  return 0.5 * (lo + hi);
}

/* Median and 1.4826 MAD of v[0 .. n-1] (strided), using tmp (n doubles) */
static void
robust_stats (const float *v, size_t stride, size_t n, double *tmp,
    double *centre, double *scale)
{
  size_t i;
  double c;

  for (i = 0; i < n; i++)
    tmp[i] = v[i * stride];
  c = median_inplace (tmp, n);
  for (i = 0; i < n; i++)
    tmp[i] = fabs (v[i * stride] - c);
  *centre = c;
  *scale = SCORE_MAD_TO_SD * median_inplace (tmp, n);
  if (!(*scale >= SCORE_MIN_SCALE))
    *scale = SCORE_MIN_SCALE;
}

/* Baseline removal: r[j] -= median_j r[j] for each row.  The median (not
 * the mean) ignores the QRS and the zero padding of short rows as long as
 * the signal fills more than half of the row. */
int
score_prepare_rows_ref (float *rows, size_t n, size_t len)
{
  double tmp[1024];
  size_t b, j;

  if ((rows == NULL && n > 0) || len == 0 || len > 1024)
    return SCORE_ERR_INVALID_ARG;
  for (b = 0; b < n; b++) {
    float *r = rows + b * len;
    double c;

    for (j = 0; j < len; j++) {
      if (!isfinite (r[j]))
        return SCORE_ERR_NONFINITE;
      tmp[j] = r[j];
    }
    c = median_inplace (tmp, len);
    for (j = 0; j < len; j++)
      r[j] = (float) (r[j] - c);
  }
  return SCORE_OK;
}

const char *
score_input_name (void)
{
  return "median-removed";
}

/* ---- streaming state ---- */

ScoreState *
score_state_new (const ScoreConfig * cfg, const ScoreCalibration * cal)
{
  ScoreState *st;
  int d;

  if (score_config_validate (cfg) != SCORE_OK || cal == NULL)
    return NULL;
  if (!isfinite (cal->lerr_centre) || !(cal->lerr_scale > 0.0)
      || !isfinite (cal->lerr_scale))
    return NULL;
  for (d = 0; d < SCORE_LATENT_DIMS; d++)
    if (!isfinite (cal->mu_centre[d]) || !(cal->mu_scale[d] > 0.0)
        || !isfinite (cal->mu_scale[d]))
      return NULL;
  st = malloc (sizeof (ScoreState));
  if (st == NULL)
    return NULL;
  st->cfg = *cfg;
  st->cal = *cal;
  st->window = cfg->adapt_s * cfg->rate;
  score_state_reset (st);
  return st;
}

void
score_state_free (ScoreState * st)
{
  free (st);
}

void
score_state_reset (ScoreState * st)
{
  if (st == NULL)
    return;
  st->rr_n = st->rr_head = 0;
  st->a_n = st->a_head = 0;
  st->a_span = 0.0;
}

static double
rr_reference (ScoreState * st)
{
  int i;

  if (st->rr_n == 0)
    return 0.0;
  for (i = 0; i < st->rr_n; i++)
    st->scratch[i] = st->rr[i];
  return median_inplace (st->scratch, st->rr_n);
}

static void
rr_push (ScoreState * st, double rr)
{
  int cap = st->cfg.rr_history;

  if (st->rr_n < cap) {
    st->rr[(st->rr_head + st->rr_n) % cap] = rr;
    st->rr_n++;
  } else {
    st->rr[st->rr_head] = rr;
    st->rr_head = (st->rr_head + 1) % cap;
  }
}

/* Median of a sorted column of n >= 1 values (as median_inplace) */
static double
sorted_median (const double *x, int n)
{
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* First index of a sorted column of n values whose value is >= v */
static int
sorted_lower_bound (const double *x, int n, double v)
{
  int lo = 0, hi = n;

  while (lo < hi) {
    int m = (lo + hi) / 2;

    if (x[m] < v)
      lo = m + 1;
    else
      hi = m;
  }
  return lo;
}

static void
sorted_insert (double *x, int n, double v)
{
  int i = sorted_lower_bound (x, n, v);

  memmove (x + i + 1, x + i, (size_t) (n - i) * sizeof (double));
  x[i] = v;
}

/* Removes one entry equal to v (present: it was inserted before) */
static void
sorted_remove (double *x, int n, double v)
{
  int i = sorted_lower_bound (x, n, v);

  if (i < n)
    memmove (x + i, x + i + 1, (size_t) (n - i - 1) * sizeof (double));
}

/* Drops the oldest ring entry from the ring and the sorted columns */
static void
adapt_pop (ScoreState * st)
{
  int h = st->a_head, d;

  sorted_remove (st->s_lerr, st->a_n, st->a_lerr[h]);
  for (d = 0; d < SCORE_LATENT_DIMS; d++)
    sorted_remove (st->s_mu[d], st->a_n, st->a_mu[d][h]);
  st->a_span -= st->a_dt[h];
  st->a_head = (h + 1) % SCORE_ADAPT_MAX_BEATS;
  st->a_n--;
}

/* Appends a beat that arrived dt samples after the previous one, then
 * drops the oldest beats while the ring spans more than the window (the
 * span is the stream time from the oldest kept beat to the newest) */
static void
adapt_push (ScoreState * st, double lerr, const float *mu, double dt)
{
  int tail, d;

  if (st->a_n > 0) {
    int last = (st->a_head + st->a_n - 1) % SCORE_ADAPT_MAX_BEATS;

    st->a_dt[last] = dt;
    st->a_span += dt;
  }
  if (st->a_n == SCORE_ADAPT_MAX_BEATS)
    adapt_pop (st);
  tail = (st->a_head + st->a_n) % SCORE_ADAPT_MAX_BEATS;
  st->a_lerr[tail] = lerr;
  sorted_insert (st->s_lerr, st->a_n, lerr);
  for (d = 0; d < SCORE_LATENT_DIMS; d++) {
    st->a_mu[d][tail] = mu[d];
    sorted_insert (st->s_mu[d], st->a_n, mu[d]);
  }
  st->a_dt[tail] = 0.0;
  st->a_n++;
  while (st->a_n > 1 && st->a_span > st->window)
    adapt_pop (st);
  if (st->a_n == 1)
    st->a_span = 0.0;
}

/* One beat:
 *
 *   l      = ln (max (err, 1e-12))
 *   ref    = median of the last rr_history nonzero RRs before this beat
 *   P      = max (0, 1 - rr / ref) / premature_step   (0 if rr or ref is 0)
 *   (c_l, c_mu) = medians of l and mu over this stream's beats of the last
 *            adapt_s seconds before this one, when adapt is on and there
 *            are at least adapt_min_beats of them; else the calibration
 *            centres (cal.lerr_centre, cal.mu_centre)
 *   Ze     = max (0, (l - c_l) / cal.lerr_scale)
 *   Zm     = sqrt (sum_d ((mu_d - c_mu_d) / cal.mu_scale_d)^2)
 *   score  = Ze + latent_weight * Zm + P
 *
 * then rr joins the RR ring (if nonzero) and (l, mu) the adapt ring unless
 * the beat is flagged TAIL or TRUNCATED (its row is not a whole beat).  The
 * stream time between ring entries is rr, or ref when rr is 0 (unknown),
 * or one second when both are.
 */
static float
score_one (ScoreState * st, const float *mu, float err, uint64_t rr,
    uint32_t flags)
{
  const ScoreConfig *cfg = &st->cfg;
  const ScoreCalibration *cal = &st->cal;
  double l, ref, p = 0.0, ze, zm = 0.0, c_l, c_mu[SCORE_LATENT_DIMS], dt;
  int d;

  if (!isfinite (err) || !isfinite (mu[0]) || !isfinite (mu[1]))
    return NAN;

  l = log (err > SCORE_ERR_FLOOR ? (double) err : SCORE_ERR_FLOOR);
  ref = rr_reference (st);
  if (rr > 0 && ref > 0.0) {
    p = 1.0 - (double) rr / ref;
    p = p > 0.0 ? p / cfg->premature_step : 0.0;
  }

  if (cfg->adapt && st->a_n >= cfg->adapt_min_beats) {
    c_l = sorted_median (st->s_lerr, st->a_n);
    for (d = 0; d < SCORE_LATENT_DIMS; d++)
      c_mu[d] = sorted_median (st->s_mu[d], st->a_n);
  } else {
    c_l = cal->lerr_centre;
    for (d = 0; d < SCORE_LATENT_DIMS; d++)
      c_mu[d] = cal->mu_centre[d];
  }
  ze = (l - c_l) / cal->lerr_scale;
  if (ze < 0.0)
    ze = 0.0;
  for (d = 0; d < SCORE_LATENT_DIMS; d++) {
    double z = (mu[d] - c_mu[d]) / cal->mu_scale[d];

    zm += z * z;
  }
  zm = sqrt (zm);

  if (rr > 0)
    rr_push (st, (double) rr);
  if (cfg->adapt && !(flags & (SCORE_FLAG_TAIL | SCORE_FLAG_TRUNCATED))) {
    dt = rr > 0 ? (double) rr : (ref > 0.0 ? ref : cfg->rate);
    adapt_push (st, l, mu, dt);
  }

  return (float) (ze + cfg->latent_weight * zm + p);
}

size_t
score_beats_ref (ScoreState * st, const float *mu, const float *logvar,
    const float *err, const uint64_t * rr, const uint32_t * flags, size_t n,
    float *score)
{
  size_t i;

  (void) logvar;
  if (st == NULL || (n > 0 && (mu == NULL || err == NULL || rr == NULL
              || score == NULL)))
    return 0;
  for (i = 0; i < n; i++)
    score[i] = score_one (st, mu + i * SCORE_LATENT_DIMS, err[i], rr[i],
        flags ? flags[i] : 0);
  return n;
}

/* ---- calibration ---- */

/* Calibration, from beats the VAE did not train on:
 *   lerr_centre, lerr_scale = median, 1.4826 MAD of ln (max (err, 1e-12))
 *   mu_centre_d, mu_scale_d = median, 1.4826 MAD of mu_d
 *   then the beats are scored in order with the default ScoreConfig (a new
 *   stream at each rr == 0) and
 *   score_median, score_scale = median, 1.4826 MAD of the scores
 *   threshold = score_median + SCORE_THRESHOLD_MADS * score_scale */
int
score_calibrate_ref (const float *mu, const float *logvar, const float *err,
    const uint64_t * rr, const uint32_t * flags, size_t n, double rate,
    ScoreCalibration * cal)
{
  ScoreCalibration c;
  ScoreConfig cfg;
  ScoreState *st = NULL;
  double *tmp = NULL;
  float *lerr = NULL, *sc = NULL;
  size_t i;
  int d, ret = SCORE_OK;

  (void) logvar;
  if (mu == NULL || err == NULL || rr == NULL || cal == NULL
      || !(rate > 0.0) || !isfinite (rate))
    return SCORE_ERR_INVALID_ARG;
  if (n < 2)
    return SCORE_ERR_NO_DATA;
  for (i = 0; i < n; i++)
    if (!isfinite (err[i]) || !isfinite (mu[2 * i])
        || !isfinite (mu[2 * i + 1]))
      return SCORE_ERR_NONFINITE;

  tmp = malloc (n * sizeof (double));
  lerr = malloc (n * sizeof (float));
  sc = malloc (n * sizeof (float));
  if (tmp == NULL || lerr == NULL || sc == NULL) {
    ret = SCORE_ERR_NO_MEMORY;
    goto done;
  }
  memset (&c, 0, sizeof c);
  for (i = 0; i < n; i++)
    lerr[i] = (float) log (err[i] > SCORE_ERR_FLOOR ? (double) err[i] :
        SCORE_ERR_FLOOR);
  robust_stats (lerr, 1, n, tmp, &c.lerr_centre, &c.lerr_scale);
  for (d = 0; d < SCORE_LATENT_DIMS; d++)
    robust_stats (mu + d, SCORE_LATENT_DIMS, n, tmp, &c.mu_centre[d],
        &c.mu_scale[d]);
  c.n_beats = n;

  score_config_init (&cfg, rate);
  st = score_state_new (&cfg, &c);
  if (st == NULL) {
    ret = SCORE_ERR_NO_MEMORY;
    goto done;
  }
  for (i = 0; i < n; i++) {
    if (rr[i] == 0)
      score_state_reset (st);
    score_beats_ref (st, mu + 2 * i, NULL, err + i, rr + i,
        flags ? flags + i : NULL, 1, sc + i);
  }
  robust_stats (sc, 1, n, tmp, &c.score_median, &c.score_scale);
  c.threshold = c.score_median + SCORE_THRESHOLD_MADS * c.score_scale;
  *cal = c;

done:
  score_state_free (st);
  free (tmp);
  free (lerr);
  free (sc);
  return ret;
}

double
score_calibration_threshold (const ScoreCalibration * cal)
{
  return cal->threshold;
}

/* ---- calibration as text ---- */

int
score_calibration_to_kv (const ScoreCalibration * cal, char *buf, size_t size)
{
  locale_t old;
  int len;

  if (cal == NULL || (buf == NULL && size > 0))
    return SCORE_ERR_INVALID_ARG;
  old = uselocale (score_c_locale ());
  len = snprintf (buf, size,
      "score.version=%d;score.lerr_centre=%.17g;score.lerr_scale=%.17g;"
      "score.mu_centre=%.17g,%.17g;score.mu_scale=%.17g,%.17g;"
      "score.score_median=%.17g;score.score_scale=%.17g;score.threshold=%.17g;"
      "score.n_beats=%llu",
      SCORE_VERSION, cal->lerr_centre, cal->lerr_scale, cal->mu_centre[0],
      cal->mu_centre[1], cal->mu_scale[0], cal->mu_scale[1],
      cal->score_median, cal->score_scale, cal->threshold,
      (unsigned long long) cal->n_beats);
  uselocale (old);
  if (len < 0 || (size_t) len >= size)
    return SCORE_ERR_NO_SPACE;
  return len;
}

/* One finite double filling [s, e) exactly */
static int
parse_double (const char *s, const char *e, double *out)
{
  locale_t old;
  char tmp[64], *end;
  size_t len = (size_t) (e - s);

  if (len == 0 || len >= sizeof tmp)
    return SCORE_ERR_PARSE;
  memcpy (tmp, s, len);
  tmp[len] = '\0';
  if (tmp[0] == ' ' || tmp[0] == '\t' || tmp[0] == '\n')
    return SCORE_ERR_PARSE;
  errno = 0;
  old = uselocale (score_c_locale ());
  *out = strtod (tmp, &end);
  uselocale (old);
  if (*end != '\0' || errno == ERANGE || !isfinite (*out))
    return SCORE_ERR_PARSE;
  return SCORE_OK;
}

/* n doubles separated by ',' filling [s, e) exactly */
static int
parse_doubles (const char *s, const char *e, double *out, int n)
{
  int i;

  for (i = 0; i < n; i++) {
    const char *c = s;

    while (c < e && *c != ',')
      c++;
    if ((i < n - 1) != (c < e))
      return SCORE_ERR_PARSE;
    if (parse_double (s, c, &out[i]) != SCORE_OK)
      return SCORE_ERR_PARSE;
    s = c + 1;
  }
  return SCORE_OK;
}

enum
{
  KEY_VERSION, KEY_LERR_CENTRE, KEY_LERR_SCALE, KEY_MU_CENTRE, KEY_MU_SCALE,
  KEY_SCORE_MEDIAN, KEY_SCORE_SCALE, KEY_THRESHOLD, KEY_N_BEATS, N_KEYS
};

static const char *const key_names[N_KEYS] = {
  "score.version", "score.lerr_centre", "score.lerr_scale", "score.mu_centre",
  "score.mu_scale", "score.score_median", "score.score_scale",
  "score.threshold", "score.n_beats"
};

int
score_calibration_from_kv (ScoreCalibration * cal, const char *text)
{
  ScoreCalibration c;
  int seen[N_KEYS] = { 0 };
  const char *p;
  int k, d;

  if (cal == NULL || text == NULL)
    return SCORE_ERR_INVALID_ARG;
  memset (&c, 0, sizeof c);
  p = text;
  for (;;) {
    const char *end = p, *eq = NULL, *v;
    size_t klen;
    double x[SCORE_LATENT_DIMS];

    while (*end != '\0' && *end != ';') {
      if (*end == '=' && eq == NULL)
        eq = end;
      end++;
    }
    if (eq == NULL)
      return SCORE_ERR_PARSE;
    klen = (size_t) (eq - p);
    for (k = 0; k < N_KEYS; k++)
      if (strlen (key_names[k]) == klen && memcmp (p, key_names[k], klen) == 0)
        break;
    if (k == N_KEYS || seen[k])
      return SCORE_ERR_PARSE;
    seen[k] = 1;
    v = eq + 1;
    switch (k) {
      case KEY_VERSION:
      case KEY_N_BEATS:{
        unsigned long long u = 0;
        const char *c2;

        if (v == end)
          return SCORE_ERR_PARSE;
        for (c2 = v; c2 < end; c2++) {
          if (*c2 < '0' || *c2 > '9' || u > (UINT64_MAX - 9) / 10)
            return SCORE_ERR_PARSE;
          u = u * 10 + (unsigned) (*c2 - '0');
        }
        if (k == KEY_VERSION) {
          if (u != SCORE_VERSION)
            return SCORE_ERR_VERSION;
        } else {
          c.n_beats = u;
        }
        break;
      }
      case KEY_MU_CENTRE:
      case KEY_MU_SCALE:
        if (parse_doubles (v, end, x, SCORE_LATENT_DIMS) != SCORE_OK)
          return SCORE_ERR_PARSE;
        for (d = 0; d < SCORE_LATENT_DIMS; d++) {
          if (k == KEY_MU_SCALE && !(x[d] > 0.0))
            return SCORE_ERR_PARSE;
          if (k == KEY_MU_CENTRE)
            c.mu_centre[d] = x[d];
          else
            c.mu_scale[d] = x[d];
        }
        break;
      default:
        if (parse_double (v, end, &x[0]) != SCORE_OK)
          return SCORE_ERR_PARSE;
        if (k == KEY_LERR_CENTRE)
          c.lerr_centre = x[0];
        else if (k == KEY_LERR_SCALE) {
          if (!(x[0] > 0.0))
            return SCORE_ERR_PARSE;
          c.lerr_scale = x[0];
        } else if (k == KEY_SCORE_MEDIAN)
          c.score_median = x[0];
        else if (k == KEY_SCORE_SCALE) {
          if (!(x[0] > 0.0))
            return SCORE_ERR_PARSE;
          c.score_scale = x[0];
        } else
          c.threshold = x[0];
        break;
    }
    if (*end == '\0')
      break;
    p = end + 1;
  }
  for (k = 0; k < N_KEYS; k++)
    if (!seen[k])
      return SCORE_ERR_MISSING_KEY;
  *cal = c;
  return SCORE_OK;
}

/* safetensors reading and writing, float32 only.
 *
 * Reading validates in this order, each failure with its own status:
 * file size (empty, < 8 bytes), header length (past the end of the file or
 * over SAFETENSORS_MAX_HEADER_SIZE), JSON syntax and UTF-8 over the whole
 * header, then the header's structure (an object; tensor entries with
 * exactly dtype, shape and data_offsets; string-to-string metadata; no
 * duplicate keys), dtype, shape product * 4 == end - begin, and last the
 * data offsets: sorted by begin they must tile [0, E) with no gap or
 * overlap, and E must equal the size of the data section (E larger: the
 * file is truncated; smaller: bytes no tensor covers).
 */

#include "safetensors.h"
#include "vae.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
safetensors_strerror (int status)
{
  switch (status) {
    case SAFETENSORS_OK:
      return "success";
    case SAFETENSORS_ERR_INVALID_ARG:
      return "invalid argument";
    case SAFETENSORS_ERR_IO:
      return "input/output error";
    case SAFETENSORS_ERR_NOMEM:
      return "out of memory";
    case SAFETENSORS_ERR_EMPTY:
      return "file is empty";
    case SAFETENSORS_ERR_TRUNCATED:
      return "file is truncated";
    case SAFETENSORS_ERR_HEADER_SIZE:
      return "header length is larger than the file or the limit";
    case SAFETENSORS_ERR_JSON:
      return "header is not valid JSON";
    case SAFETENSORS_ERR_HEADER:
      return "header is not a valid safetensors header";
    case SAFETENSORS_ERR_DUPLICATE:
      return "duplicate key in header";
    case SAFETENSORS_ERR_DTYPE:
      return "unsupported dtype (only F32 is)";
    case SAFETENSORS_ERR_SIZE:
      return "tensor shape does not match its byte length";
    case SAFETENSORS_ERR_OFFSETS:
      return "tensor data offsets out of range, overlapping or not "
          "covering the data";
    case SAFETENSORS_ERR_MISSING:
      return "expected tensor is missing";
    case SAFETENSORS_ERR_UNEXPECTED:
      return "unexpected tensor";
    case SAFETENSORS_ERR_SHAPE:
      return "tensor has the wrong shape for the model";
    case SAFETENSORS_ERR_METADATA:
      return "metadata does not match the model";
    default:
      return "unknown safetensors error";
  }
}

static void
set_detail (char *detail, size_t size, const char *fmt, ...)
{
  va_list ap;

  if (detail == NULL || size == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (detail, size, fmt, ap);
  va_end (ap);
}

/* ---------------------------------------------------------------------- */
/* JSON (RFC 8259) */

typedef struct
{
  const char *p, *end;
  int depth;
} Json;

static void
json_ws (Json * j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n'
          || *j->p == '\r'))
    j->p++;
}

static int
hex4 (const char *p, unsigned *out)
{
  unsigned v = 0;
  int i;

  for (i = 0; i < 4; i++) {
    char c = p[i];

    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned) (c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned) (c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned) (c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static size_t
put_utf8 (char *o, unsigned cp)
{
  if (cp < 0x80) {
    o[0] = (char) cp;
    return 1;
  } else if (cp < 0x800) {
    o[0] = (char) (0xc0 | (cp >> 6));
    o[1] = (char) (0x80 | (cp & 0x3f));
    return 2;
  } else if (cp < 0x10000) {
    o[0] = (char) (0xe0 | (cp >> 12));
    o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char) (0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char) (0xf0 | (cp >> 18));
  o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

/* Length of the well-formed UTF-8 sequence at p (no overlongs, surrogates
 * or code points past U+10FFFF), 0 if there is none */
static size_t
utf8_len (const unsigned char *p, const unsigned char *end)
{
  unsigned c = p[0];
  size_t n, i;
  unsigned cp;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if ((size_t) (end - p) < n)
    return 0;
  for (i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
      || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

/* A string at j->p (on the opening quote); *out (nullable) gets the
 * decoded, NUL-terminated bytes (malloc).  Returns 0, SAFETENSORS_ERR_JSON
 * or SAFETENSORS_ERR_NOMEM. */
static int
json_string (Json * j, char **out)
{
  const char *p = j->p + 1;
  char *buf = NULL, *o = NULL;

  if (j->p >= j->end || *j->p != '"')
    return SAFETENSORS_ERR_JSON;
  if (out != NULL) {
    /* decoding never grows the text */
    const char *q = p;

    while (q < j->end && *q != '"')
      q += (*q == '\\' && q + 1 < j->end) ? 2 : 1;
    buf = malloc ((size_t) (q - p) + 1);
    if (buf == NULL)
      return SAFETENSORS_ERR_NOMEM;
    o = buf;
  }
  while (p < j->end && *p != '"') {
    unsigned char c = (unsigned char) *p;

    if (c < 0x20) {
      goto bad;
    } else if (c == '\\') {
      if (p + 1 >= j->end)
        goto bad;
      switch (p[1]) {
        case '"':
        case '\\':
        case '/':
          if (o != NULL)
            *o++ = p[1];
          p += 2;
          break;
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          if (o != NULL)
            *o++ = p[1] == 'b' ? '\b' : p[1] == 'f' ? '\f' : p[1] == 'n'
                ? '\n' : p[1] == 'r' ? '\r' : '\t';
          p += 2;
          break;
        case 'u':{
          unsigned cp, lo;

          if (j->end - p < 6 || hex4 (p + 2, &cp) != 0)
            goto bad;
          p += 6;
          if (cp >= 0xdc00 && cp <= 0xdfff)
            goto bad;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (j->end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || hex4 (p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
              goto bad;
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          /* a \u escape takes 6 or 12 bytes, its UTF-8 at most 4 */
          if (o != NULL)
            o += put_utf8 (o, cp);
          break;
        }
        default:
          goto bad;
      }
    } else {
      size_t n = utf8_len ((const unsigned char *) p,
          (const unsigned char *) j->end);

      if (n == 0)
        goto bad;
      if (o != NULL) {
        memcpy (o, p, n);
        o += n;
      }
      p += n;
    }
  }
  if (p >= j->end)
    goto bad;
  j->p = p + 1;
  if (out != NULL) {
    *o = '\0';
    *out = buf;
  }
  return 0;

bad:
  free (buf);
  return SAFETENSORS_ERR_JSON;
}

/* A number; *is_uint says whether it was a plain non-negative integer that
 * fits in uint64_t, then its value is in *val */
static int
json_number (Json * j, int *is_uint, uint64_t * val)
{
  const char *p = j->p;
  int plain = 1, overflow = 0;
  uint64_t v = 0;

  if (p < j->end && *p == '-') {
    plain = 0;
    p++;
  }
  if (p >= j->end || *p < '0' || *p > '9')
    return SAFETENSORS_ERR_JSON;
  if (*p == '0') {
    p++;
  } else {
    while (p < j->end && *p >= '0' && *p <= '9') {
      unsigned d = (unsigned) (*p - '0');

      if (v > (UINT64_MAX - d) / 10)
        overflow = 1;
      else
        v = v * 10 + d;
      p++;
    }
  }
  if (p < j->end && *p == '.') {
    plain = 0;
    p++;
    if (p >= j->end || *p < '0' || *p > '9')
      return SAFETENSORS_ERR_JSON;
    while (p < j->end && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < j->end && (*p == 'e' || *p == 'E')) {
    plain = 0;
    p++;
    if (p < j->end && (*p == '+' || *p == '-'))
      p++;
    if (p >= j->end || *p < '0' || *p > '9')
      return SAFETENSORS_ERR_JSON;
    while (p < j->end && *p >= '0' && *p <= '9')
      p++;
  }
  j->p = p;
  if (is_uint != NULL)
    *is_uint = plain && !overflow;
  if (val != NULL)
    *val = v;
  return 0;
}

static int
json_literal (Json * j, const char *lit)
{
  size_t n = strlen (lit);

  if ((size_t) (j->end - j->p) < n || memcmp (j->p, lit, n) != 0)
    return SAFETENSORS_ERR_JSON;
  j->p += n;
  return 0;
}

/* Validates (and skips) any value */
static int
json_value (Json * j)
{
  int ret;

  json_ws (j);
  if (j->p >= j->end)
    return SAFETENSORS_ERR_JSON;
  switch (*j->p) {
    case '{':
    case '[':{
      char close = *j->p == '{' ? '}' : ']';
      int obj = *j->p == '{';

      if (++j->depth > SAFETENSORS_MAX_DEPTH)
        return SAFETENSORS_ERR_JSON;
      j->p++;
      json_ws (j);
      if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 0;
      }
      for (;;) {
        if (obj) {
          json_ws (j);
          if ((ret = json_string (j, NULL)) != 0)
            return ret;
          json_ws (j);
          if (j->p >= j->end || *j->p != ':')
            return SAFETENSORS_ERR_JSON;
          j->p++;
        }
        if ((ret = json_value (j)) != 0)
          return ret;
        json_ws (j);
        if (j->p >= j->end)
          return SAFETENSORS_ERR_JSON;
        if (*j->p == ',') {
          j->p++;
          continue;
        }
        if (*j->p != close)
          return SAFETENSORS_ERR_JSON;
        j->p++;
        j->depth--;
        return 0;
      }
    }
    case '"':
      return json_string (j, NULL);
    case 't':
      return json_literal (j, "true");
    case 'f':
      return json_literal (j, "false");
    case 'n':
      return json_literal (j, "null");
    default:
      return json_number (j, NULL, NULL);
  }
}

/* Steps over ws and @c; the syntax pass has vouched for it */
static int
json_expect (Json * j, char c)
{
  json_ws (j);
  if (j->p >= j->end || *j->p != c)
    return SAFETENSORS_ERR_JSON;
  j->p++;
  return 0;
}

/* After an element: 1 if another follows (',' consumed), 0 at @close */
static int
json_more (Json * j, char close)
{
  json_ws (j);
  if (j->p < j->end && *j->p == ',') {
    j->p++;
    return 1;
  }
  if (j->p < j->end && *j->p == close)
    j->p++;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Header */

typedef struct
{
  SafetensorsFile *f;
  size_t cap_t, cap_m;
  char *detail;
  size_t detail_size;
} Parser;

/* [u, u, ...] of plain non-negative integers; returns the count in *n */
static int
parse_uint_array (Parser * ps, Json * j, uint64_t * vals, int max, int *n,
    const char *what, const char *name)
{
  int count = 0, is_uint;
  uint64_t v;

  if (json_expect (j, '[') != 0) {
    set_detail (ps->detail, ps->detail_size, "%s of \"%s\" is not an array",
        what, name);
    return SAFETENSORS_ERR_HEADER;
  }
  json_ws (j);
  if (j->p < j->end && *j->p == ']') {
    j->p++;
    *n = 0;
    return 0;
  }
  do {
    json_ws (j);
    if (j->p >= j->end || !(*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
        || json_number (j, &is_uint, &v) != 0 || !is_uint) {
      set_detail (ps->detail, ps->detail_size, "%s of \"%s\" must hold "
          "non-negative integers", what, name);
      return SAFETENSORS_ERR_HEADER;
    }
    if (count >= max) {
      set_detail (ps->detail, ps->detail_size, "%s of \"%s\" has too many "
          "elements", what, name);
      return SAFETENSORS_ERR_HEADER;
    }
    vals[count++] = v;
  } while (json_more (j, ']'));
  *n = count;
  return 0;
}

static int
parse_tensor (Parser * ps, Json * j, char *name)
{
  SafetensorsTensor *t;
  int seen_dtype = 0, seen_shape = 0, seen_offsets = 0, ret, n;
  int f32 = 0;
  char *key = NULL, *dtype = NULL;
  uint64_t off[3];

  if (ps->f->n_tensors == ps->cap_t) {
    size_t cap = ps->cap_t ? 2 * ps->cap_t : 32;
    SafetensorsTensor *nt = realloc (ps->f->tensors, cap * sizeof (*nt));

    if (nt == NULL) {
      free (name);
      return SAFETENSORS_ERR_NOMEM;
    }
    ps->f->tensors = nt;
    ps->cap_t = cap;
  }
  t = &ps->f->tensors[ps->f->n_tensors++];
  memset (t, 0, sizeof (*t));
  t->name = name;

  json_ws (j);
  if (j->p >= j->end || *j->p != '{') {
    set_detail (ps->detail, ps->detail_size, "\"%s\" is not an object", name);
    return SAFETENSORS_ERR_HEADER;
  }
  j->p++;
  json_ws (j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
  } else {
    do {
      json_ws (j);
      if ((ret = json_string (j, &key)) != 0)
        return ret;
      if ((ret = json_expect (j, ':')) != 0)
        goto out;
      json_ws (j);
      if (strcmp (key, "dtype") == 0) {
        if (seen_dtype++)
          goto dup;
        if (j->p >= j->end || *j->p != '"') {
          set_detail (ps->detail, ps->detail_size, "dtype of \"%s\" is not "
              "a string", name);
          ret = SAFETENSORS_ERR_HEADER;
          goto out;
        }
        if ((ret = json_string (j, &dtype)) != 0)
          goto out;
        f32 = strcmp (dtype, "F32") == 0;
        if (!f32)
          set_detail (ps->detail, ps->detail_size, "\"%s\" has dtype %s",
              name, dtype);
        free (dtype);
        dtype = NULL;
      } else if (strcmp (key, "shape") == 0) {
        if (seen_shape++)
          goto dup;
        if ((ret = parse_uint_array (ps, j, t->shape, SAFETENSORS_MAX_DIMS,
                    &t->ndim, "shape", name)) != 0)
          goto out;
      } else if (strcmp (key, "data_offsets") == 0) {
        if (seen_offsets++)
          goto dup;
        if ((ret = parse_uint_array (ps, j, off, 3, &n, "data_offsets",
                    name)) != 0)
          goto out;
        if (n != 2) {
          set_detail (ps->detail, ps->detail_size, "data_offsets of \"%s\" "
              "must have 2 elements", name);
          ret = SAFETENSORS_ERR_HEADER;
          goto out;
        }
        t->begin = off[0];
        t->end = off[1];
      } else {
        set_detail (ps->detail, ps->detail_size, "\"%s\" has unknown field "
            "\"%s\"", name, key);
        ret = SAFETENSORS_ERR_HEADER;
        goto out;
      }
      free (key);
      key = NULL;
    } while (json_more (j, '}'));
  }
  if (!seen_dtype || !seen_shape || !seen_offsets) {
    set_detail (ps->detail, ps->detail_size, "\"%s\" lacks %s", name,
        !seen_dtype ? "dtype" : !seen_shape ? "shape" : "data_offsets");
    return SAFETENSORS_ERR_HEADER;
  }
  if (!f32)
    return SAFETENSORS_ERR_DTYPE;
  return 0;

dup:
  set_detail (ps->detail, ps->detail_size, "\"%s\" has field \"%s\" twice",
      name, key);
  ret = SAFETENSORS_ERR_DUPLICATE;
out:
  free (key);
  return ret;
}

static int
parse_metadata (Parser * ps, Json * j)
{
  char *key = NULL, *value = NULL;
  size_t i;
  int ret;

  json_ws (j);
  if (j->p >= j->end || *j->p != '{') {
    set_detail (ps->detail, ps->detail_size, "__metadata__ is not an object");
    return SAFETENSORS_ERR_HEADER;
  }
  j->p++;
  json_ws (j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return 0;
  }
  do {
    json_ws (j);
    if ((ret = json_string (j, &key)) != 0)
      return ret;
    if ((ret = json_expect (j, ':')) != 0)
      goto out;
    json_ws (j);
    if (j->p >= j->end || *j->p != '"') {
      set_detail (ps->detail, ps->detail_size, "metadata \"%s\" is not a "
          "string", key);
      ret = SAFETENSORS_ERR_HEADER;
      goto out;
    }
    if ((ret = json_string (j, &value)) != 0)
      goto out;
    for (i = 0; i < ps->f->n_meta; i++)
      if (strcmp (ps->f->meta[i].key, key) == 0) {
        set_detail (ps->detail, ps->detail_size, "metadata \"%s\" appears "
            "twice", key);
        ret = SAFETENSORS_ERR_DUPLICATE;
        goto out;
      }
    if (ps->f->n_meta == ps->cap_m) {
      size_t cap = ps->cap_m ? 2 * ps->cap_m : 8;
      SafetensorsMeta *nm = realloc (ps->f->meta, cap * sizeof (*nm));

      if (nm == NULL) {
        ret = SAFETENSORS_ERR_NOMEM;
        goto out;
      }
      ps->f->meta = nm;
      ps->cap_m = cap;
    }
    ps->f->meta[ps->f->n_meta].key = key;
    ps->f->meta[ps->f->n_meta].value = value;
    ps->f->n_meta++;
    key = value = NULL;
  } while (json_more (j, '}'));
  return 0;

out:
  free (key);
  free (value);
  return ret;
}

static int
cmp_begin (const void *a, const void *b)
{
  const SafetensorsTensor *const *x = a, *const *y = b;

  if ((*x)->begin != (*y)->begin)
    return (*x)->begin < (*y)->begin ? -1 : 1;
  return (*x)->end < (*y)->end ? -1 : (*x)->end > (*y)->end;
}

static int
cmp_name (const void *a, const void *b)
{
  const SafetensorsTensor *const *x = a, *const *y = b;

  return strcmp ((*x)->name, (*y)->name);
}

/* dtype, size, duplicates and offsets once the header has parsed */
static int
check_tensors (Parser * ps, uint64_t data_len)
{
  SafetensorsFile *f = ps->f;
  SafetensorsTensor **idx;
  uint64_t pos = 0;
  size_t i;
  int d, ret = 0;

  for (i = 0; i < f->n_tensors; i++) {
    SafetensorsTensor *t = &f->tensors[i];
    uint64_t n = 1;
    int overflow = 0;

    for (d = 0; d < t->ndim; d++) {
      if (t->shape[d] != 0 && n > UINT64_MAX / 4 / t->shape[d])
        overflow = 1;
      else
        n *= t->shape[d];
    }
    if (t->begin > t->end) {
      set_detail (ps->detail, ps->detail_size, "\"%s\" has data_offsets "
          "[%llu, %llu]", t->name, (unsigned long long) t->begin,
          (unsigned long long) t->end);
      return SAFETENSORS_ERR_OFFSETS;
    }
    if (overflow || n * 4 != t->end - t->begin) {
      set_detail (ps->detail, ps->detail_size, "\"%s\": shape needs %s%llu "
          "bytes, data_offsets give %llu", t->name, overflow ? "> " : "",
          (unsigned long long) (n * 4),
          (unsigned long long) (t->end - t->begin));
      return SAFETENSORS_ERR_SIZE;
    }
  }

  idx = malloc ((f->n_tensors + 1) * sizeof (*idx));
  if (idx == NULL)
    return SAFETENSORS_ERR_NOMEM;
  for (i = 0; i < f->n_tensors; i++)
    idx[i] = &f->tensors[i];

  qsort (idx, f->n_tensors, sizeof (*idx), cmp_name);
  for (i = 1; i < f->n_tensors; i++)
    if (strcmp (idx[i - 1]->name, idx[i]->name) == 0) {
      set_detail (ps->detail, ps->detail_size, "tensor \"%s\" appears twice",
          idx[i]->name);
      ret = SAFETENSORS_ERR_DUPLICATE;
      goto out;
    }

  qsort (idx, f->n_tensors, sizeof (*idx), cmp_begin);
  for (i = 0; i < f->n_tensors; i++) {
    if (idx[i]->begin != pos) {
      set_detail (ps->detail, ps->detail_size, "\"%s\" starts at %llu, "
          "expected %llu (%s)", idx[i]->name,
          (unsigned long long) idx[i]->begin, (unsigned long long) pos,
          idx[i]->begin < pos ? "overlap" : "gap");
      ret = SAFETENSORS_ERR_OFFSETS;
      goto out;
    }
    pos = idx[i]->end;
  }
  if (pos > data_len) {
    set_detail (ps->detail, ps->detail_size, "tensors need %llu data bytes, "
        "the file has %llu", (unsigned long long) pos,
        (unsigned long long) data_len);
    ret = SAFETENSORS_ERR_TRUNCATED;
    goto out;
  }
  if (pos < data_len) {
    set_detail (ps->detail, ps->detail_size, "%llu data bytes after the "
        "last tensor", (unsigned long long) (data_len - pos));
    ret = SAFETENSORS_ERR_OFFSETS;
    goto out;
  }

out:
  free (idx);
  return ret;
}

void
safetensors_free (SafetensorsFile * file)
{
  size_t i;

  if (file == NULL)
    return;
  for (i = 0; i < file->n_tensors; i++)
    free (file->tensors[i].name);
  for (i = 0; i < file->n_meta; i++) {
    free ((char *) file->meta[i].key);
    free ((char *) file->meta[i].value);
  }
  free (file->tensors);
  free (file->meta);
  free (file->buf);
  free (file);
}

int
safetensors_parse (const void *data, size_t size, SafetensorsFile ** out,
    char *detail, size_t detail_size)
{
  Parser ps;
  Json j;
  uint64_t hlen = 0;
  const uint8_t *b = data;
  const char *hdr;
  char *key = NULL;
  size_t i;
  int ret, seen_meta = 0;

  if (out == NULL || (data == NULL && size > 0))
    return SAFETENSORS_ERR_INVALID_ARG;
  *out = NULL;
  set_detail (detail, detail_size, "%s", "");
  if (size == 0)
    return SAFETENSORS_ERR_EMPTY;
  if (size < 8) {
    set_detail (detail, detail_size, "%zu bytes, less than the 8-byte "
        "header length", size);
    return SAFETENSORS_ERR_TRUNCATED;
  }
  for (i = 0; i < 8; i++)
    hlen |= (uint64_t) b[i] << (8 * i);
  if (hlen > SAFETENSORS_MAX_HEADER_SIZE || hlen > size - 8) {
    set_detail (detail, detail_size, "header length %llu, file %zu bytes",
        (unsigned long long) hlen, size);
    return SAFETENSORS_ERR_HEADER_SIZE;
  }

  memset (&ps, 0, sizeof (ps));
  ps.detail = detail;
  ps.detail_size = detail_size;
  ps.f = calloc (1, sizeof (SafetensorsFile));
  if (ps.f == NULL)
    return SAFETENSORS_ERR_NOMEM;
  ps.f->buf = malloc (size);
  if (ps.f->buf == NULL) {
    ret = SAFETENSORS_ERR_NOMEM;
    goto fail;
  }
  memcpy (ps.f->buf, data, size);
  ps.f->size = size;
  hdr = (const char *) ps.f->buf + 8;

  /* syntax of the whole header first */
  j.p = hdr;
  j.end = hdr + hlen;
  j.depth = 0;
  ret = json_value (&j);
  json_ws (&j);
  if (ret == 0 && j.p != j.end)
    ret = SAFETENSORS_ERR_JSON;
  if (ret != 0) {
    if (ret == SAFETENSORS_ERR_JSON)
      set_detail (detail, detail_size, "JSON error at header byte %zu",
          (size_t) (j.p - hdr));
    goto fail;
  }

  /* then its structure */
  j.p = hdr;
  json_ws (&j);
  if (*j.p != '{') {
    set_detail (detail, detail_size, "header is not a JSON object");
    ret = SAFETENSORS_ERR_HEADER;
    goto fail;
  }
  j.p++;
  json_ws (&j);
  if (*j.p == '}') {
    j.p++;
  } else {
    do {
      json_ws (&j);
      if ((ret = json_string (&j, &key)) != 0)
        goto fail;
      if ((ret = json_expect (&j, ':')) != 0)
        goto fail;
      if (strcmp (key, "__metadata__") == 0) {
        if (seen_meta++) {
          set_detail (detail, detail_size, "__metadata__ appears twice");
          ret = SAFETENSORS_ERR_DUPLICATE;
          goto fail;
        }
        free (key);
        key = NULL;
        if ((ret = parse_metadata (&ps, &j)) != 0)
          goto fail;
      } else {
        /* parse_tensor owns key from here */
        ret = parse_tensor (&ps, &j, key);
        key = NULL;
        if (ret != 0)
          goto fail;
      }
    } while (json_more (&j, '}'));
  }

  if ((ret = check_tensors (&ps, size - 8 - hlen)) != 0)
    goto fail;
  for (i = 0; i < ps.f->n_tensors; i++)
    ps.f->tensors[i].data = ps.f->buf + 8 + hlen + ps.f->tensors[i].begin;
  *out = ps.f;
  return 0;

fail:
  free (key);
  safetensors_free (ps.f);
  return ret;
}

int
safetensors_read_file (const char *path, SafetensorsFile ** out,
    char *detail, size_t detail_size)
{
  FILE *fp;
  uint8_t *buf = NULL;
  size_t size = 0, cap = 0, got;
  int ret;

  if (path == NULL || out == NULL)
    return SAFETENSORS_ERR_INVALID_ARG;
  *out = NULL;
  fp = fopen (path, "rb");
  if (fp == NULL) {
    set_detail (detail, detail_size, "%s: %s", path, strerror (errno));
    return SAFETENSORS_ERR_IO;
  }
  /* read to the end rather than trusting a size: FIFOs, growing files */
  for (;;) {
    if (size == cap) {
      size_t ncap = cap ? 2 * cap : 65536;
      uint8_t *nb;

      if (ncap > (size_t) SAFETENSORS_MAX_HEADER_SIZE * 64) {
        set_detail (detail, detail_size, "%s: file too large", path);
        ret = SAFETENSORS_ERR_IO;
        goto out;
      }
      nb = realloc (buf, ncap);
      if (nb == NULL) {
        ret = SAFETENSORS_ERR_NOMEM;
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    got = fread (buf + size, 1, cap - size, fp);
    size += got;
    if (got == 0)
      break;
  }
  if (ferror (fp)) {
    set_detail (detail, detail_size, "%s: read error", path);
    ret = SAFETENSORS_ERR_IO;
    goto out;
  }
  ret = safetensors_parse (buf, size, out, detail, detail_size);

out:
  fclose (fp);
  free (buf);
  return ret;
}

const SafetensorsTensor *
safetensors_find (const SafetensorsFile * file, const char *name)
{
  size_t i;

  if (file == NULL || name == NULL)
    return NULL;
  for (i = 0; i < file->n_tensors; i++)
    if (strcmp (file->tensors[i].name, name) == 0)
      return &file->tensors[i];
  return NULL;
}

const char *
safetensors_get_metadata (const SafetensorsFile * file, const char *key)
{
  size_t i;

  if (file == NULL || key == NULL)
    return NULL;
  for (i = 0; i < file->n_meta; i++)
    if (strcmp (file->meta[i].key, key) == 0)
      return file->meta[i].value;
  return NULL;
}

uint64_t
safetensors_tensor_numel (const SafetensorsTensor * t)
{
  return (t->end - t->begin) / 4;
}

void
safetensors_tensor_to_f32 (const SafetensorsTensor * t, float *dst)
{
  uint64_t i, n = safetensors_tensor_numel (t);

  for (i = 0; i < n; i++) {
    const uint8_t *q = t->data + 4 * i;
    uint32_t u = (uint32_t) q[0] | (uint32_t) q[1] << 8
        | (uint32_t) q[2] << 16 | (uint32_t) q[3] << 24;

    memcpy (&dst[i], &u, 4);
  }
}

/* ---------------------------------------------------------------------- */
/* Writing */

typedef struct
{
  char *s;
  size_t len, cap;
  int oom;
} Buf;

static void
buf_add (Buf * b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    char *ns;

    while (b->len + n + 1 > cap)
      cap *= 2;
    ns = realloc (b->s, cap);
    if (ns == NULL) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void
buf_str (Buf * b, const char *s)
{
  buf_add (b, s, strlen (s));
}

/* A JSON string as serde_json writes it: ", \ and control characters
 * escaped, the rest (UTF-8) as is */
static void
buf_json_string (Buf * b, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  char esc[8];

  buf_add (b, "\"", 1);
  for (; *p; p++) {
    switch (*p) {
      case '"':
        buf_str (b, "\\\"");
        break;
      case '\\':
        buf_str (b, "\\\\");
        break;
      case '\b':
        buf_str (b, "\\b");
        break;
      case '\f':
        buf_str (b, "\\f");
        break;
      case '\n':
        buf_str (b, "\\n");
        break;
      case '\r':
        buf_str (b, "\\r");
        break;
      case '\t':
        buf_str (b, "\\t");
        break;
      default:
        if (*p < 0x20) {
          snprintf (esc, sizeof (esc), "\\u%04x", *p);
          buf_str (b, esc);
        } else {
          buf_add (b, (const char *) p, 1);
        }
    }
  }
  buf_add (b, "\"", 1);
}

static void
buf_u64 (Buf * b, uint64_t v)
{
  char num[24];

  snprintf (num, sizeof (num), "%llu", (unsigned long long) v);
  buf_str (b, num);
}

static int
cmp_write_name (const void *a, const void *b)
{
  const SafetensorsWriteTensor *const *x = a, *const *y = b;

  return strcmp ((*x)->name, (*y)->name);
}

static int
valid_utf8 (const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  const unsigned char *end = p + strlen (s);

  while (p < end) {
    size_t n = utf8_len (p, end);

    if (n == 0)
      return 0;
    p += n;
  }
  return 1;
}

int
safetensors_serialize (const SafetensorsWriteTensor * tensors, size_t n,
    const SafetensorsMeta * meta, size_t n_meta, uint8_t ** out,
    size_t *out_size)
{
  const SafetensorsWriteTensor **idx = NULL;
  Buf b;
  uint64_t *numel = NULL, pos = 0;
  size_t i, k, hlen, total;
  uint8_t *res = NULL;
  int d, ret = SAFETENSORS_ERR_INVALID_ARG;

  if (out == NULL || out_size == NULL || (n > 0 && tensors == NULL)
      || (n_meta > 0 && meta == NULL))
    return SAFETENSORS_ERR_INVALID_ARG;
  *out = NULL;
  *out_size = 0;
  memset (&b, 0, sizeof (b));
  idx = malloc ((n + 1) * sizeof (*idx));
  numel = malloc ((n + 1) * sizeof (*numel));
  if (idx == NULL || numel == NULL) {
    ret = SAFETENSORS_ERR_NOMEM;
    goto out;
  }
  for (i = 0; i < n; i++) {
    const SafetensorsWriteTensor *t = &tensors[i];

    if (t->name == NULL || strcmp (t->name, "__metadata__") == 0
        || !valid_utf8 (t->name) || t->ndim < 0
        || t->ndim > SAFETENSORS_MAX_DIMS || (t->ndim > 0 && t->shape == NULL))
      goto out;
    numel[i] = 1;
    for (d = 0; d < t->ndim; d++) {
      if (t->shape[d] != 0 && numel[i] > UINT64_MAX / 8 / t->shape[d])
        goto out;
      numel[i] *= t->shape[d];
    }
    if (numel[i] > 0 && t->data == NULL)
      goto out;
    idx[i] = t;
  }
  for (k = 0; k < n_meta; k++)
    if (meta[k].key == NULL || meta[k].value == NULL
        || !valid_utf8 (meta[k].key) || !valid_utf8 (meta[k].value))
      goto out;
  for (k = 0; k < n_meta; k++)
    for (i = 0; i < k; i++)
      if (strcmp (meta[i].key, meta[k].key) == 0)
        goto out;
  qsort (idx, n, sizeof (*idx), cmp_write_name);
  for (i = 1; i < n; i++)
    if (strcmp (idx[i - 1]->name, idx[i]->name) == 0)
      goto out;

  buf_str (&b, "{");
  if (n_meta > 0) {
    buf_str (&b, "\"__metadata__\":{");
    for (k = 0; k < n_meta; k++) {
      if (k > 0)
        buf_str (&b, ",");
      buf_json_string (&b, meta[k].key);
      buf_str (&b, ":");
      buf_json_string (&b, meta[k].value);
    }
    buf_str (&b, "}");
  }
  for (i = 0; i < n; i++) {
    const SafetensorsWriteTensor *t = idx[i];
    uint64_t bytes = 1;

    for (d = 0; d < t->ndim; d++)
      bytes *= t->shape[d];
    bytes *= 4;
    if (i > 0 || n_meta > 0)
      buf_str (&b, ",");
    buf_json_string (&b, t->name);
    buf_str (&b, ":{\"dtype\":\"F32\",\"shape\":[");
    for (d = 0; d < t->ndim; d++) {
      if (d > 0)
        buf_str (&b, ",");
      buf_u64 (&b, t->shape[d]);
    }
    buf_str (&b, "],\"data_offsets\":[");
    buf_u64 (&b, pos);
    buf_str (&b, ",");
    buf_u64 (&b, pos + bytes);
    buf_str (&b, "]}");
    pos += bytes;
  }
  buf_str (&b, "}");
  while (b.len % 8 != 0)
    buf_str (&b, " ");
  if (b.oom) {
    ret = SAFETENSORS_ERR_NOMEM;
    goto out;
  }
  hlen = b.len;
  if (hlen > SAFETENSORS_MAX_HEADER_SIZE || pos > SIZE_MAX - 8 - hlen)
    goto out;
  total = 8 + hlen + (size_t) pos;
  res = malloc (total);
  if (res == NULL) {
    ret = SAFETENSORS_ERR_NOMEM;
    goto out;
  }
  for (i = 0; i < 8; i++)
    res[i] = (uint8_t) ((uint64_t) hlen >> (8 * i));
  memcpy (res + 8, b.s, hlen);
  pos = 8 + hlen;
  for (i = 0; i < n; i++) {
    const SafetensorsWriteTensor *t = idx[i];
    uint64_t e, cnt = 1;

    for (d = 0; d < t->ndim; d++)
      cnt *= t->shape[d];
    for (e = 0; e < cnt; e++) {
      uint32_t u;

      memcpy (&u, &t->data[e], 4);
      res[pos++] = (uint8_t) u;
      res[pos++] = (uint8_t) (u >> 8);
      res[pos++] = (uint8_t) (u >> 16);
      res[pos++] = (uint8_t) (u >> 24);
    }
  }
  *out = res;
  *out_size = total;
  ret = 0;

out:
  free (idx);
  free (numel);
  free (b.s);
  return ret;
}

int
safetensors_write_file (const char *path,
    const SafetensorsWriteTensor * tensors, size_t n,
    const SafetensorsMeta * meta, size_t n_meta)
{
  uint8_t *data = NULL;
  size_t size = 0;
  char *tmp = NULL;
  FILE *fp;
  int ret;

  if (path == NULL)
    return SAFETENSORS_ERR_INVALID_ARG;
  ret = safetensors_serialize (tensors, n, meta, n_meta, &data, &size);
  if (ret != 0)
    return ret;
  tmp = malloc (strlen (path) + 5);
  if (tmp == NULL) {
    free (data);
    return SAFETENSORS_ERR_NOMEM;
  }
  strcpy (tmp, path);
  strcat (tmp, ".tmp");
  fp = fopen (tmp, "wb");
  if (fp == NULL) {
    ret = SAFETENSORS_ERR_IO;
    goto out;
  }
  if (fwrite (data, 1, size, fp) != size) {
    fclose (fp);
    remove (tmp);
    ret = SAFETENSORS_ERR_IO;
    goto out;
  }
  if (fclose (fp) != 0 || rename (tmp, path) != 0) {
    remove (tmp);
    ret = SAFETENSORS_ERR_IO;
    goto out;
  }
  ret = 0;

out:
  free (tmp);
  free (data);
  return ret;
}

/* ---------------------------------------------------------------------- */
/* LightVAE */

int
safetensors_load_lightvae (const SafetensorsFile * file, float *params,
    char *detail, size_t detail_size)
{
  static const char *const keys[3] = { "arch", "beat_length", "latent_dims" };
  static const char *const want[3] = { "LightVAE", "256", "2" };
  size_t i;
  int k, d;

  if (file == NULL || params == NULL)
    return SAFETENSORS_ERR_INVALID_ARG;
  for (k = 0; k < 3; k++) {
    const char *v = safetensors_get_metadata (file, keys[k]);

    if (v != NULL && strcmp (v, want[k]) != 0) {
      set_detail (detail, detail_size, "metadata %s is \"%s\", the model "
          "needs \"%s\"", keys[k], v, want[k]);
      return SAFETENSORS_ERR_METADATA;
    }
  }
  for (i = 0; i < file->n_tensors; i++)
    if (vae_param_lookup (file->tensors[i].name) == NULL) {
      set_detail (detail, detail_size, "unexpected tensor \"%s\"",
          file->tensors[i].name);
      return SAFETENSORS_ERR_UNEXPECTED;
    }
  for (k = 0; k < VAE_N_TENSORS; k++) {
    const VaeParamInfo *pi = &vae_param_table[k];
    const SafetensorsTensor *t = safetensors_find (file, pi->name);
    int ok;

    if (t == NULL) {
      set_detail (detail, detail_size, "missing tensor \"%s\"", pi->name);
      return SAFETENSORS_ERR_MISSING;
    }
    ok = t->ndim == pi->ndim;
    for (d = 0; ok && d < pi->ndim; d++)
      ok = t->shape[d] == (uint64_t) pi->shape[d];
    if (!ok) {
      char have[128] = "", tmp[32];

      for (d = 0; d < t->ndim; d++) {
        snprintf (tmp, sizeof (tmp), "%s%llu", d ? ", " : "",
            (unsigned long long) t->shape[d]);
        strncat (have, tmp, sizeof (have) - strlen (have) - 1);
      }
      set_detail (detail, detail_size, "tensor \"%s\" has shape [%s]",
          pi->name, have);
      return SAFETENSORS_ERR_SHAPE;
    }
  }
  for (k = 0; k < VAE_N_TENSORS; k++)
    safetensors_tensor_to_f32 (safetensors_find (file,
            vae_param_table[k].name), params + vae_param_table[k].offset);
  return 0;
}

int
safetensors_read_lightvae (const char *path, float *params,
    SafetensorsFile ** out_file, char *detail, size_t detail_size)
{
  SafetensorsFile *f = NULL;
  int ret;

  if (out_file != NULL)
    *out_file = NULL;
  ret = safetensors_read_file (path, &f, detail, detail_size);
  if (ret != 0)
    return ret;
  ret = safetensors_load_lightvae (f, params, detail, detail_size);
  if (ret == 0 && out_file != NULL)
    *out_file = f;
  else
    safetensors_free (f);
  return ret;
}

int
safetensors_write_lightvae (const char *path, const float *params,
    const SafetensorsMeta * meta, size_t n_meta)
{
  static const SafetensorsMeta fixed[3] = {
    {"arch", "LightVAE"}, {"beat_length", "256"}, {"latent_dims", "2"}
  };
  SafetensorsWriteTensor t[VAE_N_TENSORS];
  uint64_t shapes[VAE_N_TENSORS][VAE_MAX_DIMS];
  SafetensorsMeta *all;
  size_t n_all = 0, i;
  int k, d, ret;

  if (path == NULL || params == NULL || (n_meta > 0 && meta == NULL))
    return SAFETENSORS_ERR_INVALID_ARG;
  all = malloc ((n_meta + 3) * sizeof (*all));
  if (all == NULL)
    return SAFETENSORS_ERR_NOMEM;
  for (k = 0; k < 3; k++) {
    int given = 0;

    for (i = 0; i < n_meta; i++)
      if (meta[i].key != NULL && strcmp (meta[i].key, fixed[k].key) == 0)
        given = 1;
    if (!given)
      all[n_all++] = fixed[k];
  }
  for (i = 0; i < n_meta; i++)
    all[n_all++] = meta[i];
  for (k = 0; k < VAE_N_TENSORS; k++) {
    const VaeParamInfo *pi = &vae_param_table[k];

    for (d = 0; d < pi->ndim; d++)
      shapes[k][d] = (uint64_t) pi->shape[d];
    t[k].name = pi->name;
    t[k].ndim = pi->ndim;
    t[k].shape = shapes[k];
    t[k].data = params + pi->offset;
  }
  ret = safetensors_write_file (path, t, VAE_N_TENSORS, all, n_all);
  free (all);
  return ret;
}

/* safetensors reading and writing (float32 only), with a self-contained
 * JSON parser.
 *
 * File format: an 8-byte little-endian header length N, N bytes of UTF-8
 * JSON (padded with spaces), then the raw tensor data.  The JSON object maps
 * each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, the
 * offsets relative to the start of the data; an optional "__metadata__"
 * maps strings to strings.
 *
 * No GLib or GStreamer types here: plain C99.
 */

#ifndef __ECG_KERNELS_SAFETENSORS_H__
#define __ECG_KERNELS_SAFETENSORS_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAFETENSORS_MAX_DIMS         8
/* As the Rust library: larger headers are refused */
#define SAFETENSORS_MAX_HEADER_SIZE  100000000
#define SAFETENSORS_MAX_DEPTH        64

/* Status codes: each failure of a check has its own */
#define SAFETENSORS_OK                 0
#define SAFETENSORS_ERR_INVALID_ARG   -1    /* programmer error */
#define SAFETENSORS_ERR_IO            -2    /* open, read or write failed */
#define SAFETENSORS_ERR_NOMEM         -3
#define SAFETENSORS_ERR_EMPTY         -4    /* zero-byte file */
#define SAFETENSORS_ERR_TRUNCATED     -5    /* < 8 bytes, or data cut short */
#define SAFETENSORS_ERR_HEADER_SIZE   -6    /* header length > file or limit */
#define SAFETENSORS_ERR_JSON          -7    /* header is not JSON / UTF-8 */
#define SAFETENSORS_ERR_HEADER        -8    /* JSON, but not a valid header */
#define SAFETENSORS_ERR_DUPLICATE     -9    /* a key appears twice */
#define SAFETENSORS_ERR_DTYPE         -10   /* dtype other than F32 */
#define SAFETENSORS_ERR_SIZE          -11   /* shape product * 4 != bytes */
#define SAFETENSORS_ERR_OFFSETS       -12   /* out of range, overlap, gap */
#define SAFETENSORS_ERR_MISSING       -13   /* an expected tensor is absent */
#define SAFETENSORS_ERR_UNEXPECTED    -14   /* a tensor nobody expects */
#define SAFETENSORS_ERR_SHAPE         -15   /* not the model's shape */
#define SAFETENSORS_ERR_METADATA      -16   /* metadata contradicts model */

typedef struct
{
  const char *key;
  const char *value;
} SafetensorsMeta;

typedef struct
{
  char *name;
  int ndim;
  uint64_t shape[SAFETENSORS_MAX_DIMS];
  uint64_t begin, end;          /* byte offsets into the data section */
  const uint8_t *data;          /* begin of the bytes, not aligned */
} SafetensorsTensor;

typedef struct
{
  uint8_t *buf;                 /* the whole file */
  size_t size;
  size_t n_tensors;
  SafetensorsTensor *tensors;   /* in header order */
  size_t n_meta;
  SafetensorsMeta *meta;        /* in header order; strings owned here */
} SafetensorsFile;

typedef struct
{
  const char *name;
  int ndim;
  const uint64_t *shape;
  const float *data;            /* product of shape floats */
} SafetensorsWriteTensor;

const char *safetensors_strerror (int status);

/* Parses and validates @size bytes at @data (copied).  On success *out
 * (transfer full) is freed with safetensors_free ().  @detail (nullable)
 * receives a message naming the offending tensor or key on failure. */
int safetensors_parse (const void *data, size_t size, SafetensorsFile ** out,
    char *detail, size_t detail_size);

/* safetensors_parse () on the contents of @path */
int safetensors_read_file (const char *path, SafetensorsFile ** out,
    char *detail, size_t detail_size);

void safetensors_free (SafetensorsFile * file);

/* (transfer none) (nullable) */
const SafetensorsTensor *safetensors_find (const SafetensorsFile * file,
    const char *name);
/* (transfer none) (nullable) */
const char *safetensors_get_metadata (const SafetensorsFile * file,
    const char *key);

uint64_t safetensors_tensor_numel (const SafetensorsTensor * t);
/* Copies the tensor's little-endian floats into dst (numel floats) */
void safetensors_tensor_to_f32 (const SafetensorsTensor * t, float *dst);

/* The file: tensors sorted by name (bytewise, as the Python library does
 * for a single dtype), "__metadata__" first when n_meta > 0, compact JSON
 * padded with spaces so the data starts 8-byte aligned.  *out (transfer
 * full) is freed with free (). */
int safetensors_serialize (const SafetensorsWriteTensor * tensors, size_t n,
    const SafetensorsMeta * meta, size_t n_meta, uint8_t ** out,
    size_t * out_size);

/* safetensors_serialize () to "<path>.tmp", then renamed to @path */
int safetensors_write_file (const char *path,
    const SafetensorsWriteTensor * tensors, size_t n,
    const SafetensorsMeta * meta, size_t n_meta);

/* LightVAE parameters (vae.h's vae_param_table, VAE_N_PARAMS floats):
 * every table name must be present with its exact shape and no other
 * tensor may be; metadata arch, beat_length and latent_dims, where present,
 * must say LightVAE, 256 and 2. */
int safetensors_load_lightvae (const SafetensorsFile * file, float *params,
    char *detail, size_t detail_size);

/* Reads @path into @params; *out_file (nullable, transfer full) keeps the
 * parsed file for its metadata */
int safetensors_read_lightvae (const char *path, float *params,
    SafetensorsFile ** out_file, char *detail, size_t detail_size);

/* Writes @params with @meta; arch=LightVAE, beat_length=256 and
 * latent_dims=2 are added unless @meta has those keys */
int safetensors_write_lightvae (const char *path, const float *params,
    const SafetensorsMeta * meta, size_t n_meta);

#ifdef __cplusplus
}
#endif

#endif /* __ECG_KERNELS_SAFETENSORS_H__ */

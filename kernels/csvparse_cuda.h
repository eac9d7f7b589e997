/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CSV parsing on the GPU (kernels/csvparse.cu; built with the meson option
 * cuda): a block of CSV text already in device memory becomes the floats
 * of one column, in line order, in device memory.  Plain C, no CUDA types.
 *
 * The device parses the common lines exactly as csv_parse_block () does
 * (each value is (float) strtod of its text, see csvfloat.h) and marks the
 * others as needing the CPU: a '"' anywhere before the end of the selected
 * field (or anywhere in the line when n_columns >= 0), a field that is not
 * [blanks] [+-] digits [. digits] [(e|E) [+-] digits] [blanks] (nan, inf,
 * hex, quotes, a UTF-8 BOM, other text), a value that overflows float, a
 * ragged line, a '\r' other than the one before "\n", and the rare texts
 * of more than 19 significant digits whose float the fast algorithm cannot
 * decide.  The caller then parses the block (or, at least, the text from
 * first_cpu_offset on) with csv_parse_block ().
 *
 * Blank lines (nothing but spaces, tabs and a "\r" before the "\n") give no
 * value and are skipped; csv_parse_block () reports them as
 * CSV_ERR_EMPTY_LINE, which a reader skips.  So when n_cpu is 0 the values
 * are exactly those of csv_parse_block () over the block with
 * CSV_ERR_EMPTY_LINE lines skipped, and no other line error.
 *
 * The text holds complete lines, the first starting at buf[0] (no header,
 * no BOM: the caller skips those).  A last line without "\n" counts as
 * complete (as csv_parse_block () with at_eof).  Lines end in "\n" or
 * "\r\n".
 *
 * Device work, all on the caller's stream: one thread per 16 bytes sums
 * its bytes into a small line-start state; a scan (cub::DeviceScan with an
 * associative operator over those states) gives each chunk the index of
 * the first value line that starts in it; the same threads walk their
 * bytes again and parse each line that starts there (first significant
 * byte) into out[index]; a line needing the CPU gets a NaN there.  Then
 * the counts come back to the host (pinned memory, asynchronously).
 */
#ifndef CSVPARSE_CUDA_H
#define CSVPARSE_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest block of text one call takes (bytes) */
#define CSV_CUDA_MAX_LEN ((size_t) 1 << 31)

/* Device scratch and the pinned result of one block in flight */
typedef struct CsvCuda CsvCuda;

/* What one csv_parse_block_cuda () call found */
typedef struct
{
  uint64_t n_values;         /* value lines (non-blank lines) in the block;
                              * out[i] is set for i < min (n_values,
                              * max_out) */
  uint64_t n_cpu;            /* value lines the device did not parse (NaN in
                              * out): if nonzero, parse on the CPU */
  uint64_t first_cpu;        /* index of the first of them (n_values if
                              * none): out[0 .. first_cpu) are exact */
  uint64_t first_cpu_offset; /* byte offset of its line's start (len if
                              * none): csv_parse_block () resumes there */
  uint64_t n_newlines;       /* "\n" bytes in the block (blank lines
                              * included), for a reader's line numbers */
} CsvCudaResult;

/* Allocates the scratch for blocks of up to max_len bytes on the current
 * device (cudaSetDevice) and a pinned result.  Returns ECG_CUDA_OK and
 * *ctx (transfer full: csv_cuda_free), ECG_CUDA_ERR_INVALID_ARG
 * (max_len > CSV_CUDA_MAX_LEN or ctx NULL) or ECG_CUDA_ERR_RUNTIME. */
int  csv_cuda_new                (size_t max_len, CsvCuda ** ctx);

/* Frees ctx (NULL is fine); the caller has synchronised its stream */
void csv_cuda_free               (CsvCuda * ctx);

/* Queues the parse of [buf, buf + len) (device memory) on `stream` (a
 * cudaStream_t; NULL: the legacy default stream) into the device floats
 * out[0 .. max_out): column `column` (from 0) of lines of `n_columns`
 * fields (-1: any number above column).  Returns at once; the result
 * is read with csv_parse_block_cuda_wait (), before the next call on this
 * ctx.  len <= the max_len of csv_cuda_new.  Returns ECG_CUDA_OK,
 * ECG_CUDA_ERR_INVALID_ARG or ECG_CUDA_ERR_RUNTIME. */
int  csv_parse_block_cuda_async  (CsvCuda * ctx, const char * buf,
                                  size_t len, int column, int n_columns,
                                  float * out, size_t max_out,
                                  void * stream);

/* Waits for the stream of the last csv_parse_block_cuda_async () call and
 * fills res.  Returns ECG_CUDA_OK, ECG_CUDA_ERR_INVALID_ARG (nothing
 * queued) or ECG_CUDA_ERR_RUNTIME. */
int  csv_parse_block_cuda_wait   (CsvCuda * ctx, CsvCudaResult * res);

/* Both: queues the parse and waits for it */
int  csv_parse_block_cuda        (CsvCuda * ctx, const char * buf,
                                  size_t len, int column, int n_columns,
                                  float * out, size_t max_out,
                                  CsvCudaResult * res, void * stream);

#ifdef __cplusplus
}
#endif
#endif /* CSVPARSE_CUDA_H */

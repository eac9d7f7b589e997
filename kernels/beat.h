/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Beat embedding: a beat is the raw signal from one gate to the next, as a
 * fixed-length row.
 */
#ifndef BEAT_H
#define BEAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* row[j] = seg[j] for j < min(len, row_len), 0 after: the segment
 * zero-padded or cut to row_len. */
void beat_embed_f32_ref (const float *seg, size_t len, float *row,
    size_t row_len);

/* CUDA twin (kernels/beat.cu; built with the meson option cuda): a batch
 * of k rows from a device ring (or linear) buffer of ring_len samples.
 * Row r is beat_embed_f32_ref of the segment of lens[r] samples that starts
 * at ring[starts[r] % ring_len] and wraps at ring_len (lens[r] <= ring_len).
 * ring, starts, lens and rows (k x row_len, row-major) are device pointers;
 * `stream` is a cudaStream_t.  Returns 0 or an ECG_CUDA_ERR_* status
 * (cudadev.h).  Asynchronous. */
int beat_embed_rows_f32_cuda (const float *ring, size_t ring_len,
    const uint64_t * starts, const uint32_t * lens, size_t k, float *rows,
    size_t row_len, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* BEAT_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Beat embedding: a beat is the raw signal from one gate to the next, as a
 * fixed-length row.
 */
#ifndef BEAT_H
#define BEAT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* row[j] = seg[j] for j < min(len, row_len), 0 after: the segment
 * zero-padded or cut to row_len. */
void beat_embed_f32_ref (const float *seg, size_t len, float *row,
    size_t row_len);

#ifdef __cplusplus
}
#endif
#endif /* BEAT_H */

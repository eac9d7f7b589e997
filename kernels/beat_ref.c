/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#include <string.h>

#include "beat.h"

void
beat_embed_f32_ref (const float *seg, size_t len, float *row, size_t row_len)
{
  size_t n = len < row_len ? len : row_len;

  memcpy (row, seg, n * sizeof (float));
  memset (row + n, 0, (row_len - n) * sizeof (float));
}

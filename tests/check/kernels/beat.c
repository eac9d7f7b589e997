/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#include "ecgtest.h"
#include "beat.h"

int
main (void)
{
  float seg[300], row[256], expect[256];
  size_t lens[] = { 0, 1, 100, 255, 256, 257, 300 };
  size_t i, j;
  int fails = 0;

  for (i = 0; i < 300; i++)
    seg[i] = (float) i + 0.5f;
  for (i = 0; i < sizeof (lens) / sizeof (lens[0]); i++) {
    for (j = 0; j < 256; j++) {
      row[j] = -1.0f;
      expect[j] = j < lens[i] ? seg[j] : 0.0f;
    }
    beat_embed_f32_ref (seg, lens[i], row, 256);
    fails += ecg_test_compare_floats (row, expect, 256, 0, 0, "beat row") >= 0;
  }
  printf ("%s\n", fails ? "FAIL" : "PASS");
  return fails ? 1 : 0;
}

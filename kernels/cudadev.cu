/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Device discovery.  The runtime is linked statically, so this code loads
 * everywhere; without a driver cudaGetDeviceCount () fails
 * (cudaErrorInsufficientDriver, cudaErrorNoDevice, ...) and we report 0.
 */
#include "cudacheck.h"

extern "C" int ecg_cuda_device_count_impl (void);

extern "C" int
ecg_cuda_device_count_impl (void)
{
  int n = 0;

  if (cudaGetDeviceCount (&n) != cudaSuccess) {
    /* clear the sticky last error; no device is not a failure here */
    cudaGetLastError ();
    return 0;
  }
  return n < 0 ? 0 : n;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * For the .cu files of kernels/ only (it includes cuda_runtime.h).
 *
 * ECG_CUDA_CHECK (call) evaluates a CUDA runtime call; on failure it logs
 * the error's name and string with the call site (file, line, function),
 * as gst_cuda_result () does, and yields ECG_CUDA_ERR_RUNTIME, else 0:
 *
 *   if ((ret = ECG_CUDA_CHECK (cudaGetLastError ())) != 0)
 *     return ret;
 */
#ifndef ECG_CUDACHECK_H
#define ECG_CUDACHECK_H

#include <cuda_runtime.h>

#include "cudadev.h"

static inline int
ecg_cuda_check_result (cudaError_t err, const char *what, const char *file,
    int line, const char *function)
{
  if (err == cudaSuccess)
    return ECG_CUDA_OK;
  ecg_cuda_log (file, line, function, "%s: %s (%s)", what,
      cudaGetErrorName (err), cudaGetErrorString (err));
  return ECG_CUDA_ERR_RUNTIME;
}

#define ECG_CUDA_CHECK(call) \
    ecg_cuda_check_result ((call), #call, __FILE__, __LINE__, __func__)

/* Launches are checked through cudaGetLastError () right after them */
#define ECG_CUDA_CHECK_LAUNCH() ECG_CUDA_CHECK (cudaGetLastError ())

#define ECG_CUDA_STREAM(s) ((cudaStream_t) (s))

#endif /* ECG_CUDACHECK_H */

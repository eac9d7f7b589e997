/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Device discovery.  The runtime is linked statically, so this code loads
 * everywhere; without a driver cudaGetDeviceCount () fails
 * (cudaErrorInsufficientDriver, cudaErrorNoDevice, ...) and we report 0.
 */
#include <stdio.h>

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

/* ---- memory, streams and copies (cudadev.h) ---- */

extern "C" int
ecg_cuda_set_device (int device)
{
  return ECG_CUDA_CHECK (cudaSetDevice (device));
}

extern "C" int
ecg_cuda_malloc (int device, size_t size, void **ptr)
{
  int ret;

  if (ptr == NULL)
    return ECG_CUDA_ERR_INVALID_ARG;
  *ptr = NULL;
  if ((ret = ECG_CUDA_CHECK (cudaSetDevice (device))) != 0)
    return ret;
  return ECG_CUDA_CHECK (cudaMalloc (ptr, size ? size : 1));
}

extern "C" int
ecg_cuda_free (int device, void *ptr)
{
  int ret;

  if (ptr == NULL)
    return ECG_CUDA_OK;
  if ((ret = ECG_CUDA_CHECK (cudaSetDevice (device))) != 0)
    return ret;
  return ECG_CUDA_CHECK (cudaFree (ptr));
}

extern "C" int
ecg_cuda_host_alloc (size_t size, void **ptr)
{
  if (ptr == NULL)
    return ECG_CUDA_ERR_INVALID_ARG;
  *ptr = NULL;
  return ECG_CUDA_CHECK (cudaMallocHost (ptr, size ? size : 1));
}

extern "C" int
ecg_cuda_host_free (void *ptr)
{
  return ptr ? ECG_CUDA_CHECK (cudaFreeHost (ptr)) : ECG_CUDA_OK;
}

extern "C" int
ecg_cuda_host_register (void *ptr, size_t size)
{
  if (ptr == NULL || size == 0)
    return ECG_CUDA_ERR_INVALID_ARG;
  return ECG_CUDA_CHECK (cudaHostRegister (ptr, size,
          cudaHostRegisterDefault));
}

extern "C" int
ecg_cuda_host_unregister (void *ptr)
{
  return ptr ? ECG_CUDA_CHECK (cudaHostUnregister (ptr)) : ECG_CUDA_OK;
}

static int
ecg_cuda_copy (void *dst, const void *src, size_t size, cudaMemcpyKind kind,
    void *stream)
{
  if (size == 0)
    return ECG_CUDA_OK;
  if (stream)
    return ECG_CUDA_CHECK (cudaMemcpyAsync (dst, src, size, kind,
            ECG_CUDA_STREAM (stream)));
  return ECG_CUDA_CHECK (cudaMemcpy (dst, src, size, kind));
}

extern "C" int
ecg_cuda_memcpy_h2d (void *dst, const void *src, size_t size, void *stream)
{
  return ecg_cuda_copy (dst, src, size, cudaMemcpyHostToDevice, stream);
}

extern "C" int
ecg_cuda_memcpy_d2h (void *dst, const void *src, size_t size, void *stream)
{
  return ecg_cuda_copy (dst, src, size, cudaMemcpyDeviceToHost, stream);
}

extern "C" int
ecg_cuda_memcpy_d2d (void *dst, const void *src, size_t size, void *stream)
{
  return ecg_cuda_copy (dst, src, size, cudaMemcpyDeviceToDevice, stream);
}

extern "C" int
ecg_cuda_memset (void *dst, int value, size_t size, void *stream)
{
  if (size == 0)
    return ECG_CUDA_OK;
  if (stream)
    return ECG_CUDA_CHECK (cudaMemsetAsync (dst, value, size,
            ECG_CUDA_STREAM (stream)));
  return ECG_CUDA_CHECK (cudaMemset (dst, value, size));
}

extern "C" int
ecg_cuda_stream_create (int device, void **stream)
{
  cudaStream_t s = NULL;
  int ret;

  if (stream == NULL)
    return ECG_CUDA_ERR_INVALID_ARG;
  *stream = NULL;
  if ((ret = ECG_CUDA_CHECK (cudaSetDevice (device))) != 0)
    return ret;
  if ((ret = ECG_CUDA_CHECK (cudaStreamCreateWithFlags (&s,
                  cudaStreamNonBlocking))) != 0)
    return ret;
  *stream = (void *) s;
  return ECG_CUDA_OK;
}

extern "C" int
ecg_cuda_stream_destroy (void *stream)
{
  return stream ? ECG_CUDA_CHECK (cudaStreamDestroy (ECG_CUDA_STREAM
          (stream))) : ECG_CUDA_OK;
}

extern "C" int
ecg_cuda_stream_sync (void *stream)
{
  return ECG_CUDA_CHECK (cudaStreamSynchronize (ECG_CUDA_STREAM (stream)));
}

extern "C" int
ecg_cuda_device_name (int device, char *name, size_t size)
{
  cudaDeviceProp prop;
  int ret;

  if (name == NULL || size == 0)
    return ECG_CUDA_ERR_INVALID_ARG;
  if ((ret = ECG_CUDA_CHECK (cudaGetDeviceProperties (&prop, device))) != 0)
    return ret;
  snprintf (name, size, "%s", prop.name);
  return ECG_CUDA_OK;
}

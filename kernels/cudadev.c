/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The part of cudadev.h that exists in every build.  With CUDA,
 * cudadev.cu provides ecg_cuda_device_count_impl (); without it the device
 * count is 0.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cudadev.h"

#ifdef ECG_KERNELS_CUDA
int ecg_cuda_device_count_impl (void);
#endif

static EcgCudaLogFunc log_func = NULL;
static void *log_user_data = NULL;

int
ecg_cuda_device_count (void)
{
#ifdef ECG_KERNELS_CUDA
  return ecg_cuda_device_count_impl ();
#else
  return 0;
#endif
}

int
ecg_cuda_built (void)
{
#ifdef ECG_KERNELS_CUDA
  return 1;
#else
  return 0;
#endif
}

const char *
ecg_cuda_strerror (int status)
{
  switch (status) {
    case ECG_CUDA_OK:
      return "success";
    case ECG_CUDA_ERR_INVALID_ARG:
      return "invalid argument";
    case -2:
      return "loss is not finite (training diverged)";
    case ECG_CUDA_ERR_NO_DEVICE:
      return "no CUDA device (or built without CUDA)";
    case ECG_CUDA_ERR_RUNTIME:
      return "a CUDA runtime call or kernel launch failed";
    default:
      return "unknown error";
  }
}

void
ecg_cuda_set_log_func (EcgCudaLogFunc func, void *user_data)
{
  log_func = func;
  log_user_data = user_data;
}

void
ecg_cuda_log (const char *file, int line, const char *function,
    const char *format, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, format);
  vsnprintf (msg, sizeof (msg), format, ap);
  va_end (ap);
  if (log_func != NULL)
    log_func (file, line, function, msg, log_user_data);
  else
    fprintf (stderr, "%s:%d:%s: %s\n", file, line, function, msg);
}

#ifndef ECG_KERNELS_CUDA
/* Built without CUDA: every device call says there is no device. */
int
ecg_cuda_set_device (int device)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_malloc (int device, size_t size, void **ptr)
{
  if (ptr)
    *ptr = NULL;
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_free (int device, void *ptr)
{
  return ptr ? ECG_CUDA_ERR_NO_DEVICE : ECG_CUDA_OK;
}

int
ecg_cuda_host_alloc (size_t size, void **ptr)
{
  if (ptr)
    *ptr = NULL;
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_host_free (void *ptr)
{
  return ptr ? ECG_CUDA_ERR_NO_DEVICE : ECG_CUDA_OK;
}

int
ecg_cuda_host_register (void *ptr, size_t size)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_host_unregister (void *ptr)
{
  return ptr ? ECG_CUDA_ERR_NO_DEVICE : ECG_CUDA_OK;
}

int
ecg_cuda_memcpy_h2d (void *dst, const void *src, size_t size, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_memcpy_d2h (void *dst, const void *src, size_t size, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_memcpy_d2d (void *dst, const void *src, size_t size, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_memset (void *dst, int value, size_t size, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_stream_create (int device, void **stream)
{
  if (stream)
    *stream = NULL;
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_stream_destroy (void *stream)
{
  return stream ? ECG_CUDA_ERR_NO_DEVICE : ECG_CUDA_OK;
}

int
ecg_cuda_stream_sync (void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

int
ecg_cuda_device_name (int device, char *name, size_t size)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * CUDA device discovery, status codes and error logging shared by the
 * kernels' CUDA twins (<family>.cu).  Plain C: no CUDA, GLib or GStreamer
 * types, so the plugin includes it in every build; without CUDA (meson
 * option cuda disabled, or no nvcc) ecg_cuda_device_count () returns 0.
 */
#ifndef ECG_CUDADEV_H
#define ECG_CUDADEV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes of the *_cuda functions.  0 and -1 have the meaning every
 * family gives them (ok, invalid argument); a family's own codes (such as
 * VAE_ERR_NONFINITE) lie between -1 and -99; CUDA failures are these. */
#define ECG_CUDA_OK                 0
#define ECG_CUDA_ERR_INVALID_ARG   -1
#define ECG_CUDA_ERR_NO_DEVICE   -100   /* built without CUDA, or no device */
#define ECG_CUDA_ERR_RUNTIME     -101   /* a CUDA runtime call or launch failed */

/* Number of usable CUDA devices: 0 when built without CUDA, when no driver
 * is installed, or on any error of the runtime (never logs). */
int ecg_cuda_device_count (void);

/* 1 when the kernels were compiled with CUDA */
int ecg_cuda_built (void);

/* A string for ECG_CUDA_OK, ECG_CUDA_ERR_* and -2 (VAE_ERR_NONFINITE);
 * static storage */
const char *ecg_cuda_strerror (int status);

/* Where the CUDA check macro sends a failure: the call site and one line of
 * text ("cudaMalloc (...): cudaErrorMemoryAllocation (out of memory)").
 * The default writes to stderr; the plugin routes it into its debug log. */
typedef void (*EcgCudaLogFunc) (const char *file, int line,
    const char *function, const char *message, void *user_data);

/* Sets the log function (NULL: back to stderr); process-wide, set it once
 * before any stream runs */
void ecg_cuda_set_log_func (EcgCudaLogFunc func, void *user_data);

/* Formats and sends one message to the log function (for kernels/ only) */
void ecg_cuda_log (const char *file, int line, const char *function,
    const char *format, ...) __attribute__ ((format (printf, 4, 5)));

/* Device memory, streams and copies, for the plugin's memory type (plain C,
 * no CUDA types).  Each returns ECG_CUDA_OK or a negative status; without
 * CUDA they return ECG_CUDA_ERR_NO_DEVICE.  `stream` is a cudaStream_t
 * (NULL: the legacy default stream).  The copies with a stream are
 * asynchronous; the others return when the copy is done. */
int ecg_cuda_set_device (int device);
int ecg_cuda_malloc (int device, size_t size, void **ptr);
int ecg_cuda_free (int device, void *ptr);
int ecg_cuda_host_alloc (size_t size, void **ptr);      /* pinned */
int ecg_cuda_host_free (void *ptr);
/* Page-locks [ptr, ptr + size) of ordinary host memory for asynchronous
 * copies (cudaHostRegister), until ecg_cuda_host_unregister (ptr) */
int ecg_cuda_host_register (void *ptr, size_t size);
int ecg_cuda_host_unregister (void *ptr);
int ecg_cuda_memcpy_h2d (void *dst, const void *src, size_t size,
    void *stream);
int ecg_cuda_memcpy_d2h (void *dst, const void *src, size_t size,
    void *stream);
int ecg_cuda_memcpy_d2d (void *dst, const void *src, size_t size,
    void *stream);
int ecg_cuda_memset (void *dst, int value, size_t size, void *stream);
int ecg_cuda_stream_create (int device, void **stream);
int ecg_cuda_stream_destroy (void *stream);
int ecg_cuda_stream_sync (void *stream);
/* Name of the device (at most size bytes with the NUL) */
int ecg_cuda_device_name (int device, char *name, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* ECG_CUDADEV_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The kernels' CUDA twins as the elements call them.  With CUDA (meson
 * option cuda) these are the kernels/ functions; without it they do not
 * exist, and the same names become stubs that return
 * ECG_CUDA_ERR_NO_DEVICE, so the elements' CUDA paths compile in every
 * build without #if (they never run there: the device count is 0).
 */
#ifndef __GST_ECG_CUDA_KERNELS_H__
#define __GST_ECG_CUDA_KERNELS_H__

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "cudadev.h"
#include "ricker.h"
#include "beat.h"
#include "vae.h"
#include "score.h"
#include "csvparse_cuda.h"

#if !HAVE_CUDA
static inline size_t
ecg_stub_ricker_conv_f32_cuda_workspace_size (int taps)
{
  return 0;
}

static inline int
ecg_stub_ricker_conv_f32_cuda (const double *w, int taps, float *history,
    const float *x, float *y, size_t n, void *workspace, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline int
ecg_stub_beat_embed_rows_f32_cuda (const float *ring, size_t ring_len,
    const uint64_t * starts, const uint32_t * lens, size_t k, float *rows,
    size_t row_len, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline int
ecg_stub_vae_score_cuda (const float *params, const float *x, size_t batch,
    float *mu, float *logvar, float *recon, float *err, void *workspace,
    void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline size_t
ecg_stub_vae_train_cuda_workspace_size (size_t n_beats, size_t batch_size)
{
  return 0;
}

static inline size_t
ecg_stub_vae_train_cuda_host_workspace_size (size_t n_beats)
{
  return 0;
}

static inline int
ecg_stub_vae_train_epoch_cuda (VaeTrainState * st, const float *beats,
    size_t n_beats, void *workspace, void *host_workspace,
    double *mean_loss, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline int
ecg_stub_score_prepare_rows_cuda (float *rows, size_t n, size_t len,
    int *nonfinite, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline int
ecg_stub_csv_cuda_new (size_t max_len, CsvCuda ** ctx)
{
  *ctx = NULL;
  return ECG_CUDA_ERR_NO_DEVICE;
}

static inline void
ecg_stub_csv_cuda_free (CsvCuda * ctx)
{
}

static inline int
ecg_stub_csv_parse_block_cuda (CsvCuda * ctx, const char *buf, size_t len,
    int column, int n_columns, float *out, size_t max_out,
    CsvCudaResult * res, void *stream)
{
  return ECG_CUDA_ERR_NO_DEVICE;
}

#define ricker_conv_f32_cuda_workspace_size \
    ecg_stub_ricker_conv_f32_cuda_workspace_size
#define ricker_conv_f32_cuda ecg_stub_ricker_conv_f32_cuda
#define beat_embed_rows_f32_cuda ecg_stub_beat_embed_rows_f32_cuda
#define vae_score_cuda ecg_stub_vae_score_cuda
#define vae_train_cuda_workspace_size ecg_stub_vae_train_cuda_workspace_size
#define vae_train_cuda_host_workspace_size \
    ecg_stub_vae_train_cuda_host_workspace_size
#define vae_train_epoch_cuda ecg_stub_vae_train_epoch_cuda
#define score_prepare_rows_cuda ecg_stub_score_prepare_rows_cuda
#define csv_cuda_new ecg_stub_csv_cuda_new
#define csv_cuda_free ecg_stub_csv_cuda_free
#define csv_parse_block_cuda ecg_stub_csv_parse_block_cuda
#endif /* !HAVE_CUDA */

#endif /* __GST_ECG_CUDA_KERNELS_H__ */

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Public metas of the ecg plugin.  Applications include this header to read
 * the gates attached by nmsgate and the beat records attached by beatembed
 * (and carried over by vaescore).  The metas are registered by the plugin;
 * the inline getters below look them up by name, so an application does not
 * link against the plugin.
 */
#ifndef __ECG_META_H__
#define __ECG_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * EcgGate:
 * @gate: absolute sample index of the gate (start of the beat window)
 * @rpeak: absolute sample index of the estimated R peak
 *
 * Sample indices count from the start of the stream (buffer OFFSET space).
 */
typedef struct
{
  guint64 gate;
  guint64 rpeak;
} EcgGate;

/**
 * EcgGateMeta:
 * @meta: parent
 * @n_gates: number of entries in @gates
 * @gates: the gates decided while this buffer was processed; they may lie
 *     before the buffer's first sample (the detector looks ahead)
 */
typedef struct
{
  GstMeta meta;
  guint n_gates;
  EcgGate *gates;
} EcgGateMeta;

/**
 * EcgBeatFlags:
 * @ECG_BEAT_FLAG_SHORT: shorter than beatembed's min-length
 * @ECG_BEAT_FLAG_LONG: longer than beatembed's max-length (the row is cut)
 * @ECG_BEAT_FLAG_TAIL: closed by the end of the stream, not by a gate
 * @ECG_BEAT_FLAG_TRUNCATED: the true length exceeds the row length
 */
typedef enum
{
  ECG_BEAT_FLAG_NONE = 0,
  ECG_BEAT_FLAG_SHORT = (1 << 0),
  ECG_BEAT_FLAG_LONG = (1 << 1),
  ECG_BEAT_FLAG_TAIL = (1 << 2),
  ECG_BEAT_FLAG_TRUNCATED = (1 << 3),
} EcgBeatFlags;

/**
 * EcgBeat:
 * @start: absolute sample index of the beat's first sample (its gate)
 * @length: true length in samples (the row may be cut or zero-padded)
 * @rpeak: absolute sample index of the estimated R peak
 * @rr: samples from the previous beat's R peak to this one, 0 if unknown
 * @flags: #EcgBeatFlags
 */
typedef struct
{
  guint64 start;
  guint32 length;
  guint32 flags;
  guint64 rpeak;
  guint64 rr;
} EcgBeat;

/**
 * EcgBeatMeta:
 * @meta: parent
 * @n_beats: number of beats, equal to the rows of the buffer
 * @beats: one record per row
 */
typedef struct
{
  GstMeta meta;
  guint n_beats;
  EcgBeat *beats;
} EcgBeatMeta;

#define ECG_GATE_META_API_NAME "EcgGateMetaAPI"
#define ECG_BEAT_META_API_NAME "EcgBeatMetaAPI"

/**
 * ecg_gate_meta_api_get_type:
 *
 * Returns: the gate meta API type, or 0 while the plugin is not loaded
 */
static inline GType
ecg_gate_meta_api_get_type (void)
{
  return g_type_from_name (ECG_GATE_META_API_NAME);
}

/**
 * ecg_beat_meta_api_get_type:
 *
 * Returns: the beat meta API type, or 0 while the plugin is not loaded
 */
static inline GType
ecg_beat_meta_api_get_type (void)
{
  return g_type_from_name (ECG_BEAT_META_API_NAME);
}

/**
 * ecg_buffer_get_gate_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the gate meta of @buffer
 */
static inline EcgGateMeta *
ecg_buffer_get_gate_meta (GstBuffer * buffer)
{
  GType api = ecg_gate_meta_api_get_type ();

  return api ? (EcgGateMeta *) gst_buffer_get_meta (buffer, api) : NULL;
}

/**
 * ecg_buffer_get_beat_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the beat meta of @buffer
 */
static inline EcgBeatMeta *
ecg_buffer_get_beat_meta (GstBuffer * buffer)
{
  GType api = ecg_beat_meta_api_get_type ();

  return api ? (EcgBeatMeta *) gst_buffer_get_meta (buffer, api) : NULL;
}

/* Caps of the beat stream: a buffer holds K rows of `length` floats. */
#define ECG_BEATS_CAPS_NAME "application/x-ecg-beats"

/* Caps of the score stream: a buffer holds K records of
 * ECG_SCORE_RECORD_FLOATS (latent-dims) floats: mu[D], logvar[D], the
 * reconstruction error (mean squared error of decode (mu)), the outlier
 * score, and the outlier flag (0 or 1).  The beat meta of the beats buffer
 * is carried over, one record per beat. */
#define ECG_SCORES_CAPS_NAME "application/x-ecg-scores"
#define ECG_SCORE_RECORD_FLOATS(d) (2 * (d) + 3)
#define ECG_SCORE_ERROR(d) (2 * (d))
#define ECG_SCORE_SCORE(d) (2 * (d) + 1)
#define ECG_SCORE_OUTLIER(d) (2 * (d) + 2)

G_END_DECLS

#endif /* __ECG_META_H__ */

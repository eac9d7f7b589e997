/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_ECG_UTILS_H__
#define __GST_ECG_UTILS_H__

#include <gst/gst.h>
#include "ecg/ecgmeta.h"

G_BEGIN_DECLS

GType ecg_gate_meta_api_register (void);
GType ecg_beat_meta_api_register (void);

EcgGateMeta *ecg_buffer_add_gate_meta (GstBuffer * buffer,
    const EcgGate * gates, guint n_gates);
EcgBeatMeta *ecg_buffer_add_beat_meta (GstBuffer * buffer,
    const EcgBeat * beats, guint n_beats);

/* The largest sample rate any element accepts, in Hz. */
#define ECG_MAX_RATE 100000

G_END_DECLS

#endif /* __GST_ECG_UTILS_H__ */

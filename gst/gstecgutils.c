/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Glue shared by several elements: the gate and beat metas.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstecgutils.h"

typedef struct
{
  GstMeta meta;
  guint n;
  gpointer items;
} EcgArrayMeta;

static gboolean
ecg_array_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  EcgArrayMeta *m = (EcgArrayMeta *) meta;

  m->n = 0;
  m->items = NULL;
  return TRUE;
}

static void
ecg_array_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  EcgArrayMeta *m = (EcgArrayMeta *) meta;

  g_clear_pointer (&m->items, g_free);
  m->n = 0;
}

static gboolean
ecg_array_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data, gsize item_size)
{
  EcgArrayMeta *src = (EcgArrayMeta *) meta;
  EcgArrayMeta *dst;

  /* The records describe samples or rows by absolute index, so they stay
   * true through a copy; any other transform (a region of the buffer)
   * drops them. */
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;

  dst = (EcgArrayMeta *) gst_buffer_add_meta (dest, meta->info, NULL);
  if (!dst)
    return FALSE;
  dst->n = src->n;
  dst->items = g_memdup2 (src->items, (gsize) src->n * item_size);
  return TRUE;
}

static gboolean
ecg_gate_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  return ecg_array_meta_transform (dest, meta, buffer, type, data,
      sizeof (EcgGate));
}

static gboolean
ecg_beat_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  return ecg_array_meta_transform (dest, meta, buffer, type, data,
      sizeof (EcgBeat));
}

/**
 * ecg_gate_meta_api_register:
 *
 * Returns: the gate meta API type, registered on first use
 */
GType
ecg_gate_meta_api_register (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register (ECG_GATE_META_API_NAME, tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * ecg_beat_meta_api_register:
 *
 * Returns: the beat meta API type, registered on first use
 */
GType
ecg_beat_meta_api_register (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register (ECG_BEAT_META_API_NAME, tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static const GstMetaInfo *
ecg_gate_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (ecg_gate_meta_api_register (), "EcgGateMeta",
        sizeof (EcgGateMeta), ecg_array_meta_init, ecg_array_meta_free,
        ecg_gate_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

static const GstMetaInfo *
ecg_beat_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (ecg_beat_meta_api_register (), "EcgBeatMeta",
        sizeof (EcgBeatMeta), ecg_array_meta_init, ecg_array_meta_free,
        ecg_beat_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * ecg_buffer_add_gate_meta:
 * @buffer: a writable #GstBuffer
 * @gates: (array length=n_gates): the gates, copied
 * @n_gates: how many
 *
 * Returns: (transfer none): the new meta
 */
EcgGateMeta *
ecg_buffer_add_gate_meta (GstBuffer * buffer, const EcgGate * gates,
    guint n_gates)
{
  EcgGateMeta *m;

  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (EcgGateMeta *) gst_buffer_add_meta (buffer, ecg_gate_meta_get_info (),
      NULL);
  m->n_gates = n_gates;
  m->gates = n_gates ? g_memdup2 (gates, n_gates * sizeof (EcgGate)) : NULL;
  return m;
}

/**
 * ecg_buffer_add_beat_meta:
 * @buffer: a writable #GstBuffer
 * @beats: (array length=n_beats): the beat records, copied
 * @n_beats: how many
 *
 * Returns: (transfer none): the new meta
 */
EcgBeatMeta *
ecg_buffer_add_beat_meta (GstBuffer * buffer, const EcgBeat * beats,
    guint n_beats)
{
  EcgBeatMeta *m;

  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (EcgBeatMeta *) gst_buffer_add_meta (buffer, ecg_beat_meta_get_info (),
      NULL);
  m->n_beats = n_beats;
  m->beats = n_beats ? g_memdup2 (beats, n_beats * sizeof (EcgBeat)) : NULL;
  return m;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * Glue shared by several elements: the gate and beat metas, the backend
 * choice and each element's GPU state (device, stream, allocator), and the
 * caps with and without the memory:CUDAMemory feature.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstecgutils.h"
#include "gstecgcudamemory.h"
#include "cudadev.h"

GST_DEBUG_CATEGORY_STATIC (ecg_cuda_debug);
#define GST_CAT_DEFAULT ecg_cuda_debug

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

/**
 * gst_ecg_backend_get_type:
 *
 * Returns: the #GstEcgBackend enum type, registered on first use
 */
GType
gst_ecg_backend_get_type (void)
{
  static GType type = 0;
  /* *INDENT-OFF* */
  static const GEnumValue values[] = {
    {GST_ECG_BACKEND_AUTO, "CUDA when a device is present, else the CPU",
        "auto"},
    {GST_ECG_BACKEND_CPU, "The CPU", "cpu"},
    {GST_ECG_BACKEND_CUDA, "CUDA (fails to start without a device)",
        "cuda"},
    {0, NULL, NULL},
  };
  /* *INDENT-ON* */

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstEcgBackend", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * ecg_install_backend_properties:
 * @klass: an element class
 * @backend_prop_id: the id for "backend"
 * @device_prop_id: the id for "cuda-device-id"
 *
 * Installs the two properties every element of the plugin has; the caller
 * documents them and marks GST_TYPE_ECG_BACKEND as plugin API.
 */
void
ecg_install_backend_properties (GObjectClass * klass, guint backend_prop_id,
    guint device_prop_id)
{
  g_object_class_install_property (klass, backend_prop_id,
      g_param_spec_enum ("backend", "Backend",
          "Where to compute: auto (CUDA when a device is present), cpu or "
          "cuda", GST_TYPE_ECG_BACKEND, ECG_DEFAULT_BACKEND,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, device_prop_id,
      g_param_spec_int ("cuda-device-id", "CUDA device ID",
          "Index of the CUDA device to use (-1 = automatic, device 0)", -1,
          ECG_MAX_CUDA_DEVICE_ID, ECG_DEFAULT_CUDA_DEVICE_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

static void
ecg_cuda_log_to_gst (const char *file, int line, const char *function,
    const char *message, void *user_data)
{
  gst_debug_log (ecg_cuda_debug, GST_LEVEL_ERROR, file, function, line, NULL,
      "%s", message);
}

/**
 * ecg_cuda_route_log:
 *
 * Sends the kernels' CUDA failure messages to the "ecgcuda" debug
 * category instead of stderr.  Called once from plugin_init.
 */
void
ecg_cuda_route_log (void)
{
  GST_DEBUG_CATEGORY_INIT (ecg_cuda_debug, "ecgcuda", 0,
      "CUDA devices, streams and kernel failures");
  ecg_cuda_set_log_func (ecg_cuda_log_to_gst, NULL);
}

/* backend=auto follows the environment variable ECG_BACKEND when it says
 * "cpu" or "cuda" (test and deployment set-ups force one path that way,
 * as the CPU tests do); an explicit backend wins. */
static GstEcgBackend
ecg_backend_effective (GstEcgBackend backend)
{
  const gchar *env;

  if (backend != GST_ECG_BACKEND_AUTO)
    return backend;
  env = g_getenv ("ECG_BACKEND");
  if (g_strcmp0 (env, "cpu") == 0)
    return GST_ECG_BACKEND_CPU;
  if (g_strcmp0 (env, "cuda") == 0)
    return GST_ECG_BACKEND_CUDA;
  return backend;
}

/**
 * ecg_cuda_context_open:
 * @ctx: (out caller-allocates): the GPU state to fill
 * @element: the element, for errors
 * @backend: the "backend" property
 * @device_id: the "cuda-device-id" property (-1 = automatic)
 *
 * Resolves the backend in start (): cpu, or auto without a device, leaves
 * @ctx inactive (the CPU path); otherwise selects the device, creates the
 * element's stream and takes the device's allocator.  Posts one error
 * (RESOURCE/NOT_FOUND when backend=cuda finds no device, LIBRARY/INIT when
 * the CUDA runtime fails) and returns FALSE on failure.
 *
 * Returns: whether the element can start
 */
gboolean
ecg_cuda_context_open (EcgCudaContext * ctx, GstElement * element,
    GstEcgBackend backend, gint device_id)
{
  gint n, device, ret;
  gchar name[256];

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (GST_IS_ELEMENT (element), FALSE);

  ecg_cuda_context_init (ctx);
  ctx->resolved = TRUE;
  backend = ecg_backend_effective (backend);
  if (backend == GST_ECG_BACKEND_CPU) {
    GST_DEBUG_OBJECT (element, "backend cpu");
    return TRUE;
  }

  n = ecg_cuda_device_count ();
  device = device_id < 0 ? 0 : device_id;
  if (device >= n) {
    if (backend == GST_ECG_BACKEND_CUDA)
      goto no_device;
    GST_DEBUG_OBJECT (element, "backend auto: no CUDA device %d (%d found), "
        "running on the CPU", device, n);
    return TRUE;
  }

  if ((ret = ecg_cuda_stream_create (device, &ctx->stream)) != ECG_CUDA_OK)
    goto init_failed;
  ctx->device = device;
  ctx->allocator = ecg_cuda_allocator_get (device);
  if (ecg_cuda_device_name (device, name, sizeof (name)) != ECG_CUDA_OK)
    g_strlcpy (name, "?", sizeof (name));
  GST_INFO_OBJECT (element, "backend cuda: device %d (%s)", device, name);
  return TRUE;

  /* ERRORS */
no_device:
  {
    if (!ecg_cuda_built ())
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND, ("No CUDA device."),
          ("backend=cuda, but the plugin was built without CUDA"));
    else if (n == 0)
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND, ("No CUDA device."),
          ("backend=cuda, but the CUDA runtime finds no device (no GPU or "
              "no driver)"));
    else
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND, ("No CUDA device."),
          ("cuda-device-id=%d, but there are only %d CUDA devices",
              device_id, n));
    return FALSE;
  }
init_failed:
  {
    GST_ELEMENT_ERROR (element, LIBRARY, INIT,
        ("Could not initialise CUDA."),
        ("creating a stream on CUDA device %d: %s", device,
            ecg_cuda_strerror (ret)));
    return FALSE;
  }
}

/**
 * ecg_cuda_context_close:
 * @ctx: GPU state from ecg_cuda_context_open ()
 * @element: the element, for the log
 *
 * Waits for the stream, destroys it and drops the allocator; @ctx is
 * inactive afterwards.  Safe on an inactive @ctx.
 */
void
ecg_cuda_context_close (EcgCudaContext * ctx, GstElement * element)
{
  g_return_if_fail (ctx != NULL);

  if (ctx->stream) {
    if (ecg_cuda_stream_sync (ctx->stream) != ECG_CUDA_OK ||
        ecg_cuda_stream_destroy (ctx->stream) != ECG_CUDA_OK)
      GST_WARNING_OBJECT (element, "could not release the CUDA stream");
    ctx->stream = NULL;
  }
  gst_clear_object (&ctx->allocator);
  ctx->device = -1;
  ctx->resolved = FALSE;
}

/**
 * ecg_cuda_release:
 * @element: the element, for the log
 * @device: the device that holds the block
 * @ptr: (inout): a device pointer from ecg_cuda_malloc (), or NULL
 *
 * Frees the block at *@ptr and sets *@ptr to NULL.  For teardown paths,
 * which cannot fail: a CUDA failure is logged as a warning on @element.
 *
 * Returns: whether the block was freed
 */
gboolean
ecg_cuda_release (GstElement * element, gint device, gpointer * ptr)
{
  gint ret;

  if (*ptr == NULL)
    return TRUE;
  ret = ecg_cuda_free (device, *ptr);
  *ptr = NULL;
  if (ret != ECG_CUDA_OK) {
    GST_WARNING_OBJECT (element, "freeing device memory on device %d: %s",
        device, ecg_cuda_strerror (ret));
    return FALSE;
  }
  return TRUE;
}

/**
 * ecg_cuda_drain:
 * @element: the element, for the log
 * @stream: a cudaStream_t
 *
 * Waits until the work queued on @stream is done, before its memory is
 * freed or reused.  A failure is logged as a warning on @element.
 *
 * Returns: whether the stream finished without error
 */
gboolean
ecg_cuda_drain (GstElement * element, gpointer stream)
{
  gint ret = ecg_cuda_stream_sync (stream);

  if (ret != ECG_CUDA_OK) {
    GST_WARNING_OBJECT (element, "waiting for the CUDA stream: %s",
        ecg_cuda_strerror (ret));
    return FALSE;
  }
  return TRUE;
}

/**
 * ecg_cuda_context_init:
 * @ctx: (out caller-allocates): GPU state
 *
 * Makes @ctx inactive and unresolved (before start ()).
 */
void
ecg_cuda_context_init (EcgCudaContext * ctx)
{
  ctx->device = -1;
  ctx->stream = NULL;
  ctx->allocator = NULL;
  ctx->resolved = FALSE;
}

/**
 * ecg_cuda_context_wants_cuda:
 * @ctx: the element's GPU state
 * @element: the element
 * @backend: the element's "backend" field (read under its object lock)
 *
 * For caps queries, which may come before start (): after start, whether
 * the element runs on CUDA; before, whether it will (backend cuda, or
 * auto with a device present).
 *
 * Returns: whether to prefer memory:CUDAMemory
 */
gboolean
ecg_cuda_context_wants_cuda (EcgCudaContext * ctx, GstElement * element,
    const GstEcgBackend * backend)
{
  GstEcgBackend b;

  if (ctx->resolved)
    return ecg_cuda_context_active (ctx);
  GST_OBJECT_LOCK (element);
  b = ecg_backend_effective (*backend);
  GST_OBJECT_UNLOCK (element);
  if (b == GST_ECG_BACKEND_CPU)
    return FALSE;
  return b == GST_ECG_BACKEND_CUDA || ecg_cuda_device_count () > 0;
}

/**
 * ecg_transform_caps_memory:
 * @caps: (transfer full): the other pad's caps, as transform_caps made them
 * @cuda: whether the element runs (or will run) on CUDA
 * @direction: transform_caps' direction (the pad @caps came from)
 *
 * The memory a transform offers: on CUDA, memory:CUDAMemory first and
 * system memory (uploaded or downloaded) on both pads; on the CPU, system
 * memory out, and either in (CUDA input is mapped, a counted staging copy).
 *
 * Returns: (transfer full): @caps with the memory features set
 */
GstCaps *
ecg_transform_caps_memory (GstCaps * caps, gboolean cuda,
    GstPadDirection direction)
{
  if (cuda)
    return ecg_caps_with_cuda (caps, TRUE);
  if (direction == GST_PAD_SINK)
    return ecg_caps_without_cuda (caps);
  return ecg_caps_with_cuda (caps, FALSE);
}

/**
 * ecg_cuda_context_start:
 * @ctx: the element's GPU state
 * @element: the element
 * @backend: the element's "backend" field, read under its object lock
 * @device_id: the element's "cuda-device-id" field, likewise
 *
 * For start (): releases what a previous start that failed later left
 * (stop () is not called then), then ecg_cuda_context_open ().
 *
 * Returns: whether the element can start (an error was posted if not)
 */
gboolean
ecg_cuda_context_start (EcgCudaContext * ctx, GstElement * element,
    const GstEcgBackend * backend, const gint * device_id)
{
  GstEcgBackend b;
  gint d;

  GST_OBJECT_LOCK (element);
  b = *backend;
  d = *device_id;
  GST_OBJECT_UNLOCK (element);

  ecg_cuda_context_close (ctx, element);
  return ecg_cuda_context_open (ctx, element, b, d);
}

/**
 * ecg_caps_with_cuda:
 * @caps: (transfer full): caps in system memory
 * @cuda_first: put the memory:CUDAMemory variants first
 *
 * Returns: (transfer full): each structure of @caps both in system memory
 *     and with the memory:CUDAMemory feature
 */
GstCaps *
ecg_caps_with_cuda (GstCaps * caps, gboolean cuda_first)
{
  GstCaps *sys = ecg_caps_without_cuda (caps);
  GstCaps *cuda = gst_caps_copy (sys);
  guint i;

  for (i = 0; i < gst_caps_get_size (cuda); i++)
    gst_caps_set_features (cuda, i,
        gst_caps_features_new (ECG_CAPS_FEATURE_MEMORY_CUDA, NULL));
  if (cuda_first)
    return gst_caps_merge (cuda, sys);
  return gst_caps_merge (sys, cuda);
}

/**
 * ecg_caps_without_cuda:
 * @caps: (transfer full): caps
 *
 * Returns: (transfer full): @caps with every structure in system memory
 */
GstCaps *
ecg_caps_without_cuda (GstCaps * caps)
{
  guint i;

  caps = gst_caps_make_writable (caps);
  for (i = 0; i < gst_caps_get_size (caps); i++)
    gst_caps_set_features (caps, i, NULL);
  return gst_caps_simplify (caps);
}

/**
 * ecg_caps_is_cuda:
 * @caps: fixed caps
 *
 * Returns: whether the first structure of @caps has memory:CUDAMemory
 */
gboolean
ecg_caps_is_cuda (GstCaps * caps)
{
  GstCapsFeatures *f;

  if (caps == NULL || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return FALSE;
  f = gst_caps_get_features (caps, 0);
  return f && gst_caps_features_contains (f, ECG_CAPS_FEATURE_MEMORY_CUDA);
}

/**
 * ecg_template_caps:
 * @caps_str: caps in system memory, as a string
 *
 * Returns: (transfer full): the caps of a pad template: @caps_str in
 *     system memory and with memory:CUDAMemory
 */
GstCaps *
ecg_template_caps (const gchar * caps_str)
{
  return ecg_caps_with_cuda (gst_caps_from_string (caps_str), FALSE);
}

/**
 * ecg_element_class_add_pad_template:
 * @klass: an element class
 * @templ: a template whose caps are in system memory
 *
 * Adds @templ with its caps offered both in system memory and with
 * memory:CUDAMemory (every pad of the plugin takes either).
 */
void
ecg_element_class_add_pad_template (GstElementClass * klass,
    GstStaticPadTemplate * templ)
{
  GstCaps *caps = ecg_template_caps (templ->static_caps.string);

  gst_element_class_add_pad_template (klass,
      gst_pad_template_new (templ->name_template, templ->direction,
          templ->presence, caps));
  gst_caps_unref (caps);
}

/**
 * ecg_cuda_decide_allocation:
 * @query: an ALLOCATION query answered by downstream
 * @allocator: (transfer none): the element's CUDA allocator
 *
 * Makes GstBaseTransform allocate output buffers with @allocator (no pool:
 * the allocator keeps freed device blocks for reuse).
 */
void
ecg_cuda_decide_allocation (GstQuery * query, GstAllocator * allocator)
{
  GstAllocationParams params;

  while (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_remove_nth_allocation_pool (query, 0);
  gst_allocation_params_init (&params);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, allocator, &params);
  else
    gst_query_add_allocation_param (query, allocator, &params);
}

/**
 * ecg_buffer_is_cuda:
 * @buffer: a #GstBuffer
 *
 * Returns: whether @buffer is one CUDA memory of this plugin (the device
 *     pointer can be mapped with ECG_MAP_CUDA)
 */
gboolean
ecg_buffer_is_cuda (GstBuffer * buffer)
{
  return gst_buffer_n_memory (buffer) == 1 &&
      ecg_is_cuda_memory (gst_buffer_peek_memory (buffer, 0));
}

/**
 * ecg_host_view_map:
 * @view: (out caller-allocates): the view to fill
 * @buffer: (transfer none): a buffer
 * @ctx: the element's GPU state
 * @status: (out) (optional): ECG_CUDA_OK or the failing CUDA status
 *
 * Gives @buffer's bytes on the host for reading.  CUDA memory, when the
 * element runs on CUDA, is copied on its stream (an explicit download, not
 * a staging copy); anything else is mapped for reading.
 *
 * Returns: whether @view holds the bytes; unmap with ecg_host_view_unmap
 */
gboolean
ecg_host_view_map (EcgHostView * view, GstBuffer * buffer,
    EcgCudaContext * ctx, gint * status)
{
  gint ret = ECG_CUDA_OK;

  memset (view, 0, sizeof (*view));
  if (status)
    *status = ECG_CUDA_OK;
  if (!ecg_cuda_context_active (ctx) || !ecg_buffer_is_cuda (buffer)) {
    if (!gst_buffer_map (buffer, &view->info, GST_MAP_READ))
      return FALSE;
    view->buffer = buffer;
    view->data = view->info.data;
    view->size = view->info.size;
    return TRUE;
  }

  if (!gst_buffer_map (buffer, &view->info, GST_MAP_READ | ECG_MAP_CUDA))
    return FALSE;
  view->copy = g_malloc (MAX (view->info.size, 1));
  ret = ecg_cuda_memcpy_d2h (view->copy, view->info.data, view->info.size,
      ctx->stream);
  if (ret == ECG_CUDA_OK)
    ret = ecg_cuda_stream_sync (ctx->stream);
  gst_buffer_unmap (buffer, &view->info);
  if (ret != ECG_CUDA_OK) {
    g_clear_pointer (&view->copy, g_free);
    if (status)
      *status = ret;
    return FALSE;
  }
  view->data = view->copy;
  view->size = view->info.size;
  return TRUE;
}

/**
 * ecg_host_view_unmap:
 * @view: a view from ecg_host_view_map ()
 */
void
ecg_host_view_unmap (EcgHostView * view)
{
  if (view->copy)
    g_free (view->copy);
  else if (view->buffer)
    gst_buffer_unmap (view->buffer, &view->info);
  memset (view, 0, sizeof (*view));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 *
 * The allocator keeps freed device blocks for reuse (a small pool:
 * cudaMalloc and cudaFree synchronise the device and are slow).  Blocks come
 * in size classes (4 KiB, then four steps per power of two, so at most a
 * quarter is unused) so that buffers of varying length (rows of k beats)
 * reuse each other's blocks; the pool keeps up to POOL_PER_SIZE blocks a
 * class and POOL_MAX_BYTES in all, so it stays bounded on any stream.  Its property "staging-copies" counts the
 * device-to-host copies made because a CUDA memory was mapped for the CPU,
 * in the whole process: a chain that keeps its data on the device leaves it
 * at 0.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstecgcudamemory.h"
#include "cudadev.h"

GST_DEBUG_CATEGORY_STATIC (ecg_cuda_memory_debug);
#define GST_CAT_DEFAULT ecg_cuda_memory_debug

#define POOL_PER_SIZE 16
#define POOL_MAX_BYTES ((gsize) 256 << 20)
#define POOL_MIN_CLASS 4096
#define MAX_DEVICES 16

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_STAGING_COPIES,
};

struct _EcgCudaAllocator
{
  GstAllocator parent;

  gint device;
  GMutex lock;
  GHashTable *pool;             /* size class -> GSList of device pointers */
  gsize pooled;                 /* bytes in the pool */
};

static gint staging_copies = 0;

G_DEFINE_TYPE (EcgCudaAllocator, ecg_cuda_allocator, GST_TYPE_ALLOCATOR);

/* The block size for a request of @size bytes */
static gsize
ecg_cuda_size_class (gsize size)
{
  gsize step;

  if (size <= POOL_MIN_CLASS)
    return POOL_MIN_CLASS;
  /* a quarter of the largest power of two not above size */
  step = ((gsize) 1 << (g_bit_storage (size) - 1)) / 4;
  return (size + step - 1) / step * step;
}

static gpointer
ecg_cuda_device_take (EcgCudaAllocator * self, gsize size)
{
  gpointer ptr = NULL;
  GSList *l;

  g_mutex_lock (&self->lock);
  l = g_hash_table_lookup (self->pool, GSIZE_TO_POINTER (size));
  if (l) {
    ptr = l->data;
    g_hash_table_insert (self->pool, GSIZE_TO_POINTER (size),
        g_slist_delete_link (l, l));
    self->pooled -= size;
  }
  g_mutex_unlock (&self->lock);
  if (!ptr && ecg_cuda_malloc (self->device, size, &ptr) != ECG_CUDA_OK)
    return NULL;
  return ptr;
}

/* cudaFree; a failure (a sticky error of the context, say) can only be
 * logged here */
static void
ecg_cuda_device_free (EcgCudaAllocator * self, gpointer ptr)
{
  gint ret = ecg_cuda_free (self->device, ptr);

  if (ret != ECG_CUDA_OK)
    GST_WARNING_OBJECT (self, "freeing device memory on device %d: %s",
        self->device, ecg_cuda_strerror (ret));
}

static void
ecg_cuda_device_give (EcgCudaAllocator * self, gsize size, gpointer ptr)
{
  GSList *l;

  g_mutex_lock (&self->lock);
  l = g_hash_table_lookup (self->pool, GSIZE_TO_POINTER (size));
  if (g_slist_length (l) < POOL_PER_SIZE &&
      self->pooled + size <= POOL_MAX_BYTES) {
    g_hash_table_insert (self->pool, GSIZE_TO_POINTER (size),
        g_slist_prepend (l, ptr));
    self->pooled += size;
    ptr = NULL;
  }
  g_mutex_unlock (&self->lock);
  if (ptr)
    ecg_cuda_device_free (self, ptr);
}

static GstMemory *
ecg_cuda_allocator_alloc (GstAllocator * allocator, gsize size,
    GstAllocationParams * params)
{
  EcgCudaAllocator *self = ECG_CUDA_ALLOCATOR (allocator);
  EcgCudaMemory *m;
  gsize block = ecg_cuda_size_class (size);
  gpointer ptr = ecg_cuda_device_take (self, block);

  if (!ptr) {
    GST_ERROR_OBJECT (self, "could not allocate %" G_GSIZE_FORMAT
        " bytes on CUDA device %d", size, self->device);
    return NULL;
  }
  m = g_new0 (EcgCudaMemory, 1);
  /* sharing a region would need a device sub-pointer: copy instead */
  gst_memory_init (GST_MEMORY_CAST (m), GST_MEMORY_FLAG_NO_SHARE, allocator,
      NULL, block, 0, 0, size);
  m->device = self->device;
  m->dev_ptr = ptr;
  return GST_MEMORY_CAST (m);
}

static void
ecg_cuda_allocator_free (GstAllocator * allocator, GstMemory * mem)
{
  EcgCudaAllocator *self = ECG_CUDA_ALLOCATOR (allocator);
  EcgCudaMemory *m = (EcgCudaMemory *) mem;

  ecg_cuda_device_give (self, mem->maxsize, m->dev_ptr);
  g_free (m->host);
  g_free (m);
}

static gpointer
ecg_cuda_mem_map (GstMemory * mem, gsize maxsize, GstMapFlags flags)
{
  EcgCudaMemory *m = (EcgCudaMemory *) mem;

  if (flags & ECG_MAP_CUDA)
    return m->dev_ptr;

  /* CPU access: a host copy, counted.  Also for a write-only map: unmap
   * copies the visible bytes back, and a partial write must not put stale
   * bytes around what it wrote. */
  if (!m->host)
    m->host = g_malloc (mem->maxsize);
  {
    /* the visible bytes: a block may be larger than the memory */
    if (ecg_cuda_memcpy_d2h (m->host, m->dev_ptr, mem->offset + mem->size,
            NULL) != ECG_CUDA_OK)
      return NULL;
    g_atomic_int_inc (&staging_copies);
    GST_LOG ("staged %" G_GSIZE_FORMAT " bytes to the host",
        mem->offset + mem->size);
  }
  m->staged = flags;
  return m->host;
}

static void
ecg_cuda_mem_unmap (GstMemory * mem)
{
  EcgCudaMemory *m = (EcgCudaMemory *) mem;

  if ((m->staged & GST_MAP_WRITE) && !(m->staged & ECG_MAP_CUDA)) {
    if (ecg_cuda_memcpy_h2d (m->dev_ptr, m->host, mem->offset + mem->size,
            NULL) != ECG_CUDA_OK)
      GST_ERROR ("could not copy a CPU write back to the device");
  }
  m->staged = 0;
}

static GstMemory *
ecg_cuda_mem_copy (GstMemory * mem, gssize offset, gssize size)
{
  EcgCudaMemory *m = (EcgCudaMemory *) mem;
  GstMemory *copy;

  if (size == -1)
    size = mem->size > (gsize) offset ? mem->size - offset : 0;
  copy = gst_allocator_alloc (mem->allocator, size, NULL);
  if (!copy)
    return NULL;
  if (ecg_cuda_memcpy_d2d (((EcgCudaMemory *) copy)->dev_ptr,
          (guint8 *) m->dev_ptr + mem->offset + offset, size, NULL) !=
      ECG_CUDA_OK) {
    gst_memory_unref (copy);
    return NULL;
  }
  return copy;
}

static void
ecg_cuda_allocator_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  EcgCudaAllocator *self = ECG_CUDA_ALLOCATOR (object);

  switch (prop_id) {
    case PROP_DEVICE:
      self->device = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
ecg_cuda_allocator_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  EcgCudaAllocator *self = ECG_CUDA_ALLOCATOR (object);

  switch (prop_id) {
    case PROP_DEVICE:
      g_value_set_int (value, self->device);
      break;
    case PROP_STAGING_COPIES:
      g_value_set_uint64 (value, ecg_cuda_staging_copies ());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
pool_free_list (gpointer key, gpointer value, gpointer user_data)
{
  EcgCudaAllocator *self = user_data;
  GSList *l;

  for (l = value; l; l = l->next)
    ecg_cuda_device_free (self, l->data);
  g_slist_free (value);
}

static void
ecg_cuda_allocator_finalize (GObject * object)
{
  EcgCudaAllocator *self = ECG_CUDA_ALLOCATOR (object);

  g_hash_table_foreach (self->pool, pool_free_list, self);
  g_hash_table_destroy (self->pool);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ecg_cuda_allocator_parent_class)->finalize (object);
}

static void
ecg_cuda_allocator_class_init (EcgCudaAllocatorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAllocatorClass *allocator_class = GST_ALLOCATOR_CLASS (klass);

  gobject_class->set_property = ecg_cuda_allocator_set_property;
  gobject_class->get_property = ecg_cuda_allocator_get_property;
  gobject_class->finalize = ecg_cuda_allocator_finalize;
  allocator_class->alloc = ecg_cuda_allocator_alloc;
  allocator_class->free = ecg_cuda_allocator_free;

  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_int ("device", "Device", "CUDA device of the memory", 0,
          MAX_DEVICES - 1, 0, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STAGING_COPIES,
      g_param_spec_uint64 ("staging-copies", "Staging copies",
          "Copies to the host made by mapping CUDA memory for the CPU, in "
          "this process", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  GST_DEBUG_CATEGORY_INIT (ecg_cuda_memory_debug, "ecgcudamemory", 0,
      "CUDA device memory");
}

static void
ecg_cuda_allocator_init (EcgCudaAllocator * self)
{
  GstAllocator *alloc = GST_ALLOCATOR_CAST (self);

  alloc->mem_type = ECG_CUDA_MEMORY_TYPE;
  alloc->mem_map = ecg_cuda_mem_map;
  alloc->mem_unmap = ecg_cuda_mem_unmap;
  alloc->mem_copy = ecg_cuda_mem_copy;
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
  g_mutex_init (&self->lock);
  self->pool = g_hash_table_new (g_direct_hash, g_direct_equal);
}

/**
 * ecg_cuda_allocator_get:
 * @device: CUDA device index
 *
 * The allocator of @device, created and registered (as
 * "EcgCudaMemory<device>") on first use.
 *
 * Returns: (transfer full): the allocator
 */
GstAllocator *
ecg_cuda_allocator_get (gint device)
{
  static GMutex lock;
  gchar *name;
  GstAllocator *a;

  g_return_val_if_fail (device >= 0 && device < MAX_DEVICES, NULL);

  name = g_strdup_printf ("%s%d", ECG_CUDA_MEMORY_TYPE, device);
  g_mutex_lock (&lock);
  a = gst_allocator_find (name);
  if (!a) {
    a = g_object_new (ECG_TYPE_CUDA_ALLOCATOR, "device", device, NULL);
    gst_object_ref_sink (a);
    gst_allocator_register (name, gst_object_ref (a));
  }
  g_mutex_unlock (&lock);
  g_free (name);
  return a;
}

/**
 * ecg_is_cuda_memory:
 * @mem: a #GstMemory
 *
 * Returns: whether @mem is CUDA device memory of this plugin
 */
gboolean
ecg_is_cuda_memory (GstMemory * mem)
{
  return mem && mem->allocator && ECG_IS_CUDA_ALLOCATOR (mem->allocator);
}

/**
 * ecg_cuda_memory_device_pointer:
 * @mem: CUDA memory
 *
 * Returns: (transfer none): the device pointer of @mem's first byte
 */
gpointer
ecg_cuda_memory_device_pointer (GstMemory * mem)
{
  g_return_val_if_fail (ecg_is_cuda_memory (mem), NULL);
  return (guint8 *) ((EcgCudaMemory *) mem)->dev_ptr + mem->offset;
}

/**
 * ecg_cuda_memory_device:
 * @mem: CUDA memory
 *
 * Returns: the CUDA device index of @mem
 */
gint
ecg_cuda_memory_device (GstMemory * mem)
{
  g_return_val_if_fail (ecg_is_cuda_memory (mem), -1);
  return ((EcgCudaMemory *) mem)->device;
}

/**
 * ecg_cuda_staging_copies:
 *
 * Returns: how many times CUDA memory was copied to the host because it
 *     was mapped for the CPU, in this process
 */
guint64
ecg_cuda_staging_copies (void)
{
  return (guint64) g_atomic_int_get (&staging_copies);
}

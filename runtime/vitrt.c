/*===- vitrt.c - the vitc runtime: weights, memory, kernel calls -----------===*
 *
 * Depends on libc only: the Halide runtime it drives is the one linked into
 * each model library, reached through the model description. The weights file is mapped,
 * never copied; it belongs to the library when its header (names, shapes,
 * offsets, fingerprint) equals the one the library embeds, byte for byte.
 * Activations live in per-context slots planned by the compiler, grown when
 * a larger batch comes. For GPU models the weights are copied to the device
 * once at open, the slots are device memory, and only the images and the
 * outputs (and features when asked for) cross between host and device.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "vitrt.h"

#include "HalideRuntime.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct vitrt_model {
  const vitrt_model_desc *desc;
  void *mapping; /* the weights file: mapped, or a private copy */
  size_t mapping_size;
  /* A mapped file (not a private copy) stays open so that each run can check
   * it has not changed: a truncated mapping faults (SIGBUS) when read, a
   * rewritten one changes results silently. -1 for private copies. */
  int weights_fd;
  struct stat weights_stat; /* as at vitrt_open */
  char *weights_path;
  halide_buffer_t *params; /* one per desc->params, pointing into the mapping */
  halide_dimension_t *param_dims;
  const struct halide_device_interface_t *device; /* GPU models; NULL on the CPU */
};

struct vitrt_context {
  vitrt_model *model;
  int64_t capacity; /* images the slots hold */
  float **slots;                 /* CPU models: host memory */
  halide_buffer_t *device_slots; /* GPU models: one device allocation each */
  halide_dimension_t *device_slot_dims;
  int profiling;
  vitrt_kernel_profile *profile; /* one per distinct kernel */
  int profile_count;
};

static _Thread_local char last_error[1024];

static vitrt_status fail(vitrt_status status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return status;
}

const char *vitrt_last_error(void) { return last_error; }

/* Kernels report through Halide's error handler; keep the text for the
 * caller instead of printing it. */
static _Thread_local char halide_message[512];
static void capture_halide_error(void *user_context, const char *message) {
  (void)user_context;
  snprintf(halide_message, sizeof halide_message, "%s", message);
}

static void fill_dims(halide_dimension_t *dims, const int64_t *shape, int rank, int64_t batch) {
  /* Halide dimension 0 is the innermost (last) tensor dimension. */
  int32_t stride = 1;
  for (int i = 0; i < rank; ++i) {
    dims[i].min = 0;
    dims[i].extent = (int32_t)shape[rank - 1 - i];
    dims[i].stride = stride;
    dims[i].flags = 0;
    stride *= dims[i].extent;
  }
  if (batch >= 0) {
    dims[rank].min = 0;
    dims[rank].extent = (int32_t)batch;
    dims[rank].stride = stride;
    dims[rank].flags = 0;
  }
}

/* The Halide type of a parameter's elements; false for an unknown dtype. */
static bool dtype_type(int32_t dtype, struct halide_type_t *type) {
  static const struct halide_type_t types[] = {
      [VITRT_DTYPE_F32] = {halide_type_float, 32, 1},
      [VITRT_DTYPE_BF16] = {halide_type_bfloat, 16, 1},
      [VITRT_DTYPE_F16] = {halide_type_float, 16, 1},
      [VITRT_DTYPE_I8] = {halide_type_int, 8, 1},
  };
  if (dtype < 0 || dtype >= (int32_t)(sizeof types / sizeof types[0]))
    return false;
  *type = types[dtype];
  return true;
}

/* Activations and every buffer but the parameters are f32. */
static const struct halide_type_t f32_type = {halide_type_float, 32, 1};

/* The file's bytes in private anonymous memory, made read-only; MAP_FAILED
 * (and the errno in *error) if it cannot be read whole. */
static void *read_private(int fd, size_t size, int *error) {
  void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED) {
    *error = errno;
    return MAP_FAILED;
  }
  size_t done = 0;
  while (done < size) {
    ssize_t got = pread(fd, (char *)copy + done, size - done, (off_t)done);
    if (got <= 0) {
      *error = got < 0 ? errno : EIO; /* EIO: the file shrank while it was read */
      munmap(copy, size);
      return MAP_FAILED;
    }
    done += (size_t)got;
  }
  mprotect(copy, size, PROT_READ);
  return copy;
}

static void init_buffer(halide_buffer_t *buffer, halide_dimension_t *dims, int dimensions,
                        void *host, struct halide_type_t type) {
  memset(buffer, 0, sizeof *buffer);
  buffer->host = (uint8_t *)host;
  buffer->type = type;
  buffer->dimensions = dimensions;
  buffer->dim = dims;
}

#if defined(__x86_64__)
/* Whether this CPU and its OS provide `feature` (of `length` bytes), a
 * __builtin_cpu_supports name; -1 for a name this runtime does not know. */
static int cpu_has(const char *feature, size_t length) {
  __builtin_cpu_init();
#define VITRT_CPU_FEATURE(name)                                                \
  if (length == sizeof name - 1 && memcmp(feature, name, length) == 0)        \
    return __builtin_cpu_supports(name) != 0;
  VITRT_CPU_FEATURE("sse4.1")
  VITRT_CPU_FEATURE("avx")
  VITRT_CPU_FEATURE("avx2")
  VITRT_CPU_FEATURE("fma")
  VITRT_CPU_FEATURE("f16c")
  VITRT_CPU_FEATURE("avx512f")
  VITRT_CPU_FEATURE("avx512cd")
  VITRT_CPU_FEATURE("avx512bw")
  VITRT_CPU_FEATURE("avx512dq")
  VITRT_CPU_FEATURE("avx512vl")
  VITRT_CPU_FEATURE("avx512ifma")
  VITRT_CPU_FEATURE("avx512vbmi")
  VITRT_CPU_FEATURE("avx512vnni")
  VITRT_CPU_FEATURE("avx512bf16")
  VITRT_CPU_FEATURE("avx512bitalg")
  VITRT_CPU_FEATURE("avx512vbmi2")
  VITRT_CPU_FEATURE("avxvnni")
  VITRT_CPU_FEATURE("amx-tile")
  VITRT_CPU_FEATURE("amx-int8")
  VITRT_CPU_FEATURE("amx-bf16")
#undef VITRT_CPU_FEATURE
  return -1;
}

/* Whether the OS has enabled the AMX tile state (XCR0 bits 17 and 18): a
 * hypervisor may report AMX in CPUID and keep its state off (Halide issue
 * #9191, on AWS), and then the first tile instruction faults. */
static int amx_state_enabled(void) {
  unsigned eax, ebx, ecx, edx;
  __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
  if (!(ecx & (1u << 27))) /* OSXSAVE: XGETBV is usable */
    return 0;
  unsigned xcr0_low, xcr0_high;
  __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  (void)xcr0_high;
  const unsigned tile_state = (1u << 17) | (1u << 18);
  return (xcr0_low & tile_state) == tile_state;
}

/* Linux hands out the AMX tile registers only to processes that ask for
 * them (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it
 * the first tile instruction faults. Asking again is harmless. */
static int request_amx_tiles(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
  const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
  return 0;
#endif
}
#endif

/* Refuses a model whose kernels use a CPU feature this machine lacks (they
 * would die of SIGILL), and asks the OS for AMX state where they use AMX. */
static vitrt_status check_cpu(const vitrt_model_desc *desc) {
#if defined(__x86_64__)
  const char *at = desc->cpu_features ? desc->cpu_features : "";
  while (*at) {
    size_t length = strcspn(at, " ");
    if (length > 0) {
      int has = cpu_has(at, length);
      if (has < 0)
        return fail(VITRT_UNSUPPORTED_CPU,
                    "vitrt_open: model '%s' needs CPU feature '%.*s', which this runtime cannot "
                    "check; use the libvitrt of the vitc that compiled it",
                    desc->name, (int)length, at);
      if (!has)
        return fail(VITRT_UNSUPPORTED_CPU,
                    "vitrt_open: model '%s' was compiled for %s, whose kernels use %.*s, which "
                    "this CPU does not have; compile it for this machine (vitc --target host) or "
                    "for a target list ending in one this CPU runs (e.g. ...,x86-64-linux-avx2)",
                    desc->name, desc->target, (int)length, at);
      if (length == 8 && memcmp(at, "amx-tile", 8) == 0) {
        if (!amx_state_enabled())
          return fail(VITRT_UNSUPPORTED_CPU,
                      "vitrt_open: model '%s' uses AMX, which this CPU reports, but the OS or "
                      "hypervisor has not enabled its tile state (XCR0 bits 17-18 clear); "
                      "compile it without AMX tiles (vitc --no-amx)",
                      desc->name);
        if (!request_amx_tiles())
          return fail(VITRT_UNSUPPORTED_CPU,
                      "vitrt_open: model '%s' uses AMX, but the OS did not grant this process the "
                      "AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM: %s; it needs Linux 5.16 "
                      "or later, and signal stacks large enough for the tile state)",
                      desc->name, strerror(errno));
      }
    }
    at += length;
    at += strspn(at, " ");
  }
#else
  (void)desc;
#endif
  return VITRT_OK;
}

/* The precision of a model's GEMM weights, from their dtypes (vitc gives a
 * model one of int8 and bf16, never both). */
static const char *desc_precision(const vitrt_model_desc *desc) {
  for (int32_t i = 0; i < desc->num_params; ++i) {
    if (desc->params[i].dtype == VITRT_DTYPE_I8)
      return "int8";
    if (desc->params[i].dtype == VITRT_DTYPE_BF16)
      return "bf16";
  }
  return "f32";
}

/* Finds the string value of metadata `key` (e.g. "vitc.fingerprint") in a
 * header, for messages; `fallback` when it is absent. */
static void find_metadata(const char *header, size_t size, const char *key,
                          const char *fallback, char *out, size_t out_size) {
  char quoted[64];
  snprintf(quoted, sizeof quoted, "\"%s\":\"", key);
  snprintf(out, out_size, "%s", fallback);
  const char *at = memmem(header, size, quoted, strlen(quoted));
  if (!at)
    return;
  at += strlen(quoted);
  size_t n = 0;
  while (at + n < header + size && at[n] != '"' && n + 1 < out_size)
    ++n;
  memcpy(out, at, n);
  out[n] = '\0';
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GPU models share the device API's process-wide state: the selected device
 * and the driver context. It is released when the last GPU model closes. */
static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static int device_models;      /* GPU models open */
static int device_index = -1;  /* the device they run on; -1: the default */

/* Parses options->device: -1 for the default, else the index; -2 if invalid. */
static int requested_device(const vitrt_options *options) {
  if (!options || !options->device || !options->device[0])
    return -1;
  char *end = NULL;
  long index = strtol(options->device, &end, 10);
  if (*end != '\0' || index < 0 || index > 1024)
    return -2;
  return (int)index;
}

static vitrt_status device_failure(const char *what, int rc) {
  return fail(VITRT_DEVICE_ERROR, "%s failed with code %d: %s", what, rc,
              halide_message[0] ? halide_message : "no message from the driver");
}

/* Up to size - 1 characters of `bytes` from `at`, for a message: double
 * quotes as single ones, what is not printable as '?'. */
static void excerpt(const char *bytes, size_t count, size_t at, char *out, size_t size) {
  size_t n = 0;
  for (; n + 1 < size && at + n < count; ++n) {
    unsigned char c = (unsigned char)bytes[at + n];
    out[n] = c == '"' ? '\'' : c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[n] = 0;
}

static vitrt_status check_weights(const vitrt_model_desc *desc, const char *path,
                                  const char *bytes, size_t size) {
  uint64_t expected = desc->weights_header_size + desc->weights_data_size;
  if (size < 8)
    return fail(VITRT_WEIGHTS_MISMATCH, "%s: %zu bytes is too short for a safetensors file",
                path, size);
  if (size >= desc->weights_header_size &&
      memcmp(bytes, desc->weights_header, desc->weights_header_size) == 0) {
    if (size != expected)
      return fail(VITRT_WEIGHTS_MISMATCH,
                  "%s: the file is %zu bytes but model '%s' needs %llu; it is truncated or "
                  "damaged",
                  path, size, desc->name, (unsigned long long)expected);
    return VITRT_OK;
  }
  uint64_t header_size = 0;
  memcpy(&header_size, bytes, 8); /* little-endian hosts only, as Halide's */
  const size_t json_size = header_size < size - 8 ? header_size : size - 8;
  /* Files from before vitc wrote a precision are f32. */
  char precision[16];
  find_metadata(bytes + 8, json_size, "vitc.precision", "f32", precision, sizeof precision);
  if (strcmp(precision, desc_precision(desc)) != 0)
    return fail(VITRT_WEIGHTS_MISMATCH,
                "%s: these weights are %s but model '%s' was compiled for %s weights; write "
                "them with the vitc command (and --precision) that built the library",
                path, precision, desc->name, desc_precision(desc));
  char found[64];
  find_metadata(bytes + 8, json_size, "vitc.fingerprint", "none", found, sizeof found);
  if (strcmp(found, desc->fingerprint) == 0) {
    /* Same parameters, another header (another model name, say): show where
     * they part, as two fingerprints that read the same would explain nothing. */
    /* The JSON after the 8-byte length, which differs whenever anything does. */
    size_t limit = size < desc->weights_header_size ? size : desc->weights_header_size, at = 8;
    while (at < limit && bytes[at] == desc->weights_header[at])
      ++at;
    at = at > 24 ? at - 16 : 8; /* a little context before the difference */
    char file_text[48], library_text[48];
    excerpt(bytes, size, at, file_text, sizeof file_text);
    excerpt(desc->weights_header, desc->weights_header_size, at, library_text,
            sizeof library_text);
    return fail(VITRT_WEIGHTS_MISMATCH,
                "%s: these weights have the parameters of model '%s' (fingerprint %s) but a "
                "different header: from byte %zu the file has [%s] where the library "
                "expects [%s]; write them with the vitc command that built the library",
                path, desc->name, found, at, file_text, library_text);
  }
  return fail(VITRT_WEIGHTS_MISMATCH,
              "%s: these weights do not belong to model '%s' (weights fingerprint %s, library "
              "fingerprint %s); write them with the vitc command that built the library",
              path, desc->name, found, desc->fingerprint);
}

vitrt_status vitrt_open(const vitrt_model_desc *desc, const char *weights_path,
                        const vitrt_options *options, vitrt_model **model) {
  if (!model)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_open: model is NULL");
  *model = NULL;
  if (!desc || !weights_path)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_open: %s is NULL",
                desc ? "weights_path" : "desc");
  if (desc->abi_version != VITRT_ABI_VERSION)
    return fail(VITRT_INVALID_ARGUMENT,
                "vitrt_open: the library was built for runtime ABI %d, this runtime is %d; "
                "compile the model again with the vitc of this libvitrt",
                desc->abi_version, VITRT_ABI_VERSION);
  vitrt_status cpu = check_cpu(desc);
  if (cpu != VITRT_OK)
    return cpu;
  /* Every parameter must be of a known type and lie inside the weights data,
   * so that no kernel reads past the mapping. */
  for (int i = 0; i < desc->num_params; ++i) {
    const vitrt_param_desc *p = &desc->params[i];
    struct halide_type_t type;
    if (!dtype_type(p->dtype, &type))
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_open: parameter '%s' has element type %d, which this runtime does not "
                  "know (f32 0, bf16 1, f16 2, i8 3)",
                  p->name, (int)p->dtype);
    uint64_t bytes = type.bits / 8;
    int fits = p->rank >= 1 && p->rank <= VITRT_MAX_RANK;
    for (int d = 0; fits && d < p->rank; ++d) {
      fits = p->shape[d] > 0 && (uint64_t)p->shape[d] <= desc->weights_data_size &&
             bytes <= desc->weights_data_size / (uint64_t)p->shape[d];
      bytes *= fits ? (uint64_t)p->shape[d] : 1;
    }
    if (!fits || p->offset > desc->weights_data_size ||
        bytes > desc->weights_data_size - p->offset)
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_open: parameter '%s' (rank %d) does not lie inside the model's %llu "
                  "bytes of weights; the library is damaged",
                  p->name, (int)p->rank, (unsigned long long)desc->weights_data_size);
  }
  int fd = open(weights_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(VITRT_IO_ERROR, "%s: cannot open: %s", weights_path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(VITRT_IO_ERROR, "%s: not a regular file", weights_path);
  }
  size_t size = (size_t)st.st_size;
  const int private_copy = options && options->private_weights;
  void *mapping = MAP_FAILED;
  int mmap_errno = 0;
  if (size && private_copy)
    mapping = read_private(fd, size, &mmap_errno);
  else if (size)
    mapping = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (size && !private_copy && mapping == MAP_FAILED)
    mmap_errno = errno;
  if (private_copy) {
    close(fd);
    fd = -1;
  }
  if (mapping == MAP_FAILED) {
    if (fd >= 0)
      close(fd);
    return size ? fail(VITRT_IO_ERROR, "%s: cannot %s: %s", weights_path,
                       private_copy ? "read" : "map", strerror(mmap_errno))
                : fail(VITRT_WEIGHTS_MISMATCH, "%s: the file is empty", weights_path);
  }
  vitrt_status status = check_weights(desc, weights_path, mapping, size);
  if (status != VITRT_OK) {
    munmap(mapping, size);
    if (fd >= 0)
      close(fd);
    return status;
  }

  vitrt_model *m = calloc(1, sizeof *m);
  halide_buffer_t *params = calloc(desc->num_params ? desc->num_params : 1, sizeof *params);
  halide_dimension_t *dims =
      calloc(desc->num_params ? desc->num_params * VITRT_MAX_RANK : 1, sizeof *dims);
  char *path_copy = strdup(weights_path);
  if (!m || !params || !dims || !path_copy) {
    free(m), free(params), free(dims), free(path_copy);
    munmap(mapping, size);
    if (fd >= 0)
      close(fd);
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_open: out of memory");
  }
  m->weights_fd = fd;
  m->weights_stat = st;
  m->weights_path = path_copy;
  const char *data = (const char *)mapping + desc->weights_header_size;
  for (int i = 0; i < desc->num_params; ++i) {
    const vitrt_param_desc *p = &desc->params[i];
    fill_dims(dims + i * VITRT_MAX_RANK, p->shape, p->rank, -1);
    struct halide_type_t type = f32_type;
    dtype_type(p->dtype, &type); /* checked above */
    init_buffer(&params[i], dims + i * VITRT_MAX_RANK, p->rank, (void *)(data + p->offset),
                type);
  }
  m->desc = desc;
  m->mapping = mapping;
  m->mapping_size = size;
  m->params = params;
  m->param_dims = dims;
  desc->set_error_handler(capture_halide_error);
  if (options && options->num_threads > 0)
    desc->set_num_threads(options->num_threads);
  if (desc->device) {
    int wanted = requested_device(options);
    if (wanted == -2) {
      vitrt_close(m);
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_open: device '%s' is not a device index (0, 1, ...)", options->device);
    }
    pthread_mutex_lock(&device_lock);
    if (device_models > 0 && wanted != device_index) {
      int in_use = device_index;
      pthread_mutex_unlock(&device_lock);
      vitrt_close(m);
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_open: device %d was asked for, but the open GPU models run on %s%d; "
                  "the device is process-wide",
                  wanted, in_use < 0 ? "the default device " : "device ", in_use < 0 ? 0 : in_use);
    }
    if (device_models++ == 0) {
      /* Halide's runtime looks for the driver as libcuda.so / libOpenCL.so,
       * names that only development packages install; it first looks in the
       * process, so load the driver's runtime name globally. */
      const char *driver = strcmp(desc->device->name, "cuda") == 0     ? "libcuda.so.1"
                           : strcmp(desc->device->name, "opencl") == 0 ? "libOpenCL.so.1"
                                                                       : NULL;
      if (driver)
        dlopen(driver, RTLD_NOW | RTLD_GLOBAL); /* if absent, Halide's error says so */
      device_index = wanted;
      if (wanted >= 0)
        desc->device->set_gpu_device(wanted);
      /* Per-run buffers (the images, the outputs) come from a cache. */
      desc->device->reuse_device_allocations(NULL, 1);
    }
    pthread_mutex_unlock(&device_lock);
    /* Weights go to the device once; kernels then find them there. */
    m->device = desc->device->interface();
    halide_message[0] = '\0';
    for (int i = 0; i < desc->num_params; ++i) {
      params[i].flags |= halide_buffer_flag_host_dirty; /* else nothing is copied */
      int rc = desc->device->copy_to_device(NULL, &params[i], m->device);
      if (rc != 0) {
        char what[96];
        if (wanted >= 0)
          snprintf(what, sizeof what, "vitrt_open: copying the weights to %s device %d",
                   desc->device->name, wanted);
        else
          snprintf(what, sizeof what, "vitrt_open: copying the weights to the default %s device",
                   desc->device->name);
        status = device_failure(what, rc);
        vitrt_close(m);
        return status;
      }
    }
  }
  *model = m;
  return VITRT_OK;
}

void vitrt_close(vitrt_model *model) {
  if (!model)
    return;
  if (model->device) {
    for (int i = 0; i < model->desc->num_params; ++i)
      if (model->params[i].device)
        model->desc->device->device_free(NULL, &model->params[i]);
    pthread_mutex_lock(&device_lock);
    if (--device_models == 0)
      model->desc->device->device_release(NULL, model->device);
    pthread_mutex_unlock(&device_lock);
  }
  munmap(model->mapping, model->mapping_size);
  if (model->weights_fd >= 0)
    close(model->weights_fd);
  free(model->weights_path);
  free(model->params);
  free(model->param_dims);
  free(model);
}

vitrt_status vitrt_get_info(const vitrt_model *model, vitrt_model_info *info) {
  if (!model || !info)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_get_info: %s is NULL", model ? "info" : "model");
  const vitrt_model_desc *d = model->desc;
  info->name = d->name;
  info->channels = d->channels;
  info->height = d->height;
  info->width = d->width;
  info->outputs = d->outputs;
  memcpy(info->mean, d->mean, sizeof info->mean);
  memcpy(info->std, d->std, sizeof info->std);
  info->crop_fraction = d->crop_fraction;
  info->features = d->features_value >= 0 ? (int)d->values[d->features_value].shape[0] : 0;
  info->precision = desc_precision(d);
  info->grid_height = d->grid_height;
  info->grid_width = d->grid_width;
  info->prefix_tokens = d->prefix_tokens;
  info->attention_layers = d->attention_layers;
  info->attention_heads = d->attention_heads;
  info->attention_rows = d->attention_rows;
  info->attention_tokens = d->attention_tokens;
  info->attention_rollout = d->attention_layers > 0 && d->attention_mean_values != NULL;
  return VITRT_OK;
}

vitrt_status vitrt_context_create(vitrt_model *model, vitrt_context **context) {
  if (!context)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_context_create: context is NULL");
  *context = NULL;
  if (!model)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_context_create: model is NULL");
  vitrt_context *c = calloc(1, sizeof *c);
  float **slots = calloc(model->desc->num_slots ? model->desc->num_slots : 1, sizeof *slots);
  if (!c || !slots) {
    free(c), free(slots);
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_context_create: out of memory");
  }
  c->model = model;
  c->slots = slots;
  *context = c;
  return VITRT_OK;
}

static void free_device_slots(vitrt_context *c) {
  if (!c->device_slots)
    return;
  for (int i = 0; i < c->model->desc->num_slots; ++i)
    if (c->device_slots[i].device)
      c->model->desc->device->device_free(NULL, &c->device_slots[i]);
  free(c->device_slots);
  free(c->device_slot_dims);
  c->device_slots = NULL;
  c->device_slot_dims = NULL;
}

void vitrt_context_destroy(vitrt_context *context) {
  if (!context)
    return;
  for (int i = 0; i < context->model->desc->num_slots; ++i)
    free(context->slots[i]);
  free_device_slots(context);
  free(context->slots);
  free(context->profile);
  free(context);
}

vitrt_status vitrt_context_set_profiling(vitrt_context *context, int enabled) {
  if (!context)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_context_set_profiling: context is NULL");
  context->profiling = enabled != 0;
  if (!enabled)
    return VITRT_OK;
  free(context->profile);
  context->profile_count = 0;
  int steps = context->model->desc->num_steps;
  context->profile = calloc(steps ? steps : 1, sizeof *context->profile);
  if (!context->profile) {
    context->profiling = 0;
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_context_set_profiling: out of memory");
  }
  return VITRT_OK;
}

vitrt_status vitrt_context_get_profile(const vitrt_context *context,
                                       vitrt_kernel_profile *entries, int capacity,
                                       int *count) {
  if (!context || !count)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_context_get_profile: %s is NULL",
                context ? "count" : "context");
  if (capacity > 0 && !entries)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_context_get_profile: entries is NULL");
  *count = context->profile_count;
  for (int i = 0; i < context->profile_count && i < capacity; ++i)
    entries[i] = context->profile[i];
  return VITRT_OK;
}

static void record(vitrt_context *c, const vitrt_step_desc *step, int64_t batch,
                   double seconds) {
  vitrt_kernel_profile *entry = NULL;
  for (int i = 0; i < c->profile_count && !entry; ++i)
    if (strcmp(c->profile[i].kernel, step->kernel) == 0)
      entry = &c->profile[i];
  if (!entry) {
    entry = &c->profile[c->profile_count++];
    entry->kernel = step->kernel;
  }
  if (entry->calls == 0 || seconds < entry->best_seconds)
    entry->best_seconds = seconds;
  entry->calls += 1;
  entry->seconds += seconds;
  entry->flops += step->flops_per_image * (double)batch;
}

/* GPU models: one device allocation per slot, viewed by the values in it. */
static vitrt_status reserve_device(vitrt_context *c, int64_t batch) {
  const vitrt_model_desc *d = c->model->desc;
  free_device_slots(c);
  c->device_slots = calloc(d->num_slots ? d->num_slots : 1, sizeof *c->device_slots);
  c->device_slot_dims = calloc(d->num_slots ? d->num_slots : 1, sizeof *c->device_slot_dims);
  if (!c->device_slots || !c->device_slot_dims) {
    free_device_slots(c);
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_run: out of memory");
  }
  halide_message[0] = '\0';
  for (int i = 0; i < d->num_slots; ++i) {
    int64_t elements = d->slot_elements[i] * batch;
    if (elements > INT32_MAX) {
      free_device_slots(c);
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_run: batch %lld needs %lld floats in one buffer, more than a device "
                  "buffer holds (2^31 - 1); run smaller batches",
                  (long long)batch, (long long)elements);
    }
    c->device_slot_dims[i].extent = (int32_t)elements;
    c->device_slot_dims[i].stride = 1;
    init_buffer(&c->device_slots[i], &c->device_slot_dims[i], 1, NULL, f32_type);
    int rc = d->device->device_malloc(NULL, &c->device_slots[i], c->model->device);
    if (rc != 0) {
      vitrt_status status = device_failure("vitrt_run: allocating activations on the device", rc);
      free_device_slots(c);
      return status;
    }
  }
  return VITRT_OK;
}

static vitrt_status reserve(vitrt_context *c, int64_t batch) {
  if (batch <= c->capacity)
    return VITRT_OK;
  const vitrt_model_desc *d = c->model->desc;
  if (c->model->device) {
    vitrt_status status = reserve_device(c, batch);
    c->capacity = status == VITRT_OK ? batch : 0;
    return status;
  }
  for (int i = 0; i < d->num_slots; ++i) {
    /* 64-byte aligned for vector loads; sizes rounded up to match. */
    size_t bytes = ((size_t)d->slot_elements[i] * (size_t)batch * sizeof(float) + 63) & ~(size_t)63;
    free(c->slots[i]);
    c->slots[i] = aligned_alloc(64, bytes ? bytes : 64);
    if (!c->slots[i]) {
      c->capacity = 0;
      return fail(VITRT_OUT_OF_MEMORY, "vitrt_run: cannot allocate %zu bytes for batch %lld",
                  bytes, (long long)batch);
    }
  }
  c->capacity = batch;
  return VITRT_OK;
}

/* A CPU model reads its weights from the mapped file during the run: refuse
 * to run when the file was truncated (reading the lost pages would kill the
 * process with SIGBUS) or rewritten (results would change silently) since
 * vitrt_open. The check is one fstat; a change during the run itself is not
 * caught (open with private_weights for that). GPU models hold their weights
 * on the device. */
static vitrt_status check_unchanged(const vitrt_model *m) {
  if (m->weights_fd < 0 || m->desc->device)
    return VITRT_OK;
  struct stat now;
  if (fstat(m->weights_fd, &now) != 0)
    return fail(VITRT_IO_ERROR, "vitrt_run: cannot check the weights file %s: %s",
                m->weights_path, strerror(errno));
  const struct stat *then = &m->weights_stat;
  if (now.st_size != then->st_size || now.st_mtim.tv_sec != then->st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != then->st_mtim.tv_nsec)
    return fail(VITRT_WEIGHTS_MISMATCH,
                "vitrt_run: the weights file %s changed after vitrt_open (%lld bytes then, "
                "%lld now, modified since); open the model again, or open it with "
                "private_weights to keep a copy",
                m->weights_path, (long long)then->st_size, (long long)now.st_size);
  return VITRT_OK;
}

vitrt_status vitrt_run(vitrt_context *context, const float *images, size_t images_count,
                       int64_t batch, float *outputs, size_t outputs_count) {
  return vitrt_run_ex(context, images, images_count, batch, outputs, outputs_count, NULL);
}

vitrt_status vitrt_run_features(vitrt_context *context, const float *images,
                                size_t images_count, int64_t batch, float *outputs,
                                size_t outputs_count, float *features, size_t features_count) {
  vitrt_run_extras extras = {0};
  extras.features = features;
  extras.features_count = features_count;
  return vitrt_run_ex(context, images, images_count, batch, outputs, outputs_count, &extras);
}

/* Checks that `array` (if asked for) holds `batch` x `per_image` floats. */
static vitrt_status check_extra(const vitrt_model_desc *d, const char *what, const float *array,
                                size_t count, int64_t batch, int64_t per_image) {
  if (!array)
    return VITRT_OK;
  if (d->attention_layers <= 0)
    return fail(VITRT_INVALID_ARGUMENT,
                "vitrt_run_ex: model '%s' has no attention maps (compile it with vitc "
                "--attention-maps) for %s",
                d->name, what);
  if ((int64_t)count < batch * per_image)
    return fail(VITRT_INVALID_ARGUMENT,
                "vitrt_run_ex: %s of %lld images need %lld floats, got room for %zu", what,
                (long long)batch, (long long)(batch * per_image), count);
  return VITRT_OK;
}

/* The attention maps of every layer into [batch, layers, heads, rows,
 * tokens], and the rollout of the map rows into [batch, rows, tokens]: from
 * the last layer's rows of A'_L = (head mean + I) / 2 back to the first
 * layer, v <- v A'_l, which needs no N x N product. */
static vitrt_status copy_attention(const vitrt_model_desc *d, const halide_buffer_t *buffers,
                                   int64_t batch, float *attention, float *rollout) {
  const int64_t layers = d->attention_layers, tokens = d->attention_tokens;
  const int64_t per_map = (int64_t)d->attention_heads * d->attention_rows * tokens;
  if (attention)
    for (int64_t l = 0; l < layers; ++l) {
      const float *maps = (const float *)buffers[d->attention_class_values[l]].host;
      for (int64_t b = 0; b < batch; ++b)
        memcpy(attention + (b * layers + l) * per_map, maps + b * per_map,
               (size_t)per_map * sizeof(float));
    }
  if (!rollout)
    return VITRT_OK;
  /* Only the last layer may have fewer query rows (narrowed to the class
   * token); the product needs every row of the others. */
  for (int64_t l = 0; l + 1 < layers; ++l)
    if (d->values[d->attention_mean_values[l]].shape[0] != tokens)
      return fail(VITRT_KERNEL_FAILED,
                  "vitrt_run_ex: layer %lld's attention has %lld query rows, not all %lld "
                  "tokens",
                  (long long)l, (long long)d->values[d->attention_mean_values[l]].shape[0],
                  (long long)tokens);
  double *v = malloc(2 * (size_t)tokens * sizeof *v);
  if (!v)
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_run_ex: out of memory for the rollout");
  double *next = v + tokens;
  const int64_t begin = d->attention_row_begin, end = d->attention_row_end;
  const int64_t rows = d->attention_rows;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r) {
      /* The last layer: row begin + r of A'_L, or the mean of rows [begin, end). */
      const int32_t last = d->attention_mean_values[layers - 1];
      const int64_t queries = d->values[last].shape[0];
      const float *mean = (const float *)buffers[last].host + b * queries * tokens;
      const int64_t from = d->attention_row_mean ? begin : begin + r;
      const int64_t to = d->attention_row_mean ? end : from + 1;
      for (int64_t j = 0; j < tokens; ++j)
        v[j] = 0;
      for (int64_t i = from; i < to; ++i) {
        for (int64_t j = 0; j < tokens; ++j)
          v[j] += 0.5 * mean[i * tokens + j];
        v[i] += 0.5;
      }
      for (int64_t j = 0; j < tokens; ++j)
        v[j] /= (double)(to - from);
      for (int64_t l = layers - 2; l >= 0; --l) {
        const float *m =
            (const float *)buffers[d->attention_mean_values[l]].host + b * tokens * tokens;
        for (int64_t j = 0; j < tokens; ++j)
          next[j] = 0.5 * v[j];
        for (int64_t i = 0; i < tokens; ++i) {
          const double weight = 0.5 * v[i];
          const float *row = m + i * tokens;
          for (int64_t j = 0; j < tokens; ++j)
            next[j] += weight * row[j];
        }
        memcpy(v, next, (size_t)tokens * sizeof *v);
      }
      float *out = rollout + (b * rows + r) * tokens;
      for (int64_t j = 0; j < tokens; ++j)
        out[j] = (float)v[j];
    }
  free(v);
  return VITRT_OK;
}

vitrt_status vitrt_run_ex(vitrt_context *context, const float *images, size_t images_count,
                          int64_t batch, float *outputs, size_t outputs_count,
                          const vitrt_run_extras *extras) {
  static const vitrt_run_extras none = {0};
  if (!extras)
    extras = &none;
  float *features = extras->features;
  const size_t features_count = extras->features_count;
  /* The batch first: an empty batch comes with empty (NULL) arrays, and the
   * batch is what is wrong then. */
  if (batch < 1 || batch > (int64_t)1 << 24)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_run: batch must be between 1 and 2^24, got %lld",
                (long long)batch);
  if (!context || !images || !outputs)
    return fail(VITRT_INVALID_ARGUMENT, "vitrt_run: %s is NULL",
                !context ? "context" : !images ? "images" : "outputs");
  const vitrt_model_desc *d = context->model->desc;
  const int64_t per_image = (int64_t)d->channels * d->height * d->width;
  vitrt_status unchanged = check_unchanged(context->model);
  if (unchanged != VITRT_OK)
    return unchanged;
  if ((int64_t)images_count != batch * per_image)
    return fail(VITRT_INVALID_ARGUMENT,
                "vitrt_run: %lld images of %dx%dx%d need %lld floats, got %zu", (long long)batch,
                d->channels, d->height, d->width, (long long)(batch * per_image), images_count);
  if ((int64_t)outputs_count < batch * d->outputs)
    return fail(VITRT_INVALID_ARGUMENT,
                "vitrt_run: %lld outputs of %d need %lld floats, got room for %zu",
                (long long)batch, d->outputs, (long long)(batch * d->outputs), outputs_count);
  int64_t feature_width = 0;
  if (features) {
    if (d->features_value < 0)
      return fail(VITRT_INVALID_ARGUMENT, "vitrt_run: model '%s' has no features",
                  d->name);
    feature_width = d->values[d->features_value].shape[0];
    if ((int64_t)features_count < batch * feature_width)
      return fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_run: %lld feature vectors of %lld need %lld floats, got room "
                  "for %zu",
                  (long long)batch, (long long)feature_width,
                  (long long)(batch * feature_width), features_count);
  }
  const int64_t per_map = (int64_t)d->attention_layers * d->attention_heads *
                          d->attention_rows * d->attention_tokens;
  vitrt_status status =
      check_extra(d, "attention", extras->attention, extras->attention_count, batch, per_map);
  if (status == VITRT_OK)
    status = check_extra(d, "rollout", extras->rollout, extras->rollout_count, batch,
                         (int64_t)d->attention_rows * d->attention_tokens);
  if (status == VITRT_OK && extras->rollout && !d->attention_mean_values)
    status = fail(VITRT_INVALID_ARGUMENT,
                  "vitrt_run_ex: model '%s' has attention maps but not what their rollout "
                  "needs (compile it with vitc --attention-maps=rollout)",
                  d->name);
  if (status == VITRT_OK)
    status = reserve(context, batch);
  if (status != VITRT_OK)
    return status;

  /* One Halide buffer per value, over the slot (or the caller's array) it
   * lives in for this batch. */
  halide_buffer_t *buffers = calloc(d->num_values, sizeof *buffers);
  halide_dimension_t *dims = calloc((size_t)d->num_values * (VITRT_MAX_RANK + 1), sizeof *dims);
  if (!buffers || !dims) {
    free(buffers), free(dims);
    return fail(VITRT_OUT_OF_MEMORY, "vitrt_run: out of memory");
  }
  const int on_device = context->model->device != NULL;
  for (int i = 0; i < d->num_values; ++i) {
    const vitrt_value_desc *v = &d->values[i];
    void *host = i == d->input_value    ? (void *)images
                 : i == d->output_value ? (void *)outputs
                 : on_device            ? (i == d->features_value ? (void *)features : NULL)
                 : v->slot >= 0         ? (void *)context->slots[v->slot]
                                        : NULL;
    halide_dimension_t *vd = dims + (size_t)i * (VITRT_MAX_RANK + 1);
    fill_dims(vd, v->shape, v->rank, batch);
    init_buffer(&buffers[i], vd, v->rank + 1, host, f32_type);
    if (on_device && i == d->input_value)
      buffers[i].flags |= halide_buffer_flag_host_dirty; /* kernels copy it up */
    if (on_device && v->slot >= 0 && i != d->input_value && i != d->output_value) {
      /* A view of the slot's device memory; the slot owns it. */
      buffers[i].device = context->device_slots[v->slot].device;
      buffers[i].device_interface = context->device_slots[v->slot].device_interface;
    }
  }
  void *args[VITRT_MAX_KERNEL_ARGS];
  for (int s = 0; s < d->num_steps && status == VITRT_OK; ++s) {
    const vitrt_step_desc *step = &d->steps[s];
    if (step->num_args > VITRT_MAX_KERNEL_ARGS) {
      status = fail(VITRT_INVALID_ARGUMENT,
                    "vitrt_run: kernel %s takes %d arguments, more than this runtime's %d",
                    step->kernel, step->num_args, VITRT_MAX_KERNEL_ARGS);
      break;
    }
    for (int a = 0; a < step->num_args; ++a) {
      const vitrt_arg_desc *arg = &step->args[a];
      args[a] = arg->kind == VITRT_ARG_PARAM ? (void *)&context->model->params[arg->index]
                                             : (void *)&buffers[arg->index];
    }
    halide_message[0] = '\0';
    double start = context->profiling ? now_seconds() : 0.0;
    int rc = step->fn(args);
    if (rc == 0 && context->profiling && on_device)
      /* Time the kernel, not its launch: wait on its last result. */
      rc = d->device->device_sync(NULL, (halide_buffer_t *)args[step->num_args - 1]);
    if (rc != 0)
      status = fail(VITRT_KERNEL_FAILED, "vitrt_run: kernel %s (step %d) failed with code %d: %s",
                    step->kernel, s, rc, halide_message);
    else if (context->profiling)
      record(context, step, batch, now_seconds() - start);
  }
  if (on_device) {
    /* Only the outputs (and the features) come back; the input's and the
     * output's device copies are per run. */
    halide_message[0] = '\0';
    int rc = status == VITRT_OK ? d->device->copy_to_host(NULL, &buffers[d->output_value]) : 0;
    if (rc == 0 && status == VITRT_OK && features)
      rc = d->device->copy_to_host(NULL, &buffers[d->features_value]);
    if (rc != 0)
      status = device_failure("vitrt_run: copying the results from the device", rc);
    for (int i = 0; i < d->num_values; ++i)
      if ((i == d->input_value || i == d->output_value) && buffers[i].device)
        d->device->device_free(NULL, &buffers[i]);
  } else if (status == VITRT_OK) {
    if (features)
      memcpy(features, buffers[d->features_value].host,
             (size_t)(batch * feature_width) * sizeof(float));
    if (extras->attention || extras->rollout)
      status = copy_attention(d, buffers, batch, extras->attention, extras->rollout);
  }
  free(buffers);
  free(dims);
  return status;
}

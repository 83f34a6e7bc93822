/*===- vitrt_model.h - the contract between compiled models and libvitrt ---===*
 *
 * A library that vitc compiles exports one function returning a
 * vitrt_model_desc: the model's kernels, parameters, values and the sequence
 * of kernel calls. libvitrt reads it to open weights and run batches. Users
 * do not need this header; they include vitrt.h.
 *
 * Tensor shapes are row-major and exclude the batch dimension for values
 * (activations); the batch is chosen per run. Kernels are Halide pipelines
 * called through their `_argv` entry points with halide_buffer_t arguments.
 *
 *===----------------------------------------------------------------------===*/

#ifndef VITRT_MODEL_H
#define VITRT_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3: parameters carry an element type (vitrt_param_desc.dtype).
 * 4: the model names the CPU features its kernels use (cpu_features).
 * 5: the patch grid, and attention maps (vitc --attention-maps). */
#define VITRT_ABI_VERSION 5
#define VITRT_MAX_RANK 4
#define VITRT_MAX_KERNEL_ARGS 16 /* operands and results of one kernel */

/* Halide's argv entry point: args[i] points at a halide_buffer_t. */
typedef int (*vitrt_kernel_fn)(void **args);

/* The Halide runtime linked into the model library, reached through the
 * description so that libvitrt needs no Halide symbols of its own (a model
 * can then be a dlopen()ed shared library). */
typedef void (*vitrt_error_handler)(void *user_context, const char *message);
typedef vitrt_error_handler (*vitrt_set_error_handler_fn)(vitrt_error_handler handler);
typedef int (*vitrt_set_num_threads_fn)(int threads);

/* GPU models only: Halide's device API, as linked into the model library. */
struct halide_buffer_t;
struct halide_device_interface_t;
typedef struct vitrt_device_api {
  const char *name; /* "cuda", "opencl", ... */
  const struct halide_device_interface_t *(*interface)(void);
  int (*copy_to_device)(void *user_context, struct halide_buffer_t *buffer,
                        const struct halide_device_interface_t *interface);
  int (*copy_to_host)(void *user_context, struct halide_buffer_t *buffer);
  int (*device_malloc)(void *user_context, struct halide_buffer_t *buffer,
                       const struct halide_device_interface_t *interface);
  int (*device_free)(void *user_context, struct halide_buffer_t *buffer);
  int (*device_sync)(void *user_context, struct halide_buffer_t *buffer);
  void (*device_release)(void *user_context,
                         const struct halide_device_interface_t *interface);
  void (*set_gpu_device)(int device);
#ifdef __cplusplus
  int (*reuse_device_allocations)(void *user_context, bool reuse);
#else
  int (*reuse_device_allocations)(void *user_context, _Bool reuse);
#endif
} vitrt_device_api;

enum vitrt_arg_kind {
  VITRT_ARG_PARAM = 0, /* a weight tensor; index into params */
  VITRT_ARG_VALUE = 1, /* an activation; index into values */
};

/* How a parameter's elements are stored in the weights file (and read by its
 * kernels); activations are always f32. */
enum vitrt_dtype {
  VITRT_DTYPE_F32 = 0,
  VITRT_DTYPE_BF16 = 1,
  VITRT_DTYPE_F16 = 2,
  VITRT_DTYPE_I8 = 3,
};

typedef struct vitrt_param_desc {
  const char *name;
  int32_t rank;
  int32_t dtype; /* enum vitrt_dtype */
  int64_t shape[VITRT_MAX_RANK];
  uint64_t offset; /* byte offset of its data after the weights file's header */
} vitrt_param_desc;

typedef struct vitrt_value_desc {
  int32_t rank; /* without the batch dimension */
  int64_t shape[VITRT_MAX_RANK];
  int32_t slot; /* memory slot it lives in; -1: the caller's input or output */
} vitrt_value_desc;

typedef struct vitrt_arg_desc {
  int32_t kind; /* enum vitrt_arg_kind */
  int32_t index;
} vitrt_arg_desc;

typedef struct vitrt_step_desc {
  const char *kernel; /* for messages */
  vitrt_kernel_fn fn;
  int32_t num_args;
  const vitrt_arg_desc *args; /* inputs in operand order, then outputs */
  double flops_per_image;     /* multiply-adds x 2 of its GEMMs, per image */
} vitrt_step_desc;

typedef struct vitrt_model_desc {
  int32_t abi_version; /* VITRT_ABI_VERSION */
  const char *name;
  const char *target; /* Halide target string the kernels were compiled for */
  /* The CPU features its kernels use, space-separated, as GCC's
   * __builtin_cpu_supports names them ("avx2 fma ... avx512bf16 amx-bf16");
   * vitrt_open refuses a model this CPU cannot run. Empty: nothing checked. */
  const char *cpu_features;
  /* The weights file: its header (8-byte length + JSON) must equal this
   * exactly; it names every tensor, shape, offset and the fingerprint. */
  const char *weights_header;
  uint64_t weights_header_size;
  uint64_t weights_data_size;
  const char *fingerprint;
  /* Input [batch, channels, height, width] and output [batch, outputs]. */
  int32_t channels, height, width, outputs;
  float mean[3], std[3]; /* preprocessing: (pixel / 255 - mean) / std */
  float crop_fraction;   /* 0: resize to height x width; else centre crop of this fraction */
  int32_t num_params;
  const vitrt_param_desc *params;
  int32_t num_values;
  const vitrt_value_desc *values;
  int32_t input_value, output_value;
  int32_t features_value; /* what the classifier reads, kept to the end; -1: none */
  int32_t num_slots;
  const int64_t *slot_elements; /* floats per image in each slot */
  int32_t num_steps;
  const vitrt_step_desc *steps;
  vitrt_set_error_handler_fn set_error_handler; /* halide_set_error_handler */
  vitrt_set_num_threads_fn set_num_threads;     /* halide_set_num_threads */
  /* NULL for CPU models. For GPU models, weights live on the device from
   * vitrt_open on, and activations between kernels never leave it. */
  const vitrt_device_api *device;
  /* The patch grid (grid_height x grid_width patches) and the tokens before
   * it in the sequence (class, distillation). */
  int32_t grid_height, grid_width, prefix_tokens;
  /* Attention maps (vitc --attention-maps; else attention_layers is 0). Per
   * layer, two values its attention kernel computes, kept to the end of a
   * run: attention_class_values[l], [heads, rows, tokens], the probabilities
   * of the query rows row_begin..row_end-1 per head (row_mean: their mean,
   * rows = 1); with --attention-maps=rollout (else NULL),
   * attention_mean_values[l], [queries, tokens], every query row's
   * probabilities averaged over the heads (queries: the rows the layer
   * computes, fewer in a last layer narrowed to the class token). */
  int32_t attention_layers, attention_heads, attention_rows, attention_tokens;
  int32_t attention_row_begin, attention_row_end, attention_row_mean;
  const int32_t *attention_class_values;
  const int32_t *attention_mean_values;
} vitrt_model_desc;

#ifdef __cplusplus
}
#endif

#endif /* VITRT_MODEL_H */

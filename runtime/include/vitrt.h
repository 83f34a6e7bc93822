/*===- vitrt.h - run Vision Transformers compiled by vitc ------------------===*
 *
 *   const vitrt_model_desc *desc = vit_b16_model();      // from vit_b16.h
 *   vitrt_model *model;  vitrt_context *ctx;
 *   if (vitrt_open(desc, "vit_b16.safetensors", NULL, &model) != VITRT_OK ||
 *       vitrt_context_create(model, &ctx) != VITRT_OK)
 *     fprintf(stderr, "%s\n", vitrt_last_error());
 *   vitrt_run(ctx, images, batch * 3 * 224 * 224, batch, logits, batch * 1000);
 *   // with --attention-maps: vitrt_run_ex(..., &(vitrt_run_extras){.rollout = r, ...})
 *   vitrt_context_destroy(ctx);  vitrt_close(model);
 *
 * A model (weights, mapped read-only) may be shared by threads; a context
 * (activation memory) belongs to one thread at a time. Every call returns a
 * status; on failure vitrt_last_error() says what was wrong, in this thread.
 *
 *===----------------------------------------------------------------------===*/

#ifndef VITRT_H
#define VITRT_H

#include <stddef.h>
#include <stdint.h>

#include "vitrt_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitrt_status {
  VITRT_OK = 0,
  VITRT_INVALID_ARGUMENT = 1, /* null pointer, wrong size or batch */
  VITRT_IO_ERROR = 2,         /* the weights file cannot be read */
  VITRT_WEIGHTS_MISMATCH = 3, /* the weights file is not this library's */
  VITRT_OUT_OF_MEMORY = 4,
  VITRT_KERNEL_FAILED = 5, /* a compiled kernel reported an error */
  VITRT_DEVICE_ERROR = 6,  /* GPU models: no device, a failed upload or allocation, a driver
                              error (out of memory inside a kernel is VITRT_KERNEL_FAILED) */
  VITRT_UNSUPPORTED_CPU = 7, /* the library's kernels use CPU features (AVX-512, BF16, AMX, ...)
                                that this CPU, or the OS for it, does not provide */
} vitrt_status;

/* All-zero options are the defaults. */
typedef struct vitrt_options {
  int num_threads;    /* worker threads for kernels; 0: one per core. Process-wide. */
  const char *device; /* GPU models: the device index, e.g. "1"; NULL or "": the driver's
                         default (or HL_GPU_DEVICE). Process-wide: every GPU model open at
                         once runs on the same device. */
  int private_weights; /* 0 (default): map the weights file, which costs no memory until read
                          and shares pages between processes; every run first checks that the
                          file has not been truncated or rewritten since vitrt_open and fails
                          if it has (replacing it by a rename is safe: the model keeps the old
                          file). 1: read the weights into private memory at open, so nothing
                          done to the file later can affect the model (costs their size in
                          memory per process). */
} vitrt_options;

typedef struct vitrt_model vitrt_model;
typedef struct vitrt_context vitrt_context;

typedef struct vitrt_model_info {
  const char *name;
  int channels, height, width; /* input: float NCHW [batch, channels, height, width] */
  int outputs;                 /* output: float [batch, outputs] */
  int features;                /* pre-logits features: float [batch, features]; 0: none */
  float mean[3], std[3];       /* preprocessing: (pixel / 255 - mean[c]) / std[c] */
  float crop_fraction;         /* 0: resize the whole image to height x width; else scale
                                  the shorter side to size / crop_fraction, crop the centre */
  const char *precision;       /* of the GEMM weights: "f32", "int8" or "bf16" (vitc --precision) */
  int grid_height, grid_width; /* the patch grid the image is cut into */
  int prefix_tokens;           /* tokens before the patches: class, distillation */
  /* Attention maps, when compiled with vitc --attention-maps (else 0
   * layers): `layers` x `heads` maps of `rows` query rows over `tokens`
   * keys (prefix_tokens, then the grid row by row). The rows are the class
   * token's (and DeiT's distillation token's), or for a model that pools
   * the mean of its tokens, one row: the mean over the rows it pools. */
  int attention_layers, attention_heads, attention_rows, attention_tokens;
  int attention_rollout; /* 1: compiled with --attention-maps=rollout */
} vitrt_model_info;

/* Maps `weights_path` (written by vitc with the library) and checks it
 * belongs to `desc`. `options` may be NULL. Destroy a model's contexts
 * before closing it. */
vitrt_status vitrt_open(const vitrt_model_desc *desc, const char *weights_path,
                        const vitrt_options *options, vitrt_model **model);
void vitrt_close(vitrt_model *model);
vitrt_status vitrt_get_info(const vitrt_model *model, vitrt_model_info *info);

vitrt_status vitrt_context_create(vitrt_model *model, vitrt_context **context);
void vitrt_context_destroy(vitrt_context *context);

/* Classifies `batch` images. `images_count` and `outputs_count` are the
 * number of floats the two arrays hold; they are checked against the batch. */
vitrt_status vitrt_run(vitrt_context *context, const float *images, size_t images_count,
                       int64_t batch, float *outputs, size_t outputs_count);

/* vitrt_run that also returns what the classifier reads (the pooled,
 * normalised, optionally pre-logits features), `batch x info.features`
 * floats, into `features`. */
vitrt_status vitrt_run_features(vitrt_context *context, const float *images,
                                size_t images_count, int64_t batch, float *outputs,
                                size_t outputs_count, float *features, size_t features_count);

/* What vitrt_run_ex returns beside the outputs; a NULL array is not
 * returned. Counts are the floats each array holds, checked against the
 * batch. */
typedef struct vitrt_run_extras {
  float *features; /* [batch, info.features], as vitrt_run_features */
  size_t features_count;
  /* Models compiled with --attention-maps: the attention probabilities of
   * the map rows, [batch, layers, heads, rows, tokens]. */
  float *attention;
  size_t attention_count;
  /* ... and their attention rollout (Abnar & Zuidema 2020): the map rows of
   * A'_L ... A'_1, A'_l = (head mean of layer l's attention + I) / 2,
   * [batch, rows, tokens]. Models compiled with --attention-maps=rollout. */
  float *rollout;
  size_t rollout_count;
} vitrt_run_extras;

/* vitrt_run that also returns what `extras` asks for (may be NULL). */
vitrt_status vitrt_run_ex(vitrt_context *context, const float *images, size_t images_count,
                          int64_t batch, float *outputs, size_t outputs_count,
                          const vitrt_run_extras *extras);

/* Per-kernel timing, off by default: after vitrt_context_set_profiling(ctx, 1),
 * each run adds every kernel call's time (GPU models: synchronised) to the
 * context's profile. */
typedef struct vitrt_kernel_profile {
  const char *kernel; /* e.g. "k2_fused_mlp" */
  int64_t calls;
  double seconds;     /* total over the calls */
  double flops;       /* total GEMM FLOPs of the calls (0: not a GEMM kernel) */
  double best_seconds; /* the fastest call (a noisy machine slows some calls).
                          A later field: callers allocate these entries, so
                          programs built against an older vitrt.h must be
                          rebuilt. */
} vitrt_kernel_profile;

vitrt_status vitrt_context_set_profiling(vitrt_context *context, int enabled);
/* Copies up to `capacity` entries (one per distinct kernel, in first-call
 * order) and sets *count to the number there are. Resets with enabled = 1. */
vitrt_status vitrt_context_get_profile(const vitrt_context *context,
                                       vitrt_kernel_profile *entries, int capacity,
                                       int *count);

/* The message of this thread's last failed call ("" if none). */
const char *vitrt_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* VITRT_H */

/* The weight GEMMs of vitc's bf16 and int8 kernels on CPUs with AMX, as
 * Halide extern stages: out(x, rows...) = sum_k lhs(k, rows...) * weight(k, x)
 * for one column range of the output per call, in AMX tiles:
 *   bf16: f32 sums of bf16 products (tdpbf16ps; AMX-BF16);
 *   int8: i32 sums of u8 x s8 products (tdpbusd; AMX-INT8), the quantized
 *         rows of int8GemmStages times the quantized weights.
 * The kernel's epilogue (zero point and scales, bias, activation, residual)
 * reads `out`.
 *
 * Why not Halide's own AMX lowering: Halide 21 lowers only a 2-D accumulator
 * computed at a root wrapper, fails inside parallel loops and on dense
 * 16-column weight panels (docs/BACKEND.md). These run inside the kernel's
 * parallel loop, one call per column block and image.
 *
 * Layouts (Halide dimensions, innermost first), with G = 2 (bf16) or 4 (int8)
 * adjacent k per column, the group one dot product lane sums:
 *   lhs    (k, rows, batch): k dense, any row and batch strides;
 *   weight (G, 16, K / G, M / 16): panels of 16 columns, each column's groups
 *          of k adjacent, so 64 bytes of k (32 bf16 or 64 int8) of a panel are
 *          one AMX B tile of 16 rows of 64 bytes, dense;
 *   out    (x, rows, batch): f32 or i32; x's min and extent multiples of 16.
 * K is a multiple of G; a K that is not a multiple of a tile's k ends in a
 * narrower tile. Row blocks of 16 end in a shorter one.
 *
 * Compiled into every model library that uses it (vitc embeds this file in
 * model.c) and, with VITC_AMX_EMULATE, into a test that runs it on any CPU
 * through a scalar model of the tile instructions (test/runtime). */

#include <stdint.h>
#include <string.h>

/* halide_buffer_t's layout (HalideRuntime.h): model libraries are compiled
 * without Halide's headers. The unit tests call the kernel with Halide's own
 * buffers, so a mismatch fails them. */
struct vitc_amx_dimension {
  int32_t min, extent, stride;
  uint32_t flags;
};
struct vitc_amx_buffer {
  uint64_t device;
  const void *device_interface;
  uint8_t *host;
  uint64_t flags;
  uint8_t type_code, type_bits;
  uint16_t type_lanes;
  int32_t dimensions;
  struct vitc_amx_dimension *dim;
  void *padding;
};
struct halide_buffer_t;

/* The tile registers: C0, C1 accumulate two 16-column groups; A holds 16
 * rows of 64 bytes of k, B0 and B1 the two groups' same k; the tails hold
 * the last k. Macros, not an enum: GCC's intrinsics paste the number into
 * the register name. */
#define TILE_C0 0
#define TILE_C1 1
#define TILE_A 2
#define TILE_B0 3
#define TILE_B1 4
#define TILE_A_TAIL 5
#define TILE_B0_TAIL 6
#define TILE_B1_TAIL 7

/* AMX's tile configuration (palette 1): bytes per row and rows of each of
 * the 8 tile registers. */
struct vitc_amx_config {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

enum vitc_amx_kind { VITC_AMX_BF16, VITC_AMX_INT8 };

#ifdef VITC_AMX_EMULATE
/* A scalar model of the tile instructions the kernel uses, after Intel's
 * SDM: tdpbf16ps, C[m][n] += A[m][2p] B[p][2n] + A[m][2p+1] B[p][2n+1] over
 * the pairs p (products of bf16, exact in f32; the hardware's order of the
 * f32 additions, and its flushing of denormals, may differ in the last
 * bits); tdpbusd, C[m][n] += u8 A[m][4p+i] times s8 B[p][4n+i] over the
 * groups p and i < 4, exactly. It also checks the shapes the hardware
 * would fault on, and `compute` then fails. */
static _Thread_local struct vitc_amx_config emulated_config;
static _Thread_local uint8_t emulated_tiles[8][16][64];
static _Thread_local int emulated_fault;

static int tile_ok(int t) {
  return emulated_config.palette == 1 && emulated_config.rows[t] >= 1 &&
         emulated_config.rows[t] <= 16 && emulated_config.colsb[t] >= 4 &&
         emulated_config.colsb[t] <= 64 && emulated_config.colsb[t] % 4 == 0;
}
/* tdp*'s shapes: C rows = A rows, A's 4-byte columns = B rows, C columns
 * = B columns. */
static int dp_ok(int c, int a, int b) {
  const struct vitc_amx_config *k = &emulated_config;
  return tile_ok(c) && tile_ok(a) && tile_ok(b) && k->rows[c] == k->rows[a] &&
         k->colsb[a] / 4 == k->rows[b] && k->colsb[c] == k->colsb[b];
}

static float bf16_to_f32(uint16_t bits) {
  uint32_t wide = (uint32_t)bits << 16;
  float value;
  memcpy(&value, &wide, sizeof value);
  return value;
}
static void tile_config(const struct vitc_amx_config *config) {
  emulated_config = *config;
  memset(emulated_tiles, 0, sizeof emulated_tiles);
}
static void tile_release(void) {}
static void tile_zero(int t) {
  emulated_fault |= !tile_ok(t);
  memset(emulated_tiles[t], 0, sizeof emulated_tiles[t]);
}
static void tile_load(int t, const void *base, long stride) {
  emulated_fault |= !tile_ok(t);
  memset(emulated_tiles[t], 0, sizeof emulated_tiles[t]);
  for (int r = 0; r < emulated_config.rows[t]; ++r)
    memcpy(emulated_tiles[t][r], (const uint8_t *)base + r * stride, emulated_config.colsb[t]);
}
static void tile_store(int t, void *base, long stride) {
  emulated_fault |= !tile_ok(t);
  for (int r = 0; r < emulated_config.rows[t]; ++r)
    memcpy((uint8_t *)base + r * stride, emulated_tiles[t][r], emulated_config.colsb[t]);
}
static void tile_dpbf16ps(int c, int a, int b) {
  emulated_fault |= !dp_ok(c, a, b);
  const int rows = emulated_config.rows[c], columns = emulated_config.colsb[c] / 4;
  const int pairs = emulated_config.colsb[a] / 4;
  for (int m = 0; m < rows; ++m)
    for (int n = 0; n < columns; ++n) {
      float sum;
      memcpy(&sum, &emulated_tiles[c][m][4 * n], 4);
      for (int p = 0; p < pairs; ++p) {
        uint16_t a0, a1, b0, b1;
        memcpy(&a0, &emulated_tiles[a][m][4 * p], 2);
        memcpy(&a1, &emulated_tiles[a][m][4 * p + 2], 2);
        memcpy(&b0, &emulated_tiles[b][p][4 * n], 2);
        memcpy(&b1, &emulated_tiles[b][p][4 * n + 2], 2);
        sum += bf16_to_f32(a0) * bf16_to_f32(b0);
        sum += bf16_to_f32(a1) * bf16_to_f32(b1);
      }
      memcpy(&emulated_tiles[c][m][4 * n], &sum, 4);
    }
}
static void tile_dpbusd(int c, int a, int b) {
  emulated_fault |= !dp_ok(c, a, b);
  const int rows = emulated_config.rows[c], columns = emulated_config.colsb[c] / 4;
  const int groups = emulated_config.colsb[a] / 4;
  for (int m = 0; m < rows; ++m)
    for (int n = 0; n < columns; ++n) {
      int32_t sum;
      memcpy(&sum, &emulated_tiles[c][m][4 * n], 4);
      for (int p = 0; p < groups; ++p)
        for (int i = 0; i < 4; ++i)
          sum += (int32_t)emulated_tiles[a][m][4 * p + i] *
                 (int32_t)(int8_t)emulated_tiles[b][p][4 * n + i];
      memcpy(&emulated_tiles[c][m][4 * n], &sum, 4);
    }
}
#define VITC_AMX_FUNCTION static
#define EMULATED_FAULT() emulated_fault
#define TILE_CONFIG(config) tile_config(config)
#define TILE_RELEASE() tile_release()
#define TILE_ZERO(t) tile_zero(t)
#define TILE_LOAD(t, base, stride) tile_load(t, base, stride)
#define TILE_STORE(t, base, stride) tile_store(t, base, stride)
#define TILE_DPBF16PS(c, a, b) tile_dpbf16ps(c, a, b)
#define TILE_DPBUSD(c, a, b) tile_dpbusd(c, a, b)
#else
#include <immintrin.h>
#define VITC_AMX_FUNCTION static __attribute__((target("amx-tile,amx-bf16,amx-int8")))
#define EMULATED_FAULT() 0
#define TILE_CONFIG(config) _tile_loadconfig(config)
#define TILE_RELEASE() _tile_release()
#define TILE_ZERO(t) _tile_zero(t)
#define TILE_LOAD(t, base, stride) _tile_loadd(t, base, stride)
#define TILE_STORE(t, base, stride) _tile_stored(t, base, stride)
#define TILE_DPBF16PS(c, a, b) _tile_dpbf16ps(c, a, b)
#define TILE_DPBUSD(c, a, b) _tile_dpbusd(c, a, b)
#endif

/* Tiles for blocks of `rows` rows (1-16) and a K tail of `tail_bytes` bytes
 * of each A row (a multiple of 4 below 64; 0: none), whose B tiles have one
 * row per 4 bytes of A. */
static void configure(struct vitc_amx_config *config, int rows, int tail_bytes) {
  memset(config, 0, sizeof *config);
  config->palette = 1;
  const int tail_rows = tail_bytes > 0 ? tail_bytes / 4 : 1;
  const struct { int tile, rows, bytes; } shapes[] = {
      {TILE_C0, rows, 64},           {TILE_C1, rows, 64},
      {TILE_A, rows, 64},            {TILE_B0, 16, 64},
      {TILE_B1, 16, 64},             {TILE_A_TAIL, rows, tail_bytes > 0 ? tail_bytes : 64},
      {TILE_B0_TAIL, tail_rows, 64}, {TILE_B1_TAIL, tail_rows, 64}};
  for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
    config->rows[shapes[i].tile] = (uint8_t)shapes[i].rows;
    config->colsb[shapes[i].tile] = (uint16_t)shapes[i].bytes;
  }
}

#define TILE_DP(kind, c, a, b)                                                                     \
  do {                                                                                             \
    if ((kind) == VITC_AMX_INT8)                                                                   \
      TILE_DPBUSD(c, a, b);                                                                        \
    else                                                                                           \
      TILE_DPBF16PS(c, a, b);                                                                      \
  } while (0)

/* One block of rows by one or two 16-column groups: the k loop in 64-byte
 * steps of each A row (one B tile per group each), then the tail, then the
 * sums stored. A panel holds 16 x 64 bytes per 64 bytes of A rows. */
VITC_AMX_FUNCTION void block(enum vitc_amx_kind kind, const uint8_t *a, long a_stride,
                             const uint8_t *panel0, const uint8_t *panel1, long k_bytes,
                             uint8_t *c, long c_stride) {
  TILE_ZERO(TILE_C0);
  if (panel1)
    TILE_ZERO(TILE_C1);
  long at = 0;
  for (; at + 64 <= k_bytes; at += 64) {
    TILE_LOAD(TILE_A, a + at, a_stride);
    TILE_LOAD(TILE_B0, panel0 + 16 * at, 64);
    TILE_DP(kind, TILE_C0, TILE_A, TILE_B0);
    if (panel1) {
      TILE_LOAD(TILE_B1, panel1 + 16 * at, 64);
      TILE_DP(kind, TILE_C1, TILE_A, TILE_B1);
    }
  }
  if (at < k_bytes) {
    TILE_LOAD(TILE_A_TAIL, a + at, a_stride);
    TILE_LOAD(TILE_B0_TAIL, panel0 + 16 * at, 64);
    TILE_DP(kind, TILE_C0, TILE_A_TAIL, TILE_B0_TAIL);
    if (panel1) {
      TILE_LOAD(TILE_B1_TAIL, panel1 + 16 * at, 64);
      TILE_DP(kind, TILE_C1, TILE_A_TAIL, TILE_B1_TAIL);
    }
  }
  TILE_STORE(TILE_C0, c, c_stride);
  if (panel1)
    TILE_STORE(TILE_C1, c + 64, c_stride);
}

/* `element` bytes per k of lhs (2 for bf16, 1 for int8). */
VITC_AMX_FUNCTION int compute(enum vitc_amx_kind kind, int element, struct vitc_amx_buffer *lhs,
                              struct vitc_amx_buffer *weight, int k,
                              struct vitc_amx_buffer *out) {
  const struct vitc_amx_dimension *o = out->dim, *l = lhs->dim, *w = weight->dim;
  const int batches = out->dimensions > 2 ? o[2].extent : 1;
  const int rows = o[1].extent, groups = o[0].extent / 16;
  const long k_bytes = (long)k * element;
  /* Weight elements are 1 byte (int8) or 2 (bf16), as lhs's. */
  const long panel_bytes = (long)w[3].stride * element;
  struct vitc_amx_config config;
  int configured_rows = 0;
#ifdef VITC_AMX_EMULATE
  emulated_fault = 0;
#endif
  for (int b = 0; b < batches; ++b) {
    /* Bytes of each buffer at (0, first row, batch b). */
    const uint8_t *a_batch = lhs->host;
    uint8_t *c_batch = out->host;
    if (out->dimensions > 2) {
      a_batch += (long)(o[2].min + b - l[2].min) * l[2].stride * element;
      c_batch += (long)b * o[2].stride * 4;
    }
    a_batch += ((long)(o[1].min - l[1].min) * l[1].stride - l[0].min) * element;
    for (int g = 0; g < groups; g += 2) {
      /* The panels of groups g and g + 1 (weight dimension 3). */
      const long panel = o[0].min / 16 + g - w[3].min;
      const uint8_t *panel0 = weight->host + panel * panel_bytes;
      const uint8_t *panel1 = g + 1 < groups ? panel0 + panel_bytes : 0;
      for (int r = 0; r < rows; r += 16) {
        const int block_rows = rows - r < 16 ? rows - r : 16;
        if (block_rows != configured_rows) {
          configure(&config, block_rows, (int)(k_bytes % 64));
          TILE_CONFIG(&config);
          configured_rows = block_rows;
        }
        block(kind, a_batch + (long)r * l[1].stride * element, (long)l[1].stride * element,
              panel0, panel1, k_bytes, c_batch + ((long)r * o[1].stride + 16L * g) * 4,
              4L * o[1].stride);
      }
    }
  }
  if (configured_rows)
    TILE_RELEASE();
  return EMULATED_FAULT() ? -2 : 0;
}

/* A bounds query (an input without memory) asks which parts of the inputs a
 * region of `out` reads: all of k, the same rows and batches, the region's
 * panels. Else the region is computed, if Halide's bounds gave what the
 * kernel needs (a mismatch would read the wrong memory). */
static int gemm(enum vitc_amx_kind kind, struct halide_buffer_t *lhs_buffer,
                struct halide_buffer_t *weight_buffer, int k,
                struct halide_buffer_t *out_buffer) {
  struct vitc_amx_buffer *lhs = (struct vitc_amx_buffer *)lhs_buffer,
                         *weight = (struct vitc_amx_buffer *)weight_buffer,
                         *out = (struct vitc_amx_buffer *)out_buffer;
  const int group = kind == VITC_AMX_INT8 ? 4 : 2, element = kind == VITC_AMX_INT8 ? 1 : 2;
  if (!lhs->host || !weight->host) {
    lhs->dim[0].min = 0;
    lhs->dim[0].extent = k;
    for (int d = 1; d < out->dimensions && d < lhs->dimensions; ++d) {
      lhs->dim[d].min = out->dim[d].min;
      lhs->dim[d].extent = out->dim[d].extent;
    }
    const int extents[3] = {group, 16, k / group};
    for (int d = 0; d < 3; ++d) {
      weight->dim[d].min = 0;
      weight->dim[d].extent = extents[d];
    }
    weight->dim[3].min = out->dim[0].min / 16;
    weight->dim[3].extent = (out->dim[0].extent + 15) / 16;
    return 0;
  }
  const struct vitc_amx_dimension *l = lhs->dim, *w = weight->dim, *o = out->dim;
  if (o[0].min % 16 || o[0].extent % 16 || k % group || l[0].stride != 1 || w[0].stride != 1 ||
      w[1].stride != group || w[2].stride != 16 * group || o[0].stride != 1 ||
      lhs->type_bits != 8 * element || weight->type_bits != 8 * element ||
      out->type_bits != 32 || lhs->dimensions != out->dimensions || weight->dimensions != 4)
    return -1;
  /* The inputs cover what the region reads: all of k, its rows and batches,
   * its panels. */
  int covered = l[0].min <= 0 && l[0].min + l[0].extent >= k && w[2].min <= 0 &&
                w[2].min + w[2].extent >= k / group && w[3].min <= o[0].min / 16 &&
                w[3].min + w[3].extent >= (o[0].min + o[0].extent) / 16;
  for (int d = 1; d < out->dimensions; ++d)
    covered &= l[d].min <= o[d].min && l[d].min + l[d].extent >= o[d].min + o[d].extent;
  if (!covered)
    return -1;
  return compute(kind, element, lhs, weight, k, out);
}

/* The extern stages (Halide calls them with halide_buffer_t pointers).
 * Every AMX model library carries a copy: hidden, so that two shared
 * libraries each call their own, and weak, so that two static ones link. */
#define VITC_AMX_EXPORT __attribute__((weak, visibility("hidden")))
VITC_AMX_EXPORT int vitc_amx_bf16_gemm(struct halide_buffer_t *lhs,
                                       struct halide_buffer_t *weight, int k,
                                       struct halide_buffer_t *out) {
  return gemm(VITC_AMX_BF16, lhs, weight, k, out);
}
VITC_AMX_EXPORT int vitc_amx_int8_gemm(struct halide_buffer_t *lhs,
                                       struct halide_buffer_t *weight, int k,
                                       struct halide_buffer_t *out) {
  return gemm(VITC_AMX_INT8, lhs, weight, k, out);
}

//===- VitAttrs.td - target and tiling attributes, enums ------------------===//
//
// Target decisions are attributes (the IREE lowering_config idea): one pass
// chooses them, later stages only read them, so tiling can be FileChecked
// before any code is emitted.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_ATTRS_TD
#define VIT_ATTRS_TD

include "VitDialect.td"
include "mlir/IR/EnumAttr.td"
include "VitInterfaces.td"

def Vit_GeluErf : I32EnumAttrCase<"Erf", 0, "erf">;
def Vit_GeluTanh : I32EnumAttrCase<"Tanh", 1, "tanh">;
def Vit_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how GELU is evaluated", [Vit_GeluErf, Vit_GeluTanh]> {
  let cppNamespace = "::mlir::vit";
}

def Vit_MlpGeluErf : I32EnumAttrCase<"GeluErf", 0, "gelu_erf">;
def Vit_MlpGeluTanh : I32EnumAttrCase<"GeluTanh", 1, "gelu_tanh">;
def Vit_MlpRelu : I32EnumAttrCase<"Relu", 2, "relu">;
def Vit_MlpActivation : I32EnumAttr<"MlpActivation",
    "the activation between the two layers of an MLP",
    [Vit_MlpGeluErf, Vit_MlpGeluTanh, Vit_MlpRelu]> {
  let cppNamespace = "::mlir::vit";
}

def Vit_PoolClassToken : I32EnumAttrCase<"ClassToken", 0, "class_token">;
def Vit_PoolMean : I32EnumAttrCase<"Mean", 1, "mean">;
def Vit_HeadPooling : I32EnumAttr<"HeadPooling",
    "how the classifier head reduces the tokens to one vector",
    [Vit_PoolClassToken, Vit_PoolMean]> {
  let cppNamespace = "::mlir::vit";
}

def Vit_NormTokens : I32EnumAttrCase<"Tokens", 0, "tokens">;
def Vit_NormPooled : I32EnumAttrCase<"Pooled", 1, "pooled">;
def Vit_HeadNormPlacement : I32EnumAttr<"HeadNormPlacement",
    "where the head's layer norm applies: to the tokens before pooling, or "
    "to the pooled vector (timm's fc_norm)",
    [Vit_NormTokens, Vit_NormPooled]> {
  let cppNamespace = "::mlir::vit";
}

class Vit_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Vit_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// The CPU features tile selection and code generation choose by. Each is the
// whole instruction set a Halide target implies (avx512 is the Skylake set
// F/CD/BW/DQ/VL; avx512_sapphirerapids implies every x86 feature below).
def Vit_FeatureNone : I32BitEnumAttrCaseNone<"None", "none">;
def Vit_FeatureSse41 : I32BitEnumAttrCaseBit<"SSE41", 0, "sse41">;
def Vit_FeatureAvx : I32BitEnumAttrCaseBit<"AVX", 1, "avx">;
def Vit_FeatureAvx2 : I32BitEnumAttrCaseBit<"AVX2", 2, "avx2">;
def Vit_FeatureFma : I32BitEnumAttrCaseBit<"FMA", 3, "fma">;
def Vit_FeatureF16c : I32BitEnumAttrCaseBit<"F16C", 4, "f16c">;
def Vit_FeatureAvxVnni : I32BitEnumAttrCaseBit<"AVXVNNI", 5, "avx_vnni">;
def Vit_FeatureAvx512 : I32BitEnumAttrCaseBit<"AVX512", 6, "avx512">;
def Vit_FeatureAvx512Vnni : I32BitEnumAttrCaseBit<"AVX512VNNI", 7, "avx512_vnni">;
def Vit_FeatureAvx512Bf16 : I32BitEnumAttrCaseBit<"AVX512BF16", 8, "avx512_bf16">;
def Vit_FeatureAmxInt8 : I32BitEnumAttrCaseBit<"AMXInt8", 9, "amx_int8">;
def Vit_FeatureAmxBf16 : I32BitEnumAttrCaseBit<"AMXBF16", 10, "amx_bf16">;
def Vit_FeatureNeon : I32BitEnumAttrCaseBit<"NEON", 11, "neon">;
def Vit_FeatureArmDotProd : I32BitEnumAttrCaseBit<"ARMDotProd", 12, "arm_dot_prod">;
def Vit_FeatureArmFp16 : I32BitEnumAttrCaseBit<"ARMFp16", 13, "arm_fp16">;
def Vit_CpuFeatures : I32BitEnumAttr<"CpuFeatures",
    "instruction-set features of a CPU target",
    [Vit_FeatureNone, Vit_FeatureSse41, Vit_FeatureAvx, Vit_FeatureAvx2,
     Vit_FeatureFma, Vit_FeatureF16c, Vit_FeatureAvxVnni, Vit_FeatureAvx512,
     Vit_FeatureAvx512Vnni, Vit_FeatureAvx512Bf16, Vit_FeatureAmxInt8,
     Vit_FeatureAmxBf16, Vit_FeatureNeon, Vit_FeatureArmDotProd,
     Vit_FeatureArmFp16]> {
  let cppNamespace = "::mlir::vit";
  let genSpecializedAttr = 0;
}

def Vit_GpuNone : I32EnumAttrCase<"None", 0, "none">;
def Vit_GpuCuda : I32EnumAttrCase<"Cuda", 1, "cuda">;
def Vit_GpuOpenCL : I32EnumAttrCase<"OpenCL", 2, "opencl">;
def Vit_GpuApi : I32EnumAttr<"GpuApi", "the GPU API a target's kernels run on",
    [Vit_GpuNone, Vit_GpuCuda, Vit_GpuOpenCL]> {
  let cppNamespace = "::mlir::vit";
  let genSpecializedAttr = 0;
}

def Vit_ParallelColumns : I32EnumAttrCase<"Columns", 0, "columns">;
def Vit_ParallelRows : I32EnumAttrCase<"Rows", 1, "rows">;
def Vit_TileParallel : I32EnumAttr<"TileParallel",
    "which tiles of a GEMM the cores share out",
    [Vit_ParallelColumns, Vit_ParallelRows]> {
  let cppNamespace = "::mlir::vit";
  let genSpecializedAttr = 0;
}

def Vit_TargetAttr : Vit_Attr<"Target", "target"> {
  let summary = "the machine a module is compiled for";
  let description = [{
    Placed on the module, and the only description of the machine that tile
    selection, the program builder and the schedules read: it is built once
    from the Halide target (compiler/target/TargetDescription.cpp), nothing
    later parses the target string again. `target` is the Halide target
    string the kernels are compiled for (`host`, `x86-64-linux-avx2`,
    `host-cuda-cuda_capability_80`, several comma-separated for runtime
    dispatch: the first one is described). `vector_bits` is the SIMD width
    the kernels use for f32, `vector_registers` how many SIMD registers a
    register tile may fill, `features` the instruction sets the target
    implies. GPU targets name their API and give the most threads per block
    and the shared memory per block; for them `cores` counts streaming
    multiprocessors (compute units), 1 unless given (`vitc --cores`), since
    no device is queried at compile time.

    Example:
    ```mlir
    module attributes {vit.target = #vit.target<target = "x86-64-linux-avx2",
        vector_bits = 256, vector_registers = 16, cores = 2,
        features = "sse41|avx|avx2|fma|f16c">} {}
    ```
  }];
  let parameters = (ins
    StringRefParameter<"Halide target string">:$target,
    "int64_t":$vector_bits,
    DefaultValuedParameter<"int64_t", "0",
        "SIMD registers a register tile may fill (0 on GPUs)">:$vector_registers,
    "int64_t":$cores,
    DefaultValuedParameter<"::mlir::vit::CpuFeatures",
        "::mlir::vit::CpuFeatures::None", "CPU features">:$features,
    DefaultValuedParameter<"::mlir::vit::GpuApi", "::mlir::vit::GpuApi::None",
        "the GPU API (none: a CPU target)">:$gpu,
    DefaultValuedParameter<"int64_t", "0",
        "GPU targets: most threads per block">:$gpu_threads,
    DefaultValuedParameter<"int64_t", "0",
        "GPU targets: shared memory per block in bytes">:$gpu_shared_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the target has every feature in `wanted`.
    bool has(::mlir::vit::CpuFeatures wanted) const {
      return ::mlir::vit::bitEnumContainsAll(getFeatures(), wanted);
    }
    bool isGpu() const { return getGpu() != ::mlir::vit::GpuApi::None; }
    /// The largest magnitude of int8 GEMM weights: 127 where the kernels'
    /// int8 dot product sums 4 u8 x s8 products exactly in int32 (vpdpbusd
    /// with AVX512-VNNI; targets other than x86), 63 on other x86 targets,
    /// whose kernels sum pairs with vpmaddubsw: its i16 sums saturate beyond
    /// that (2 x 255 x 63 = 32130 < 32767 < 2 x 255 x 127).
    int64_t getInt8WeightLevels() const {
      bool x86 = has(::mlir::vit::CpuFeatures::SSE41);
      return x86 && !has(::mlir::vit::CpuFeatures::AVX512VNNI) ? 63 : 127;
    }
    /// Whether bf16 weight GEMMs use AMX tiles (tdpbf16ps, through the
    /// extern kernel runtime/model/amx_gemm.c).
    bool hasAmxBf16() const {
      return !isGpu() && has(::mlir::vit::CpuFeatures::AMXBF16);
    }
    /// Whether int8 weight GEMMs use AMX tiles (tdpbusd, likewise).
    bool hasAmxInt8() const {
      return !isGpu() && has(::mlir::vit::CpuFeatures::AMXInt8);
    }
    /// f32 lanes of a SIMD vector (1 on GPUs: threads, not lanes).
    int64_t getVectorLanes() const { return getVectorBits() / 32; }
  }];
}

def Vit_ModelAttr : Vit_Attr<"Model", "model"> {
  let summary = "what a compiled model tells its users beyond its function";
  let description = [{
    Placed on the module by the front end: the model's name and how images
    are prepared for it (`(pixel / 255 - mean) / std` per channel, after a
    centre crop of `crop_fraction` of the image, 0 for a plain resize). The
    input and output shapes are the `forward` function's. The backend writes
    these into the library, so it needs nothing from the front end.

    Example:
    ```mlir
    module attributes {vit.model = #vit.model<name = "vit-b16",
        mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>,
        crop_fraction = 0.9 : f32>} {}
    ```
  }];
  let parameters = (ins StringRefParameter<"model name">:$name,
    "::mlir::DenseF32ArrayAttr":$mean, "::mlir::DenseF32ArrayAttr":$std,
    "::mlir::FloatAttr":$crop_fraction);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

// Tiles are named parameters, one attribute per kernel kind and machine kind,
// so that what each size means is in its name. vit-select-tiles chooses them
// (defaultTile), a schedule file may set any of them by name, and the backend
// only reads them: the panel layout of GEMM weights follows `columns`
// (CPU) or `block_columns` (GPU).
class Vit_TileAttr<string name, string attrMnemonic>
    : Vit_Attr<name, attrMnemonic, [DeclareAttrInterfaceMethods<Vit_TileAttrInterface>]> {
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Vit_CpuGemmTileAttr : Vit_TileAttr<"CpuGemmTile", "cpu_gemm_tile"> {
  let summary = "register tile of a GEMM kernel on a CPU";
  let description = [{
    Each GEMM of the kernel accumulates `columns` x `rows` outputs in vector
    registers over all of k (`columns` a multiple of `vector`, the lanes of
    the innermost loop); GEMM weights are stored in panels `columns` wide.
    `parallel` says which tiles the cores share out: column tiles (each core
    streams its own weight panels) or row tiles (GEMMs with few columns).
    Linear, patch projection, matmul, fused MLP, patch embedding and head.

    Example: `#vit.cpu_gemm_tile<columns = 24, rows = 4, vector = 8, parallel = columns>`
  }];
  let parameters = (ins "int64_t":$columns, "int64_t":$rows, "int64_t":$vector,
    DefaultValuedParameter<"::mlir::vit::TileParallel",
        "::mlir::vit::TileParallel::Columns", "tiles shared out">:$parallel);
}

def Vit_CpuAttentionTileAttr : Vit_TileAttr<"CpuAttentionTile", "cpu_attention_tile"> {
  let summary = "tiles of a fused attention kernel on a CPU";
  let description = [{
    `columns`, `rows`, `vector` and `parallel` tile the QKV and output
    projections as for `#vit.cpu_gemm_tile`. Each (query rows, head, image)
    is a task that computes its scores (a `score_columns` x `score_rows`
    register tile over keys x queries) and its context (`context_columns` x
    `context_rows` over head width x queries); `query_rows` is the queries
    per task, 0 for all of them.

    Example: `#vit.cpu_attention_tile<columns = 24, rows = 4, vector = 8,
    parallel = columns, score_columns = 16, score_rows = 6,
    context_columns = 16, context_rows = 6, query_rows = 99>`
  }];
  let parameters = (ins "int64_t":$columns, "int64_t":$rows, "int64_t":$vector,
    DefaultValuedParameter<"::mlir::vit::TileParallel",
        "::mlir::vit::TileParallel::Columns", "tiles shared out">:$parallel,
    "int64_t":$score_columns, "int64_t":$score_rows,
    "int64_t":$context_columns, "int64_t":$context_rows,
    DefaultValuedParameter<"int64_t", "0", "queries per task (0: all)">:$query_rows);
}

def Vit_CpuRowTileAttr : Vit_TileAttr<"CpuRowTile", "cpu_row_tile"> {
  let summary = "row-wise kernel on a CPU";
  let description = [{
    Layer norm, softmax and element-wise kernels: `rows` rows per parallel
    task, `vector` lanes along each row.

    Example: `#vit.cpu_row_tile<rows = 8, vector = 8>`
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$vector);
}

def Vit_GpuGemmTileAttr : Vit_TileAttr<"GpuGemmTile", "gpu_gemm_tile"> {
  let summary = "block and thread tiles of a GEMM kernel on a GPU";
  let description = [{
    A block computes `block_columns` x `block_rows` outputs; each of its
    threads accumulates `thread_columns` x `thread_rows` of them in
    registers while k advances in steps of `shared_k` through shared memory.
    GEMM weights are stored in panels `block_columns` wide.

    Example: `#vit.gpu_gemm_tile<block_columns = 128, block_rows = 32,
    thread_columns = 8, thread_rows = 4, shared_k = 8>`
  }];
  let parameters = (ins "int64_t":$block_columns, "int64_t":$block_rows,
    "int64_t":$thread_columns, "int64_t":$thread_rows, "int64_t":$shared_k);
}

def Vit_GpuAttentionTileAttr : Vit_TileAttr<"GpuAttentionTile", "gpu_attention_tile"> {
  let summary = "tiles of a fused attention kernel on a GPU";
  let description = [{
    The projections are tiled as by `#vit.gpu_gemm_tile`; a block per
    (`query_rows` queries, head, image) keeps their scores and probabilities
    in shared memory.

    Example: `#vit.gpu_attention_tile<block_columns = 128, block_rows = 32,
    thread_columns = 8, thread_rows = 4, shared_k = 8, query_rows = 16>`
  }];
  let parameters = (ins "int64_t":$block_columns, "int64_t":$block_rows,
    "int64_t":$thread_columns, "int64_t":$thread_rows, "int64_t":$shared_k,
    "int64_t":$query_rows);
}

def Vit_GpuRowTileAttr : Vit_TileAttr<"GpuRowTile", "gpu_row_tile"> {
  let summary = "row-wise kernel on a GPU";
  let description = [{
    Layer norm and softmax run a block per row with `threads` threads across
    it; element-wise kernels blocks of `threads` threads over a flat index.

    Example: `#vit.gpu_row_tile<threads = 128>`
  }];
  let parameters = (ins "int64_t":$threads);
}

#endif // VIT_ATTRS_TD

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

def Vit_TargetAttr : Vit_Attr<"Target", "target"> {
  let summary = "the machine a module is compiled for";
  let description = [{
    Placed on the module. `target` is a Halide target string (`host`,
    `x86-64-linux-avx2`, `host-cuda-cuda_capability_80`, ...); the other
    fields describe the machine so that tile selection needs no other input.
    Sizes are in bytes; `vector_bits` is the SIMD register width. GPU targets
    also give the most threads per block and the shared memory per block;
    for them `cores` counts streaming multiprocessors (compute units), 1
    unless given (`vitc --cores`), since no device is queried at compile
    time.

    Example:
    ```mlir
    module attributes {vit.target = #vit.target<target = "x86-64-linux-avx2",
        vector_bits = 256, cores = 2, l1_bytes = 32768, l2_bytes = 524288>} {}
    ```
  }];
  let parameters = (ins
    StringRefParameter<"Halide target string">:$target,
    "int64_t":$vector_bits,
    "int64_t":$cores,
    DefaultValuedParameter<"int64_t", "0", "L1 data cache bytes (0: unknown)">:$l1_bytes,
    DefaultValuedParameter<"int64_t", "0", "L2 cache bytes (0: unknown)">:$l2_bytes,
    DefaultValuedParameter<"int64_t", "0",
        "GPU targets: most threads per block (0: a CPU target)">:$gpu_threads,
    DefaultValuedParameter<"int64_t", "0",
        "GPU targets: shared memory per block in bytes">:$gpu_shared_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Vit_TileAttr : Vit_Attr<"Tile", "tile"> {
  let summary = "how one kernel is tiled for the module's target";
  let description = [{
    Placed on a kernel op by `vit-select-tiles`. `tiles` holds the kernel's
    tile sizes, `vector` the lanes of the innermost loop, and `parallel` the
    tiled loops (by index into `tiles`) run across cores or GPU blocks. What
    each size means depends on the kernel and the target:

    - CPU, GEMM kernels: `[columns, rows]` of the register tile of their
      weight GEMMs; parallel `[0]` (column tiles) or `[1]` (row tiles).
      Fused attention may add a third size, the query rows of each per-head
      task (without it, every task takes all the queries).
    - CPU, row-wise kernels: `[rows per parallel task]`.
    - GPU, GEMM kernels: `[block columns, block rows, thread columns,
      thread rows, shared k]`, each thread accumulating its columns x rows in
      registers while k advances in steps of `shared k` through shared
      memory; fused attention adds a sixth size, the query rows per block
      whose scores and probabilities live in shared memory.
    - GPU, row-wise kernels: `[threads per block]`.

    Example:
    ```mlir
    #vit.tile<tiles = [32, 64, 256], vector = 8, parallel = [0]>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "tile size per loop">:$tiles,
    "int64_t":$vector,
    OptionalArrayRefParameter<"int64_t", "parallel loops">:$parallel
  );
  let assemblyFormat = [{
    `<` `tiles` `=` `[` $tiles `]` `,` `vector` `=` $vector
        (`,` `parallel` `=` `[` $parallel^ `]`)? `>`
  }];
  let genVerifyDecl = 1;
}

#endif // VIT_ATTRS_TD

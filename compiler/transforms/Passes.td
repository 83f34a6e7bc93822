//===- Passes.td - the vitc passes ----------------------------------------===//
//
// Every pass of vitc, with its options and statistics. The flag is
// vit-<action>; each pass's DEBUG_TYPE equals its flag, so
// -debug-only=vit-fuse-mlp shows why a candidate did not fuse.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_TRANSFORMS_PASSES_TD
#define VITC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def VitFuseMlp : Pass<"vit-fuse-mlp", "mlir::func::FuncOp"> {
  let summary = "fuse layer norm, fc1, activation, fc2 and the residual add";
  let description = [{
    Rewrites the pre-norm MLP block

      %n = vit.layer_norm %x, ...
      %h = vit.linear %n, %w1, %b1
      %a = vit.gelu erf %h            (or gelu tanh, or relu)
      %o = vit.linear %a, %w2, %b2
      %y = vit.add %x, %o             (either operand order)

    into `%y = vit.fused_mlp %x, ..., %w1, %b1, %w2, %b2 gelu_erf eps = ...`.
    Every intermediate must have this chain as its only user, both linears
    need biases, and the widths must match; otherwise the chain stays and the
    reason is given (as a remark with `explain=true`; also under
    `-debug-only=vit-fuse-mlp` where LLVM has debug output).
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"explain", "explain", "bool", "false",
                        "remark on each candidate that does not fuse, and why">];
  let statistics = [Statistic<"numFused", "num-fused", "MLP blocks fused">];
}

def VitFuseAttention : Pass<"vit-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "fuse the pre-norm self-attention block into one kernel op";
  let description = [{
    Rewrites layer norm, the QKV linear, split into heads, the
    1/sqrt(head_dim) scale of the queries, q·kᵀ, softmax, ·v, the head merge,
    the output linear and the residual add into `vit.fused_attention`. The
    scores stop being a [batch, heads, N, N] tensor of the IR. A chain whose
    values are used elsewhere, or whose scale is not 1/sqrt(head_dim), stays.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"explain", "explain", "bool", "false",
                        "remark on each candidate that does not fuse, and why">];
  let statistics = [Statistic<"numFused", "num-fused", "attention blocks fused">];
}

def VitFusePatchEmbed : Pass<"vit-fuse-patch-embed", "mlir::func::FuncOp"> {
  let summary = "fuse patch projection, prefix tokens and position embedding";
  let description = [{
    Rewrites

      %p = vit.patch_projection %img, %w, %b
      %d = vit.prepend_tokens %p, %dist     (zero or more, DeiT: dist first)
      %c = vit.prepend_tokens %d, %cls
      %x = vit.add_position_embedding %c, %pos

    into `%x = vit.fused_patch_embed %img, %w bias %b tokens(%cls, %dist) pos
    %pos`. The projection and every prepend must be used only by the chain.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"explain", "explain", "bool", "false",
                        "remark on each candidate that does not fuse, and why">];
  let statistics = [Statistic<"numFused", "num-fused", "embeddings fused">];
}

def VitFuseHead : Pass<"vit-fuse-head", "mlir::func::FuncOp"> {
  let summary = "fuse final norm, pooling, pre-logits and classifier";
  let description = [{
    Rewrites the classifier head, from its pooling op on,

      %n = vit.layer_norm %x, ...           (or after pooling: fc_norm)
      %p = vit.select_token %n[0]           (or vit.token_mean %n skip = S)
      %r = vit.linear %p, %wr, %br          (optional pre-logits,
      %f = vit.tanh %r                       with its tanh)
      %l = vit.linear %f, %wh, %bh          (optional classifier)
      (DeiT: %l2 = linear(select_token %n[1]); %s = add %l, %l2; scale 0.5)

    into `%f, %l = vit.fused_head %x pool class_token skip = 0 norm %g, %b at
    tokens eps = ... [pre_logits ...] classifier %wh, %bh [dist_classifier
    ...]`. The fused op carries `vit.features`, so the runtime can still return
    the features.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"explain", "explain", "bool", "false",
                        "remark on each candidate that does not fuse, and why">];
  let statistics = [Statistic<"numFused", "num-fused", "heads fused">];
}

def VitPruneTokens : Pass<"vit-prune-tokens", "mlir::func::FuncOp"> {
  let summary = "compute only the tokens the head reads in the last encoder block";
  let description = [{
    A head that pools the class token (and DeiT's distillation token) reads
    1 (or 2) of the last block's N token rows. The MLP is row-wise, and in
    attention only the queries need to be those rows (the keys and values
    are every token's), so

      %a = vit.fused_attention %x, ... -> tensor<?xNxD>
      %m = vit.fused_mlp %a, ...       -> tensor<?xNxD>
      %f, %l = vit.fused_head %m pool class_token ...

    becomes the same ops with `tensor<?xTxD>` results, T the tokens the head
    reads: the last MLP and the last attention's projection then run on T
    rows instead of N (ViT-B/16: 6% of the model's FLOPs). Mean pooling reads
    every token, and a result with another user must stay whole; with
    `explain` those heads get a remark saying why they were not pruned.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"explain", "explain", "bool", "false",
                        "remark on each head whose block is not pruned, and why">];
  let statistics = [Statistic<"numPruned", "num-pruned", "last blocks pruned">];
}

def VitQuantizeWeights : Pass<"vit-quantize-weights", "mlir::ModuleOp"> {
  let summary = "give the encoder's GEMMs int8 or bf16 weights";
  let description = [{
    With `precision=int8`, the four weight GEMMs of every encoder block (the
    QKV and output projections of `vit.fused_attention`, fc1 and fc2 of
    `vit.fused_mlp`) read their weight as
      %w = vit.param "blocks.0.mlp.fc1.weight" : tensor<3072x768xi8>
      %s = vit.param "blocks.0.mlp.fc1.weight.scale" : tensor<3072xf32>
    instead of the f32 parameter: symmetric per output channel, quantized
    from the checkpoint's values when the weights are written. The kernels
    then quantize each GEMM input row to u8 (asymmetric, per token row: the
    dynamic quantization of ONNX Runtime, but per row instead of per tensor),
    accumulate in int32 and dequantize in the epilogue; layer norm, softmax,
    the attention scores and context (bf16 on targets with a bf16 dot
    product, as with precision=bf16), GELU and the residuals stay f32, as do
    the patch embedding and the head (together 1-2% of the FLOPs, and the
    layers most sensitive to quantization). A weight whose K is not a
    multiple of 4 (the int8 dot product's group) stays f32. GPU targets have
    no int8 kernels: `precision=int8` for one is an error. `precision=f32`
    changes nothing. A schedule file (as vit-select-tiles reads) may set a
    kernel's precision over the option's, e.g. keep the last block in f32:
      {"blocks.11.mlp": {"precision": "f32"}, "blocks.11.attn": {"precision": "f32"}}

    With `precision=bf16` the same four weights become bf16 parameters of
    the same name (no scales; rounded to nearest even when the weights are
    written), and the kernels round each GEMM input to bf16 and accumulate
    the products in f32 (vdpbf16ps with AVX512-BF16); the attention core of
    those blocks (q·kᵀ, probs·v) follows in bf16, while layer norm, softmax,
    GELU, residuals, patch embedding and head stay f32. The target must have AVX512-BF16 or AMX-BF16
    (an error names the missing feature); a weight whose K is odd (the bf16
    dot product sums pairs) stays f32.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"precision", "precision", "std::string", "\"f32\"",
                        "f32, int8 or bf16">,
                 Option<"scheduleFile", "schedule-file", "std::string", "\"\"",
                        "JSON file of per-kernel settings (here: \"precision\")">];
  let statistics = [Statistic<"numQuantized", "num-quantized",
                              "GEMM weights made int8 or bf16">];
}

def VitAttentionMaps : Pass<"vit-attention-maps", "mlir::func::FuncOp"> {
  let summary = "make every fused attention also return its attention maps";
  let description = [{
    For `vitc --attention-maps`: gives each `vit.fused_attention` its
    `class_attention` result (see the op), and with `rollout` its
    `mean_attention` too, for the query rows the head reads:

      pool class_token      map_rows = [0, 1), DeiT's [0, 2): the class
                            (and distillation) token's rows;
      pool mean skip = T    map_rows = [T, N) with map_mean: their mean.

    The results are not used in the IR; the backend keeps them to the end
    of a run for the runtime to return. It is an error when the function
    has no fused head, no fused attention, or attention that was not fused
    (a `vit.softmax` left over): maps from only some layers would be
    silently incomplete.

    Before:
      %a = vit.fused_attention %x, ... heads = 3 ... -> tensor<?x197x192xf32>
    After, with rollout=true:
      %a, %maps:2 = vit.fused_attention %x, ... heads = 3 ... {map_rows = array<i64: 0, 1>}
          -> (tensor<?x197x192xf32>, tensor<?x3x1x197xf32>, tensor<?x197x197xf32>)
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [Option<"rollout", "rollout", "bool", "false",
                        "also return the head-averaged probabilities of every query "
                        "row, which attention rollout needs (a second pass over the "
                        "scores: not free)">];
  let statistics = [Statistic<"numMapped", "num-mapped",
                              "attention kernels that return their maps">];
}

def VitSelectTiles : Pass<"vit-select-tiles", "mlir::ModuleOp"> {
  let summary = "choose each kernel's tiles for the target";
  let description = [{
    Describes the target as `#vit.target` on the module (from the `target`
    option; without one, the module's own `#vit.target` is kept, else the
    host is described) and gives every kernel op a `vit.tile` of its kind:
    `#vit.cpu_gemm_tile` (register tile columns x rows of its GEMMs, vector
    lanes, which tiles run in parallel), `#vit.cpu_attention_tile` (the same
    for the projections, per-head score and context tiles, query rows per
    task), `#vit.cpu_row_tile` (rows per task), and their GPU counterparts
    (block and thread tiles, shared-memory k steps, threads per row). The
    backend reads the tiles and nothing else decides them. A schedule file
    sets tile parameters by name per kernel, over the compiler's choice:

      {"vit.fused_mlp": {"columns": 16, "rows": 6, "parallel": "rows"},
       "blocks.11.attn": {"query_rows": 50}}

    Keys are op names or location names (location entries apply after
    op-name entries); a key that matches nothing, an unknown parameter, or a
    tile that does not verify (or, on GPUs, needs more threads or shared
    memory than the target has) is an error.

    With a `schedule-cache` directory, a kernel whose key (this CPU, the
    target, the op with its types and attributes, the vitc and Halide
    versions) has an entry there, measured by `vitc --tune`, takes the
    cached tile over the compiler's (a schedule file still applies over
    it) and is marked `vit.tile_source = "schedule cache"`. A corrupt or
    foreign entry, or one whose tile no longer verifies, is a warning and
    ignored.
  }];
  let dependentDialects = ["mlir::vit::VitDialect"];
  let options = [
    Option<"target", "target", "std::string", "\"\"",
           "Halide target string (the first of a comma-separated list "
           "decides); empty: the module's #vit.target, else host">,
    Option<"cores", "cores", "int64_t", "0",
           "cores to plan for (0: this machine's)">,
    Option<"scheduleFile", "schedule-file", "std::string", "\"\"",
           "JSON file of per-kernel tile overrides">,
    Option<"scheduleCache", "schedule-cache", "std::string", "\"\"",
           "directory of measured tiles (vitc --tune); empty: none">,
  ];
  let statistics = [Statistic<"numTiled", "num-tiled", "kernel ops tiled">,
                    Statistic<"numCached", "num-cached",
                              "kernel ops tiled from the schedule cache">];
}

#endif // VITC_TRANSFORMS_PASSES_TD

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

#endif // VITC_TRANSFORMS_PASSES_TD

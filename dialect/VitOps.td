//===- VitOps.td - all ops of the vit dialect -----------------------------===//
//
// The single tablegen entry point: the dialect, its attributes and every op
// family. Each family lives in its own file.
//
//===----------------------------------------------------------------------===//

#ifndef VIT_OPS_TD
#define VIT_OPS_TD

include "VitDialect.td"
include "VitAttrs.td"
include "VitInterfaces.td"
include "VitEmbeddingOps.td"
include "VitMathOps.td"
include "VitTokenOps.td"
include "VitFusedOps.td"

#endif // VIT_OPS_TD

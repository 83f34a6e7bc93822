//===- Pipeline.cpp - the default vitc pipeline ---------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::vit::buildDefaultPipeline(OpPassManager &pm,
                                     const DefaultPipelineOptions &options) {
  if (options.fusion) {
  // 1. The embedding first: it is the encoder's producer, and fusing it does
  //    not depend on anything else.
  pm.addNestedPass<func::FuncOp>(createVitFusePatchEmbed());
  // 2. Attention before the MLP: its residual add would otherwise be a
  //    candidate MLP end (it is not one, so order only saves work and
  //    remarks).
  pm.addNestedPass<func::FuncOp>(createVitFuseAttention());
  // 3. The MLP blocks.
  pm.addNestedPass<func::FuncOp>(createVitFuseMlp());
  // 4. The head, once the last MLP is fused, so that the final norm's input
  //    is a kernel result.
  pm.addNestedPass<func::FuncOp>(createVitFuseHead());
  // 5. The last block computes only the tokens the head reads.
  pm.addNestedPass<func::FuncOp>(createVitPruneTokens());
  // 6. Canonicalize and clean up parameters the fused ops made redundant.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  }
  // 7. Attention maps, once the attention is fused and the last block
  //    pruned (its maps then cover only the rows it keeps, which are the
  //    ones the maps describe). Without fusion the pass reports the unfused
  //    attention as an error.
  if (options.attentionMaps || options.attentionRollout) {
    VitAttentionMapsOptions maps;
    maps.rollout = options.attentionRollout;
    pm.addNestedPass<func::FuncOp>(createVitAttentionMaps(maps));
  }
  // 8. Reduced precision, on the fused kernels (which carry the scales).
  VitQuantizeWeightsOptions quantize;
  quantize.precision = options.precision;
  quantize.scheduleFile = options.scheduleFile;
  pm.addPass(createVitQuantizeWeights(quantize));
  // 9. Tiles last: they depend on which kernels exist and on their shapes.
  VitSelectTilesOptions tiles;
  tiles.target = options.target;
  tiles.cores = options.cores;
  tiles.scheduleFile = options.scheduleFile;
  tiles.scheduleCache = options.scheduleCache;
  pm.addPass(createVitSelectTiles(tiles));
}

void mlir::vit::registerAllVitcPasses() {
  registerVitPasses();
  PassPipelineRegistration<DefaultPipelineOptions>("vit-default-pipeline",
                             "fuse the embedding, attention, MLP and head into kernel ops, then "
      "tile them for the target",
                             buildDefaultPipeline);
}

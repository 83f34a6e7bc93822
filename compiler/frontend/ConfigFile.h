//===- ConfigFile.h - model descriptions from JSON config files -----------===//
//
// Reads the two config formats real checkpoints come with: a Hugging Face
// ViTConfig `config.json`, and the keyword arguments of timm's
// VisionTransformer constructor as JSON (`"format": "timm"`).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_FRONTEND_CONFIGFILE_H
#define VITC_COMPILER_FRONTEND_CONFIGFILE_H

#include "compiler/frontend/ModelConfig.h"

namespace vitc {

/// Parses `text` (the contents of `path`, used in messages) as either format.
llvm::Expected<ModelConfig> parseConfigJson(llvm::StringRef text,
                                            llvm::StringRef path);

/// Reads and parses a config file.
llvm::Expected<ModelConfig> readConfigFile(llvm::StringRef path);

} // namespace vitc

#endif // VITC_COMPILER_FRONTEND_CONFIGFILE_H

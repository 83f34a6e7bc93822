//===- ModelName.h - the names a model library's file name gives ----------===//
//
// A compiled model is a library lib<name>.a or lib<name>.so whose symbols,
// header and weights file are named after <name> made a C identifier. vitc
// names them and vit-run finds them with the same function, so any valid file
// name (e.g. libvit-ti16.so) works.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_MODELNAME_H
#define VITC_SUPPORT_MODELNAME_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace vitc {

/// The C identifier of the model in library `libraryPath`: its file name
/// without directory, extension and a leading "lib", every character other
/// than a letter or digit replaced by '_', and "m_" in front of a leading
/// digit. The library exports `<identifier>_model()`, and vitc writes
/// `<identifier>.h` and `<identifier>.safetensors` beside it.
std::string modelIdentifier(llvm::StringRef libraryPath);

} // namespace vitc

#endif // VITC_SUPPORT_MODELNAME_H

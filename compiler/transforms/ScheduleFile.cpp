//===- ScheduleFile.cpp - per-kernel settings from a JSON file -----------===//

#include "compiler/transforms/ScheduleFile.h"

#include "support/Files.h"
#include "support/Json.h"

#include "mlir/IR/Location.h"

using namespace mlir;
using namespace mlir::vit;

/// readScheduleFile, saying what is wrong in `error`.
static LogicalResult parseScheduleFile(StringRef path, ScheduleFile &file,
                                       std::string &error) {
  auto buffer =
      vitc::readRegularFile(path, "schedule file", vitc::kMaxJsonFileBytes);
  if (!buffer) {
    error = llvm::toString(buffer.takeError());
    return failure();
  }
  if (llvm::Error depthError = vitc::checkJsonInput(
          (*buffer)->getBuffer(), "schedule file '" + path + "'")) {
    error = llvm::toString(std::move(depthError));
    return failure();
  }
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    error = "schedule file '" + path.str() +
            "' is not valid JSON: " + llvm::toString(json.takeError());
    return failure();
  }
  const llvm::json::Object *root = json->getAsObject();
  if (!root) {
    error = "schedule file '" + path.str() +
            "' must be a JSON object mapping kernels to tile parameters";
    return failure();
  }
  for (const auto &[key, value] : *root) {
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry) {
      error = "schedule file '" + path.str() + "', kernel '" + key.str() +
              "': expected an object of tile parameters by name, e.g. "
              "{\"columns\": 16, \"rows\": 6}";
      return failure();
    }
    auto &parameters = file.entries[key];
    for (const auto &[name, setting] : *entry)
      parameters.push_back({name.str(), setting});
    // JSON objects are unordered; sort so errors come out the same each time.
    llvm::sort(parameters,
               [](const auto &a, const auto &b) { return a.first < b.first; });
  }
  return success();
}

LogicalResult mlir::vit::readScheduleFile(StringRef path, ScheduleFile &file,
                                          Operation *module) {
  std::string error;
  if (path.empty() || succeeded(parseScheduleFile(path, file, error)))
    return success();
  return module->emitError() << error;
}

SmallVector<std::string, 2> mlir::vit::scheduleKeys(Operation *op) {
  SmallVector<std::string, 2> keys{op->getName().getStringRef().str()};
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    keys.push_back(name.getName().str());
  return keys;
}

//===- ScheduleCache.cpp - tiles measured on this machine, found again ---===//

#include "compiler/transforms/ScheduleCache.h"

#include "support/Files.h"
#include "support/Json.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>

using namespace mlir;
using namespace mlir::vit;

/// The format of an entry file; another one is ignored as foreign.
static constexpr llvm::StringLiteral kFormat = "vitc-schedule-cache-1";

#ifndef VITC_VERSION
#error "VITC_VERSION must be defined by the build"
#endif
#ifndef VITC_HALIDE_VERSION
#error "VITC_HALIDE_VERSION must be defined by the build"
#endif

llvm::json::Object ScheduleCacheKey::toJson() const {
  return llvm::json::Object{{"cpu", cpu},
                            {"target", target},
                            {"kernel", kernel},
                            {"vitc", vitc},
                            {"halide", halide}};
}

std::string ScheduleCacheKey::fileName() const {
  // FNV-1a over the fields, each ended by a byte no field holds.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::string *field : {&cpu, &target, &kernel, &vitc, &halide}) {
    for (unsigned char c : *field + '\x1f') {
      hash ^= c;
      hash *= 0x100000001b3ull;
    }
  }
  return (llvm::Twine(llvm::utohexstr(hash, /*LowerCase=*/true, 16)) + ".json").str();
}

std::string mlir::vit::hostCpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, name, family, model, stepping;
  while (std::getline(cpuinfo, line) && line.find("flags") != 0) {
    auto value = [&]() {
      return llvm::StringRef(line).split(':').second.trim().str();
    };
    llvm::StringRef field = llvm::StringRef(line).split(':').first.trim();
    if (field == "model name")
      name = value();
    else if (field == "cpu family")
      family = value();
    else if (field == "model")
      model = value();
    else if (field == "stepping")
      stepping = value();
  }
  if (name.empty())
    return "unknown CPU";
  return llvm::formatv("{0} (family {1} model {2} stepping {3})", name, family,
                       model, stepping)
      .str();
}

ScheduleCacheKey mlir::vit::scheduleCacheKey(Operation *op, TargetAttr target) {
  std::string kernel;
  llvm::raw_string_ostream os(kernel);
  os << op->getName() << "(";
  llvm::interleaveComma(op->getOperandTypes(), os);
  os << ") -> (";
  llvm::interleaveComma(op->getResultTypes(), os);
  os << ")";
  for (NamedAttribute attr : op->getAttrDictionary())
    if (attr.getName() != "vit.tile" && attr.getName() != "vit.tile_source")
      os << " " << attr.getName() << "=" << attr.getValue();
  std::string targetText;
  llvm::raw_string_ostream(targetText) << Attribute(target);
  return {hostCpuName(), targetText, kernel, VITC_VERSION, VITC_HALIDE_VERSION};
}

std::string mlir::vit::defaultScheduleCacheDir() {
  if (std::optional<std::string> chosen =
          llvm::sys::Process::GetEnv("VITC_SCHEDULE_CACHE"))
    return *chosen == "off" ? std::string() : *chosen;
  llvm::SmallString<256> dir;
  if (std::optional<std::string> xdg =
          llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
      xdg && !xdg->empty())
    dir = *xdg;
  else if (std::optional<std::string> home =
               llvm::sys::Process::GetEnv("HOME");
           home && !home->empty())
    llvm::sys::path::append(dir, *home, ".cache");
  else
    return std::string();
  llvm::sys::path::append(dir, "vitc", "schedules");
  return dir.str().str();
}

SmallVector<std::pair<std::string, llvm::json::Value>>
mlir::vit::tileSettings(Attribute tile) {
  SmallVector<std::pair<std::string, llvm::json::Value>> settings;
  for (const TileParameter &p :
       cast<TileAttrInterface>(tile).getTileParameters()) {
    if (p.keywords.empty())
      settings.push_back({p.name.str(), p.value});
    else
      settings.push_back({p.name.str(), p.keywords[p.value].str()});
  }
  return settings;
}

std::optional<CachedSchedule> mlir::vit::lookupSchedule(
    StringRef dir, const ScheduleCacheKey &key,
    const std::function<void(const std::string &)> &warn) {
  if (dir.empty())
    return std::nullopt;
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, key.fileName());
  if (!llvm::sys::fs::exists(path))
    return std::nullopt;
  auto ignored = [&](const llvm::Twine &why) {
    warn(("schedule cache entry " + path + " ignored: " + why).str());
    return std::nullopt;
  };
  auto buffer = vitc::readRegularFile(path, "schedule cache entry",
                                      vitc::kMaxJsonFileBytes);
  if (!buffer)
    return ignored(llvm::toString(buffer.takeError()));
  if (llvm::Error deep =
          vitc::checkJsonInput((*buffer)->getBuffer(), "the entry"))
    return ignored(llvm::toString(std::move(deep)));
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return ignored("not valid JSON (" + llvm::toString(json.takeError()) +
                   ")");
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *storedKey = root ? root->getObject("key") : nullptr;
  const llvm::json::Object *tile = root ? root->getObject("tile") : nullptr;
  if (!root || root->getString("format") != std::optional<StringRef>(kFormat) ||
      !storedKey || !tile)
    return ignored(llvm::Twine("not a ") + kFormat +
                   " entry (an object with format, key and tile)");
  auto field = [&](StringRef name) {
    return storedKey->getString(name).value_or("").str();
  };
  ScheduleCacheKey stored{field("cpu"), field("target"), field("kernel"),
                          field("vitc"), field("halide")};
  if (!(stored == key))
    return ignored("it was measured for another CPU, target, kernel or "
                   "version (a hash collision or a copied file)");
  CachedSchedule schedule;
  for (const auto &[name, value] : *tile)
    schedule.settings.push_back({name.str(), value});
  llvm::sort(schedule.settings,
             [](const auto &a, const auto &b) { return a.first < b.first; });
  if (const llvm::json::Object *measured = root->getObject("measured"))
    schedule.measured = *measured;
  return schedule;
}

llvm::Error mlir::vit::storeSchedule(StringRef dir, const ScheduleCacheKey &key,
                                     Attribute tile,
                                     llvm::json::Object measured) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(ec, "cannot create the schedule cache %s: %s",
                                   dir.str().c_str(), ec.message().c_str());
  llvm::json::Object tileObject;
  for (auto &[name, value] : tileSettings(tile))
    tileObject[name] = std::move(value);
  llvm::json::Object entry{{"format", kFormat},
                           {"key", key.toJson()},
                           {"tile", std::move(tileObject)},
                           {"measured", std::move(measured)}};
  llvm::SmallString<256> path(dir), temporary;
  llvm::sys::path::append(path, key.fileName());
  int fd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".%%%%%%.tmp", fd, temporary))
    return llvm::createStringError(ec, "cannot write in %s: %s",
                                   dir.str().c_str(), ec.message().c_str());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(entry))) << "\n";
    if (os.has_error()) {
      llvm::sys::fs::remove(temporary);
      return llvm::createStringError(os.error(), "cannot write %s",
                                     temporary.c_str());
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return llvm::createStringError(ec, "cannot write %s: %s", path.c_str(),
                                   ec.message().c_str());
  }
  return llvm::Error::success();
}

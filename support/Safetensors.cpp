//===- Safetensors.cpp - safetensors reader and writer --------------------===//
//
// Format (huggingface/safetensors): u64 little-endian header size N, N bytes
// of JSON mapping names to {dtype, shape, data_offsets}, then the data. The
// reader applies the reference implementation's checks: N at most 1e8,
// offsets contiguous from 0 to the end of the file, each tensor's byte count
// equal to its element count times the dtype size.
//
// The reader converts every dtype it accepts to f32 (Tensor.h says why); the
// writer stores each tensor in its own element type.
//
//===----------------------------------------------------------------------===//

#include "support/Checkpoint.h"
#include "support/Json.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace vitc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
namespace json = llvm::json;

static Error fileError(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

namespace {
struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};
} // namespace

/// Bytes per element of the dtypes vitc converts to f32; 0 for others.
static unsigned dtypeSize(StringRef dtype) {
  return llvm::StringSwitch<unsigned>(dtype)
      .Case("F32", 4)
      .Case("F16", 2)
      .Case("BF16", 2)
      .Case("F64", 8)
      .Case("I8", 1)
      .Case("U8", 1)
      .Default(0);
}

static Expected<Entry> parseEntry(StringRef path, StringRef name,
                                  const json::Value &value) {
  auto bad = [&](const llvm::Twine &what) {
    return fileError(path, "tensor '" + name + "': " + what);
  };
  const json::Object *info = value.getAsObject();
  if (!info)
    return bad("header entry is not an object");
  Entry entry;
  entry.name = name.str();
  std::optional<StringRef> dtype = info->getString("dtype");
  if (!dtype)
    return bad("missing string 'dtype'");
  entry.dtype = dtype->str();
  if (!dtypeSize(*dtype))
    return bad("dtype " + *dtype +
               " is not supported; vitc reads F32, F16, BF16, F64, I8 and U8");
  const json::Array *shape = info->getArray("shape");
  if (!shape)
    return bad("missing array 'shape'");
  for (const json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return bad("shape holds something other than a non-negative integer");
    entry.shape.push_back(*size);
  }
  const json::Array *offsets = info->getArray("data_offsets");
  if (!offsets || offsets->size() != 2 || !(*offsets)[0].getAsUINT64() ||
      !(*offsets)[1].getAsUINT64())
    return bad(
        "'data_offsets' must be [begin, end] with non-negative integers");
  entry.begin = *(*offsets)[0].getAsUINT64();
  entry.end = *(*offsets)[1].getAsUINT64();
  if (entry.end < entry.begin)
    return bad(llvm::formatv("data_offsets [{0}, {1}] end before they begin",
                             entry.begin, entry.end));
  uint64_t elements = 1;
  for (int64_t dim : entry.shape)
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dim), &elements))
      return bad("shape has more elements than fit in 64 bits");
  uint64_t bytes;
  if (__builtin_mul_overflow(elements, dtypeSize(*dtype), &bytes) ||
      bytes != entry.end - entry.begin)
    return bad(
        llvm::formatv("shape and dtype {0} need {1} elements, but data_offsets "
                      "[{2}, {3}] hold {4} bytes",
                      entry.dtype, elements, entry.begin, entry.end,
                      entry.end - entry.begin));
  return entry;
}

static Tensor convert(const Entry &entry, const char *data) {
  Tensor tensor;
  tensor.shape = entry.shape;
  size_t count = (entry.end - entry.begin) / dtypeSize(entry.dtype);
  tensor.data.resize(count);
  float *out = tensor.data.data();
  using namespace llvm::support;
  // One loop per dtype (the type is chosen once, not per element).
  if (entry.dtype == "F32") {
    if constexpr (llvm::endianness::native == llvm::endianness::little) {
      if (count > 0) // an empty vector's data() may be null
        memcpy(out, data, 4 * count);
    } else {
      for (size_t i = 0; i < count; ++i)
        out[i] = llvm::bit_cast<float>(endian::read32le(data + 4 * i));
    }
  } else if (entry.dtype == "F16") {
    for (size_t i = 0; i < count; ++i)
      out[i] = halfToFloat(endian::read16le(data + 2 * i));
  } else if (entry.dtype == "BF16") {
    for (size_t i = 0; i < count; ++i)
      out[i] = bfloat16ToFloat(endian::read16le(data + 2 * i));
  } else if (entry.dtype == "I8") {
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<int8_t>(data[i]);
  } else if (entry.dtype == "U8") {
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<uint8_t>(data[i]);
  } else {
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(
          llvm::bit_cast<double>(endian::read64le(data + 8 * i)));
  }
  return tensor;
}

/// Gives the whole pages inside [begin, begin + size) back to the OS: the
/// reader of a mapped file calls it on each tensor's bytes once converted,
/// so the file's pages and the converted tensors are not both resident (the
/// peak would be twice the weights). A mapped file's pages are read again
/// if touched later; nothing here touches them.
static void releasePages(const char *begin, size_t size) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  uintptr_t last = (reinterpret_cast<uintptr_t>(begin) + size) / page * page;
  if (last > first)
    madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

Expected<Checkpoint> vitc::parseSafetensors(StringRef bytes, StringRef path,
                                            bool releaseConverted) {
  if (bytes.size() < 8)
    return fileError(
        path,
        llvm::formatv("file is {0} bytes, too short for a safetensors header",
                      bytes.size()));
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  constexpr uint64_t kMaxHeader = 100'000'000;
  if (headerSize > kMaxHeader)
    return fileError(
        path, llvm::formatv("header size {0} exceeds the safetensors limit of "
                            "{1} bytes; this is not a safetensors file",
                            headerSize, kMaxHeader));
  if (headerSize > bytes.size() - 8)
    return fileError(
        path, llvm::formatv("header of {0} bytes runs past the end of the file "
                            "({1} bytes); the file is truncated",
                            headerSize, bytes.size()));
  StringRef headerText = bytes.substr(8, headerSize);
  if (Error error = checkJsonInput(headerText, path + ": header"))
    return error;
  Expected<json::Value> header = json::parse(headerText);
  if (!header)
    return fileError(path, "header is not valid JSON: " +
                               llvm::toString(header.takeError()));
  const json::Object *object = header->getAsObject();
  if (!object)
    return fileError(path, "header is not a JSON object");

  std::vector<Entry> entries;
  for (const auto &[key, value] : *object) {
    if (key == "__metadata__")
      continue;
    Expected<Entry> entry = parseEntry(path, key, value);
    if (!entry)
      return entry.takeError();
    entries.push_back(std::move(*entry));
  }
  // Contiguous data from offset 0 to the end of the file, as the reference
  // reader demands: no gaps, overlaps or trailing bytes.
  llvm::sort(entries, [](const Entry &a, const Entry &b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  StringRef data = bytes.substr(8 + headerSize);
  uint64_t expected = 0;
  for (const Entry &entry : entries) {
    if (entry.begin != expected)
      return fileError(
          path,
          llvm::formatv("tensor '{0}' starts at byte {1} of the data but "
                        "the previous tensor ends at {2} (gap or overlap)",
                        entry.name, entry.begin, expected));
    expected = entry.end;
  }
  if (expected != data.size())
    return fileError(
        path, llvm::formatv(
                  "tensors cover {0} bytes of data but the file holds {1}{2}",
                  expected, data.size(),
                  expected > data.size() ? "; the file is truncated" : ""));
  Checkpoint checkpoint;
  checkpoint.path = path.str();
  for (const Entry &entry : entries) {
    if (Error err = checkpoint.add(entry.name,
                                   convert(entry, data.data() + entry.begin)))
      return err;
    if (releaseConverted)
      releasePages(data.data() + entry.begin, entry.end - entry.begin);
  }
  return checkpoint;
}

std::string
vitc::safetensorsHeader(const std::vector<SafetensorsEntry> &tensors,
                        const std::map<std::string, std::string> &metadata) {
  json::Object header;
  if (!metadata.empty()) {
    json::Object meta;
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const SafetensorsEntry &tensor : tensors) {
    uint64_t bytes = elementSize(tensor.type);
    for (int64_t dim : tensor.shape)
      bytes *= dim;
    header[tensor.name] =
        json::Object{{"dtype", safetensorsDtype(tensor.type)},
                     {"shape", json::Array(tensor.shape)},
                     {"data_offsets", json::Array{offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = llvm::formatv("{0}", json::Value(std::move(header))).str();
  text.append((8 - text.size() % 8) % 8, ' '); // keeps the data 8-byte aligned
  std::string prefix(8, '\0');
  llvm::support::endian::write64le(prefix.data(), text.size());
  return prefix + text;
}

/// Fails, naming the tensor and the first offending element, unless every
/// value of an I8 tensor is an integer in [-128, 127]. Rounding here would
/// hide a quantization bug upstream, so the writer refuses instead.
static Error checkInt8(StringRef path, StringRef name, const Tensor &tensor) {
  for (auto [i, value] : llvm::enumerate(tensor.data))
    if (!(value >= -128 && value <= 127 && std::trunc(value) == value))
      return fileError(
          path, llvm::formatv("tensor '{0}' is stored as i8 but element {1} "
                              "is {2}, not an integer in [-128, 127]",
                              name, i, value));
  return Error::success();
}

/// Stores a tensor's values in its element type, little-endian.
static char *encode(const float *values, size_t count, ElementType type,
                    char *out) {
  using namespace llvm::support;
  switch (type) {
  case ElementType::F32:
    for (size_t i = 0; i < count; ++i)
      endian::write32le(out + 4 * i, llvm::bit_cast<uint32_t>(values[i]));
    return out + 4 * count;
  case ElementType::BF16:
    for (size_t i = 0; i < count; ++i)
      endian::write16le(out + 2 * i, floatToBfloat16(values[i]));
    return out + 2 * count;
  case ElementType::F16:
    for (size_t i = 0; i < count; ++i)
      endian::write16le(out + 2 * i, floatToHalf(values[i]));
    return out + 2 * count;
  case ElementType::I8:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<char>(static_cast<int8_t>(values[i]));
    return out + count;
  }
  return out;
}

Expected<std::unique_ptr<SafetensorsWriter>>
SafetensorsWriter::create(StringRef path, std::vector<SafetensorsEntry> entries,
                          const std::map<std::string, std::string> &metadata) {
  // A temporary of its own beside `path` (two writers of one path, e.g. two
  // processes filling one cache entry, must not share it).
  int fd = -1;
  llvm::SmallString<256> temporary;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".%%%%%%.partial", fd, temporary))
    return fileError(path, "cannot create: " + ec.message());
  std::unique_ptr<SafetensorsWriter> writer(new SafetensorsWriter());
  writer->path = path.str();
  writer->temporary = temporary.str().str();
  writer->out = std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true);
  *writer->out << safetensorsHeader(entries, metadata);
  writer->entries = std::move(entries);
  return writer;
}

SafetensorsWriter::~SafetensorsWriter() {
  if (out) { // not finished: remove what was written
    out->close();
    out->clear_error();
    llvm::sys::fs::remove(temporary);
  }
}

Error SafetensorsWriter::append(StringRef name, const Tensor &tensor) {
  if (next == entries.size() || entries[next].name != name ||
      entries[next].type != tensor.type || entries[next].shape != tensor.shape)
    return fileError(path, "tensor '" + name +
                               "' is not the next one the header describes");
  uint64_t elements = 1;
  for (int64_t dim : tensor.shape)
    elements *= static_cast<uint64_t>(dim);
  if (elements != tensor.data.size())
    return fileError(path, llvm::formatv("tensor '{0}' holds {1} values but its "
                                         "shape needs {2}",
                                         name, tensor.data.size(), elements));
  if (tensor.type == ElementType::I8)
    if (Error err = checkInt8(path, name, tensor))
      return err;
  // In chunks, so the encoded copy stays small whatever the tensor's size.
  constexpr size_t chunk = 1 << 16;
  std::vector<char> bytes(chunk * elementSize(tensor.type));
  for (size_t at = 0; at < tensor.data.size(); at += chunk) {
    size_t count = std::min(chunk, tensor.data.size() - at);
    char *end = encode(tensor.data.data() + at, count, tensor.type, bytes.data());
    out->write(bytes.data(), end - bytes.data());
  }
  if (out->has_error())
    return fileError(path, "cannot write: " + out->error().message());
  ++next;
  return Error::success();
}

Error SafetensorsWriter::finish() {
  if (next != entries.size())
    return fileError(path, "tensor '" + entries[next].name +
                               "' was not written");
  out->close();
  std::error_code ec = out->error();
  out->clear_error();
  out.reset();
  if (!ec)
    ec = llvm::sys::fs::rename(temporary, path);
  if (ec) {
    llvm::sys::fs::remove(temporary);
    return fileError(path, "cannot write: " + ec.message());
  }
  return Error::success();
}

Error vitc::writeSafetensors(
    StringRef path,
    const std::vector<std::pair<std::string, const Tensor *>> &tensors,
    const std::map<std::string, std::string> &metadata) {
  // Checked before anything is created, so a refused tensor writes nothing.
  for (const auto &[name, tensor] : tensors)
    if (tensor->type == ElementType::I8)
      if (Error err = checkInt8(path, name, *tensor))
        return err;
  std::vector<SafetensorsEntry> entries;
  for (const auto &[name, tensor] : tensors)
    entries.push_back({name, tensor->type, tensor->shape});
  auto writer = SafetensorsWriter::create(path, std::move(entries), metadata);
  if (!writer)
    return writer.takeError();
  for (const auto &[name, tensor] : tensors)
    if (Error err = (*writer)->append(name, *tensor))
      return err;
  return (*writer)->finish();
}

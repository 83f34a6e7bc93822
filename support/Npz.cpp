//===- Npz.cpp - NumPy .npy arrays and .npz archives ----------------------===//
//
// .npy: "\x93NUMPY", version, header length (u16 for v1, u32 for v2/v3), a
// Python dict literal {'descr', 'fortran_order', 'shape'}, then the data.
// .npz: a zip archive of KEY.npy members; numpy always writes zip64 extra
// fields, so the archive is read with libzip rather than by hand.
//
//===----------------------------------------------------------------------===//

#include "support/Checkpoint.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileOutputBuffer.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "support/Files.h"
#include <zip.h>

using namespace vitc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

static Error npyError(StringRef what, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 what + ": " + message);
}

namespace {

/// The .npy header: a Python dict literal with string keys whose values are
/// strings, booleans or tuples of integers. Anything else is refused.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : rest(text) {}

  bool parse(NpyHeader &header, std::string &error) {
    bool sawDescr = false, sawOrder = false, sawShape = false;
    if (!consume('{'))
      return fail(error, "expected '{'");
    while (!peek('}')) {
      std::string key;
      if (!string(key) || !consume(':'))
        return fail(error, "expected 'key':");
      if (key == "descr") {
        if (!string(header.descr))
          return fail(error, "'descr' must be a string");
        sawDescr = true;
      } else if (key == "fortran_order") {
        skipSpace();
        if (rest.consume_front("True"))
          header.fortranOrder = true;
        else if (rest.consume_front("False"))
          header.fortranOrder = false;
        else
          return fail(error, "'fortran_order' must be True or False");
        sawOrder = true;
      } else if (key == "shape") {
        if (!tuple(header.shape))
          return fail(error,
                      "'shape' must be a tuple of non-negative integers");
        sawShape = true;
      } else {
        return fail(error, "unexpected key '" + key + "'");
      }
      if (!consume(','))
        break;
    }
    if (!consume('}'))
      return fail(error, "expected '}'");
    if (!sawDescr || !sawOrder || !sawShape)
      return fail(error, "missing one of 'descr', 'fortran_order', 'shape'");
    return true;
  }

private:
  static bool fail(std::string &error, const std::string &message) {
    error = message;
    return false;
  }
  void skipSpace() { rest = rest.ltrim(); }
  bool peek(char c) {
    skipSpace();
    return rest.starts_with(StringRef(&c, 1));
  }
  bool consume(char c) {
    skipSpace();
    return rest.consume_front(StringRef(&c, 1));
  }
  bool string(std::string &out) {
    skipSpace();
    if (rest.empty() || (rest[0] != '\'' && rest[0] != '"'))
      return false;
    char quote = rest[0];
    size_t end = rest.find(quote, 1);
    if (end == StringRef::npos)
      return false;
    out = rest.substr(1, end - 1).str();
    rest = rest.drop_front(end + 1);
    return true;
  }
  bool tuple(std::vector<int64_t> &out) {
    if (!consume('('))
      return false;
    while (!peek(')')) {
      skipSpace();
      size_t digits = 0;
      while (digits < rest.size() && llvm::isDigit(rest[digits]))
        ++digits;
      int64_t value;
      if (digits == 0 || digits > 15 ||
          rest.substr(0, digits).getAsInteger(10, value))
        return false;
      out.push_back(value);
      rest = rest.drop_front(digits);
      if (!consume(','))
        break;
    }
    return consume(')');
  }

  StringRef rest;
};

} // namespace

namespace {

/// What a .npy header says: enough to know the array's size and to decode it.
struct NpyLayout {
  NpyHeader header;
  size_t dataStart = 0; // bytes before the data
  unsigned size = 0;    // bytes per element
  bool bigEndian = false;
  std::string kind; // "f4", "f8", "f2" or "V2" (owned: the layout is moved)
  uint64_t count = 1;
  uint64_t dataBytes = 0;
};

/// Parses the header at the start of `bytes` (which may hold only a prefix
/// of the array), checking what it declares.
Expected<NpyLayout> parseNpyLayout(StringRef bytes, StringRef what) {
  NpyLayout layout;
  StringRef magic("\x93NUMPY", 6);
  if (!bytes.starts_with(magic) || bytes.size() < 10)
    return npyError(what, "not a .npy array (no \\x93NUMPY magic)");
  uint8_t major = bytes[6];
  size_t headerStart, headerLength;
  if (major == 1) {
    headerLength = llvm::support::endian::read16le(bytes.data() + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return npyError(what, "truncated .npy header");
    headerLength = llvm::support::endian::read32le(bytes.data() + 8);
    headerStart = 12;
  } else {
    return npyError(
        what, llvm::formatv(".npy format version {0} is not supported", major));
  }
  if (headerLength > bytes.size() - headerStart)
    return npyError(what,
                    "the .npy header runs past the end of the data; truncated");
  std::string problem;
  if (!HeaderParser(bytes.substr(headerStart, headerLength))
           .parse(layout.header, problem))
    return npyError(what, "malformed .npy header: " + problem);
  layout.dataStart = headerStart + headerLength;

  // descr: byte order, kind, size. '|V2' is how bfloat16 arrays written
  // through ml_dtypes appear (big_vision checkpoints).
  StringRef descr = layout.header.descr;
  if (descr.ends_with("O"))
    return npyError(what, "object arrays (Python pickles) are refused");
  if (descr.size() != 3 || !StringRef("<>|=").contains(descr[0]))
    return npyError(what, "unsupported dtype '" + descr + "'");
  layout.bigEndian = descr[0] == '>';
  layout.kind = descr.drop_front().str();
  StringRef kind = layout.kind;
  layout.size = kind == "f4"                     ? 4
                : kind == "f8"                   ? 8
                : (kind == "f2" || kind == "V2") ? 2
                                                 : 0;
  if (!layout.size)
    return npyError(what,
                    "unsupported dtype '" + descr +
                        "'; vitc reads float16, bfloat16, float32 and float64");
  for (int64_t dim : layout.header.shape)
    if (__builtin_mul_overflow(layout.count, static_cast<uint64_t>(dim),
                               &layout.count))
      return npyError(what, "shape has more elements than fit in 64 bits");
  if (__builtin_mul_overflow(layout.count, layout.size, &layout.dataBytes))
    return npyError(what, "shape has more bytes than fit in 64 bits");
  return layout;
}

} // namespace

Expected<Tensor> vitc::parseNpy(StringRef bytes, StringRef what) {
  Expected<NpyLayout> parsed = parseNpyLayout(bytes, what);
  if (!parsed)
    return parsed.takeError();
  const NpyLayout &layout = *parsed;
  const NpyHeader &header = layout.header;
  StringRef descr = header.descr, kind = layout.kind;
  const unsigned size = layout.size;
  const bool bigEndian = layout.bigEndian;
  const uint64_t count = layout.count;
  StringRef data = bytes.substr(layout.dataStart);
  if (layout.dataBytes != data.size())
    return npyError(
        what,
        llvm::formatv("shape ({0}) of dtype '{1}' needs {2} bytes but the "
                      "array holds {3}{4}",
                      llvm::join(llvm::map_range(header.shape,
                                                 [](int64_t d) {
                                                   return std::to_string(d);
                                                 }),
                                 ", "),
                      descr, layout.dataBytes, data.size(),
                      data.size() < layout.dataBytes ? "; truncated" : ""));
  using namespace llvm::support;
  auto read = [&](const char *p, unsigned bytes) -> uint64_t {
    if (bigEndian)
      return bytes == 2   ? endian::read16be(p)
             : bytes == 4 ? endian::read32be(p)
                          : endian::read64be(p);
    return bytes == 2   ? endian::read16le(p)
           : bytes == 4 ? endian::read32le(p)
                        : endian::read64le(p);
  };
  Tensor tensor;
  tensor.shape = header.shape;
  std::vector<float> values(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t raw = read(data.data() + i * size, size);
    if (kind == "f4")
      values[i] = llvm::bit_cast<float>(static_cast<uint32_t>(raw));
    else if (kind == "f8")
      values[i] = static_cast<float>(llvm::bit_cast<double>(raw));
    else if (kind == "f2")
      values[i] = halfToFloat(static_cast<uint16_t>(raw));
    else
      values[i] = bfloat16ToFloat(static_cast<uint16_t>(raw));
  }
  if (!header.fortranOrder || header.shape.size() < 2) {
    tensor.data = std::move(values);
    return tensor;
  }
  // Fortran order: the first index varies fastest. Reorder to row-major.
  tensor.data.resize(count);
  size_t rank = header.shape.size();
  std::vector<int64_t> index(rank, 0);
  for (uint64_t columnMajor = 0; columnMajor < count; ++columnMajor) {
    uint64_t rowMajor = 0;
    for (size_t d = 0; d < rank; ++d)
      rowMajor = rowMajor * header.shape[d] + index[d];
    tensor.data[rowMajor] = values[columnMajor];
    for (size_t d = 0; d < rank && ++index[d] == header.shape[d]; ++d)
      index[d] = 0;
  }
  return tensor;
}

/// The bytes of a member inflated first to read its .npy header: the longest
/// version 1 header (a 2-byte length) fits, and version 2/3 headers of
/// reasonable shapes do.
constexpr size_t kNpyHeaderPrefix = 65536 + 12;

Expected<Checkpoint> vitc::parseNpz(StringRef bytes, StringRef path) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t *source =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) {
    std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    return npyError(path, "cannot read the zip archive: " + message);
  }
  zip_t *archive =
      zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive) {
    std::string message = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    return npyError(path, "not a readable .npz (zip) archive: " + message);
  }
  zip_error_fini(&error);
  llvm::scope_exit closeArchive([&] { zip_discard(archive); });

  Checkpoint checkpoint;
  checkpoint.path = path.str();
  zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t stat;
    if (zip_stat_index(archive, i, 0, &stat) != 0 ||
        !(stat.valid & ZIP_STAT_NAME) || !(stat.valid & ZIP_STAT_SIZE) ||
        !(stat.valid & ZIP_STAT_COMP_SIZE))
      return npyError(path, llvm::formatv("cannot read zip entry {0}: {1}", i,
                                          zip_strerror(archive)));
    StringRef member = stat.name;
    if (!member.ends_with(".npy"))
      return npyError(path, "member '" + member + "' is not a .npy array");
    // Deflate cannot expand more than ~1032:1; a larger claim is a corrupt
    // or hostile archive, not something to allocate memory for.
    if (stat.size > stat.comp_size * 1032 + 4096 ||
        stat.comp_size > bytes.size())
      return npyError(path,
                      "member '" + member + "' claims an impossible size");
    zip_file_t *file = zip_fopen_index(archive, i, 0);
    if (!file)
      return npyError(path, "cannot open member '" + member +
                                "': " + zip_strerror(archive));
    llvm::scope_exit closeFile([&] { zip_fclose(file); });
    std::string key = member.drop_back(4).str();
    // Inflate the .npy header first and check that the size it implies is
    // the size the archive declares, before memory for the whole member is
    // taken: a small archive can declare a member a thousand times its size.
    std::string data(std::min<zip_uint64_t>(stat.size, kNpyHeaderPrefix), '\0');
    zip_int64_t read = zip_fread(file, data.data(), data.size());
    auto readError = [&] {
      return npyError(path, "cannot read member '" + member + "': " +
                                zip_file_strerror(file));
    };
    if (read < 0)
      return readError();
    data.resize(read);
    Expected<NpyLayout> layout =
        parseNpyLayout(data, (path + ": '" + key + "'").str());
    if (!layout)
      return layout.takeError();
    uint64_t implied;
    if (__builtin_add_overflow(layout->dataStart, layout->dataBytes, &implied) ||
        implied != stat.size)
      return npyError(
          path, llvm::formatv("member '{0}' declares {1} bytes, but its .npy "
                              "header describes {2}; the archive is damaged",
                              member, stat.size, implied));
    size_t have = data.size();
    data.resize(stat.size);
    read = have < stat.size
               ? zip_fread(file, data.data() + have, stat.size - have)
               : 0;
    if (read < 0)
      return readError();
    if (have + static_cast<zip_uint64_t>(read) != stat.size)
      return npyError(path, "cannot read member '" + member + "'; truncated");
    Expected<Tensor> tensor = parseNpy(data, (path + ": '" + key + "'").str());
    if (!tensor)
      return tensor.takeError();
    if (Error err = checkpoint.add(key, std::move(*tensor)))
      return err;
  }
  return checkpoint;
}

Expected<Tensor> vitc::readNpy(StringRef path, uint64_t maxBytes) {
  auto buffer = readRegularFile(path, ".npy file", maxBytes);
  if (!buffer)
    return buffer.takeError();
  return parseNpy((*buffer)->getBuffer(), path);
}

Error vitc::writeNpy(StringRef path, const Tensor &tensor) {
  std::string shape;
  for (int64_t dim : tensor.shape)
    shape += std::to_string(dim) + ", ";
  // numpy writes (2, 3) and (3,)
  if (!shape.empty())
    shape.resize(shape.size() - (tensor.shape.size() > 1 ? 2 : 1));
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  size_t total = 10 + header.size() + 4 * tensor.data.size();
  auto buffer = llvm::FileOutputBuffer::create(path, total);
  if (!buffer)
    return npyError(path,
                    "cannot create: " + llvm::toString(buffer.takeError()));
  char *out = reinterpret_cast<char *>((*buffer)->getBufferStart());
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  llvm::support::endian::write16le(out + 8, header.size());
  memcpy(out + 10, header.data(), header.size());
  char *data = out + 10 + header.size();
  for (float value : tensor.data) {
    llvm::support::endian::write32le(data, llvm::bit_cast<uint32_t>(value));
    data += 4;
  }
  if (Error err = (*buffer)->commit())
    return npyError(path, "cannot write: " + llvm::toString(std::move(err)));
  return Error::success();
}

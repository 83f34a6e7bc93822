//===- CheckpointTest.cpp - safetensors, .npy and .npz readers ------------===//
//
// Each reader on small files built here (and the numpy-written zip64 .npz of
// the reference data), including every malformed case the readers check.
//
//===----------------------------------------------------------------------===//

#include "TestData.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"
#include <cmath>
#include <zip.h>

using namespace vitc;
using namespace vitc::test;

namespace {

using ::testing::HasSubstr;

TEST(HalfPrecision, ConvertsNormalsSubnormalsAndSpecials) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc0a0), -5.0f);
}

class SafetensorsTest : public TempDir {};

TEST_F(SafetensorsTest, WriterOutputReadsBackWithAlignedHeader) {
  Tensor a{{2, 3}, {1, 2, 3, 4, 5, 6}}, b{{1}, {-0.5f}};
  ASSERT_EQ(
      errorOf(writeSafetensors(path("w.safetensors"), {{"b", &b}, {"a", &a}},
                               {{"vitc.model", "test"}})),
      "");
  auto buffer = llvm::MemoryBuffer::getFile(path("w.safetensors"));
  ASSERT_TRUE(buffer);
  uint64_t headerSize =
      llvm::support::endian::read64le((*buffer)->getBufferStart());
  EXPECT_EQ(headerSize % 8, 0u);
  auto checkpoint = readCheckpoint(path("w.safetensors"));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->names,
            (std::vector<std::string>{"b", "a"})); // file order
  EXPECT_EQ(checkpoint->find("a")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(checkpoint->find("a")->data, a.data);
  EXPECT_EQ(checkpoint->find("b")->data, b.data);
}

TEST_F(SafetensorsTest, StreamingWriterTakesTheHeaderOrderAndLeavesNoPartFile) {
  // A tensor large enough to span several encoding chunks and mapped pages.
  Tensor big{{3, 100000}, {}}, small{{2}, {1.5f, -2.0f}};
  big.data.resize(300000);
  for (size_t i = 0; i < big.data.size(); ++i)
    big.data[i] = static_cast<float>(i % 1000) - 500.0f;
  std::vector<SafetensorsEntry> entries{{"big", ElementType::F32, big.shape},
                                        {"small", ElementType::F32, small.shape}};
  {
    auto writer =
        SafetensorsWriter::create(path("s.safetensors"), entries, {});
    ASSERT_TRUE(bool(writer)) << llvm::toString(writer.takeError());
    EXPECT_THAT(errorOf((*writer)->append("small", small)),
                HasSubstr("tensor 'small' is not the next one the header "
                          "describes"));
    ASSERT_EQ(errorOf((*writer)->append("big", big)), "");
    EXPECT_THAT(errorOf((*writer)->finish()),
                HasSubstr("tensor 'small' was not written"));
  }
  // An unfinished writer removes what it wrote: nothing at the path, no
  // temporary beside it.
  EXPECT_FALSE(llvm::sys::fs::exists(path("s.safetensors")));
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(path(""), ec), end;
       it != end && !ec; it.increment(ec))
    EXPECT_FALSE(llvm::StringRef(it->path()).ends_with(".partial")) << it->path();
  // A tensor whose values do not fill its shape is refused.
  {
    auto writer = SafetensorsWriter::create(path("t.safetensors"), entries, {});
    ASSERT_TRUE(bool(writer));
    Tensor shortBig = big;
    shortBig.data.pop_back();
    EXPECT_THAT(errorOf((*writer)->append("big", shortBig)),
                HasSubstr("tensor 'big' holds 299999 values but its shape needs 300000"));
  }

  auto writer = SafetensorsWriter::create(path("s.safetensors"), entries, {});
  ASSERT_TRUE(bool(writer));
  ASSERT_EQ(errorOf((*writer)->append("big", big)), "");
  ASSERT_EQ(errorOf((*writer)->append("small", small)), "");
  ASSERT_EQ(errorOf((*writer)->finish()), "");
  // Read back through the file (mapped, pages released as converted).
  auto checkpoint = readCheckpoint(path("s.safetensors"));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->find("big")->data, big.data);
  EXPECT_EQ(checkpoint->find("small")->data, small.data);
}

TEST_F(SafetensorsTest, ConvertsF16Bf16F64) {
  std::string data;
  data += std::string("\x00\x3c\x00\xc0", 4); // F16 1, -2
  data += std::string("\x80\x3f\xa0\xc0", 4); // BF16 1, -5
  double d = 0.25;
  data.append(reinterpret_cast<const char *>(&d),
              8); // F64 0.25 (little-endian host)
  std::string header =
      R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]},)"
      R"("d":{"dtype":"F64","shape":[],"data_offsets":[8,16]},)"
      R"("__metadata__":{"format":"pt"}})";
  auto checkpoint =
      parseSafetensors(safetensorsBytes(header, data), "mixed.safetensors");
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->find("h")->data, (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(checkpoint->find("b")->data, (std::vector<float>{1.0f, -5.0f}));
  EXPECT_EQ(checkpoint->find("d")->data, (std::vector<float>{0.25f}));
  EXPECT_TRUE(checkpoint->find("d")->shape.empty());
  EXPECT_EQ(checkpoint->names.size(), 3u);
}

TEST_F(SafetensorsTest, WritesEachTensorInItsOwnTypeAndReadsItBack) {
  // Values each type holds exactly, plus one per floating type that the
  // writer must round (a bf16 tie to even, an f16 overflow).
  Tensor f32{{3}, {1.5f, -2.25f, 1e-3f}, ElementType::F32};
  Tensor bf16{{2, 2}, {1.0f, -5.0f, 3.140625f, 1.00390625f}, ElementType::BF16};
  Tensor f16{{3},
             {0.333251953125f, -std::ldexp(1.0f, -24), 70000.0f},
             ElementType::F16};
  Tensor i8{{4}, {-128, 0, 127, -1}, ElementType::I8};
  ASSERT_EQ(
      errorOf(writeSafetensors(
          path("t.safetensors"),
          {{"f32", &f32}, {"bf16", &bf16}, {"f16", &f16}, {"i8", &i8}}, {})),
      "");
  auto buffer = llvm::MemoryBuffer::getFile(path("t.safetensors"));
  ASSERT_TRUE(buffer);
  uint64_t headerSize =
      llvm::support::endian::read64le((*buffer)->getBufferStart());
  EXPECT_EQ((*buffer)->getBufferSize(),
            8 + headerSize + 3 * 4 + 4 * 2 + 3 * 2 + 4 * 1);
  llvm::StringRef header = (*buffer)->getBuffer().substr(8, headerSize);
  EXPECT_THAT(header.str(), HasSubstr(R"("i8":{"data_offsets":[26,30],)"
                                      R"("dtype":"I8","shape":[4]})"));

  auto checkpoint = readCheckpoint(path("t.safetensors"));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->names,
            (std::vector<std::string>{"f32", "bf16", "f16", "i8"}));
  EXPECT_EQ(checkpoint->find("f32")->data, f32.data);
  EXPECT_EQ(checkpoint->find("bf16")->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(checkpoint->find("bf16")->data,
            (std::vector<float>{1.0f, -5.0f, 3.140625f, 1.0f}));
  EXPECT_EQ(checkpoint->find("f16")->data[0], 0.333251953125f);
  EXPECT_EQ(checkpoint->find("f16")->data[1], -std::ldexp(1.0f, -24));
  EXPECT_EQ(checkpoint->find("f16")->data[2], INFINITY);
  EXPECT_EQ(checkpoint->find("i8")->data, i8.data);
  // Readers convert to f32 whatever the file stored (Tensor.h says why).
  for (llvm::StringRef name : {"f32", "bf16", "f16", "i8"})
    EXPECT_EQ(checkpoint->find(name)->type, ElementType::F32) << name.str();
}

TEST_F(SafetensorsTest, RefusesI8ValuesThatAreNotIntegersInRange) {
  Tensor fine{{1}, {3}, ElementType::I8};
  for (float bad : {0.5f, 200.0f, -129.0f, NAN}) {
    Tensor scale{{3}, {1, -2, bad}, ElementType::I8};
    std::string message = errorOf(writeSafetensors(
        path("q.safetensors"),
        {{"ok", &fine}, {"blocks.0.attn.qkv.weight", &scale}}, {}));
    EXPECT_THAT(message, HasSubstr("q.safetensors: tensor "
                                   "'blocks.0.attn.qkv.weight' is stored as "
                                   "i8 but element 2 is "))
        << bad;
    EXPECT_THAT(message, HasSubstr("not an integer in [-128, 127]"));
    EXPECT_FALSE(llvm::sys::fs::exists(path("q.safetensors")))
        << "nothing is written for " << bad;
  }
  Tensor half{{1}, {0.5f}, ElementType::I8};
  EXPECT_THAT(
      errorOf(writeSafetensors(path("q.safetensors"), {{"h", &half}}, {})),
      HasSubstr("element 0 is 0.5"));
  Tensor big{{1}, {200}, ElementType::I8};
  EXPECT_THAT(
      errorOf(writeSafetensors(path("q.safetensors"), {{"b", &big}}, {})),
      HasSubstr("element 0 is 200"));
}

TEST(SafetensorsHeader, OffsetsFollowEachTensorsElementSize) {
  std::string header = safetensorsHeader({{"w", ElementType::F32, {2}},
                                          {"b", ElementType::BF16, {3}},
                                          {"q", ElementType::I8, {5}},
                                          {"h", ElementType::F16, {1, 1}}},
                                         {{"vitc.model", "m"}});
  // llvm::json prints keys sorted; the data follows the tensors' order:
  // 2·4 bytes, then 3·2, 5·1, 1·2.
  std::string json =
      R"({"__metadata__":{"vitc.model":"m"},)"
      R"("b":{"data_offsets":[8,14],"dtype":"BF16","shape":[3]},)"
      R"("h":{"data_offsets":[19,21],"dtype":"F16","shape":[1,1]},)"
      R"("q":{"data_offsets":[14,19],"dtype":"I8","shape":[5]},)"
      R"("w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string expected(8, '\0');
  llvm::support::endian::write64le(expected.data(), json.size());
  EXPECT_EQ(header, expected + json);
  // The reader accepts it with 21 bytes of data and nothing else.
  EXPECT_TRUE(bool(parseSafetensors(header + std::string(21, '\0'), "h")));
  EXPECT_THAT(
      errorOf(parseSafetensors(header + std::string(20, '\0'), "h")),
      HasSubstr("tensors cover 21 bytes of data but the file holds 20"));
}

TEST_F(SafetensorsTest, ReadsI8AndU8) {
  std::string header =
      R"({"s":{"dtype":"I8","shape":[3],"data_offsets":[0,3]},)"
      R"("u":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})";
  auto checkpoint = parseSafetensors(
      safetensorsBytes(header, std::string("\x80\xff\x7f\xff\x00", 5)),
      "ints.safetensors");
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->find("s")->data,
            (std::vector<float>{-128.0f, -1.0f, 127.0f}));
  EXPECT_EQ(checkpoint->find("u")->data, (std::vector<float>{255.0f, 0.0f}));
}

TEST(SafetensorsErrors, EachMalformedFileIsRejectedWithItsReason) {
  auto error = [](const std::string &bytes) {
    return errorOf(parseSafetensors(bytes, "bad.safetensors"));
  };
  std::string one = floatBytes({1.0f});
  auto entry = [](const char *dtype, const char *shape, const char *offsets) {
    return std::string(R"({"t":{"dtype":")") + dtype + R"(","shape":)" + shape +
           R"(,"data_offsets":)" + offsets + "}}";
  };
  EXPECT_THAT(error("abc"),
              HasSubstr("bad.safetensors: file is 3 bytes, too short"));
  EXPECT_THAT(error(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}"),
              HasSubstr("exceeds the safetensors limit"));
  EXPECT_THAT(error(safetensorsBytes("{}", "").substr(0, 9)),
              HasSubstr("runs past the end"));
  EXPECT_THAT(error(safetensorsBytes("{not json", "")),
              HasSubstr("header is not valid JSON"));
  EXPECT_THAT(error(safetensorsBytes("[1,2]", "")),
              HasSubstr("header is not a JSON object"));
  // Deep nesting is refused before llvm::json::parse, which would recurse
  // once per level and overflow the stack.
  EXPECT_THAT(error(safetensorsBytes(std::string(100000, '['), "")),
              HasSubstr("bad.safetensors: header nests JSON 100000 levels "
                        "deep; vitc reads at most 64"));
  // A tensor named twice: llvm::json would keep the second silently.
  EXPECT_THAT(
      error(safetensorsBytes(
          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
          R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
          std::string(4, '\0'))),
      HasSubstr("bad.safetensors: header has the key 'w' twice in one "
                "object"));
  EXPECT_THAT(error(safetensorsBytes(
                  R"({"t":{"shape":[1],"data_offsets":[0,4]}})", one)),
              HasSubstr("tensor 't': missing string 'dtype'"));
  EXPECT_THAT(error(safetensorsBytes(entry("I32", "[1]", "[0,4]"), one)),
              HasSubstr("tensor 't': dtype I32 is not supported"));
  EXPECT_THAT(
      error(safetensorsBytes(entry("F32", "[-1]", "[0,4]"), one)),
      HasSubstr("shape holds something other than a non-negative integer"));
  EXPECT_THAT(error(safetensorsBytes(entry("F32", "[2]", "[0,4]"), one)),
              HasSubstr("shape and dtype F32 need 2 elements, but data_offsets "
                        "[0, 4] hold 4 bytes"));
  EXPECT_THAT(error(safetensorsBytes(entry("I8", "[3]", "[0,4]"), one)),
              HasSubstr("shape and dtype I8 need 3 elements, but data_offsets "
                        "[0, 4] hold 4 bytes"));
  EXPECT_THAT(error(safetensorsBytes(entry("F32", "[1]", "[4,0]"), one)),
              HasSubstr("end before they begin"));
  EXPECT_THAT(error(safetensorsBytes(entry("F32", "[1]", "[0]"), one)),
              HasSubstr("'data_offsets' must be [begin, end]"));
  EXPECT_THAT(error(safetensorsBytes(
                  entry("F32", "[4611686018427387904,8]", "[0,4]"), one)),
              HasSubstr("more elements than fit in 64 bits"));
  EXPECT_THAT(
      error(safetensorsBytes(entry("F32", "[1]", "[4,8]"), one + one)),
      HasSubstr(
          "starts at byte 4 of the data but the previous tensor ends at 0"));
  EXPECT_THAT(error(safetensorsBytes(entry("F32", "[1]", "[0,4]"), one + one)),
              HasSubstr("tensors cover 4 bytes of data but the file holds 8"));
  EXPECT_THAT(error(safetensorsBytes(entry("F32", "[2]", "[0,8]"), one)),
              HasSubstr("the file holds 4; the file is truncated"));
  EXPECT_THAT(error(safetensorsBytes(R"({"t":5})", "")),
              HasSubstr("header entry is not an object"));
}

TEST(Npy, ReadsVersionsDtypesByteOrderAndFortranOrder) {
  auto v1 = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
               floatBytes({1, 2, 3, 4})),
      "a");
  ASSERT_TRUE(bool(v1)) << llvm::toString(v1.takeError());
  EXPECT_EQ(v1->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(v1->data, (std::vector<float>{1, 2, 3, 4}));

  auto v2 = parseNpy(
      npyBytes("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}",
               floatBytes({5, 6, 7}), 2),
      "b");
  ASSERT_TRUE(bool(v2)) << llvm::toString(v2.takeError());
  EXPECT_EQ(v2->data, (std::vector<float>{5, 6, 7}));

  // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
  auto fortran = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
               floatBytes({1, 4, 2, 5, 3, 6})),
      "c");
  ASSERT_TRUE(bool(fortran));
  EXPECT_EQ(fortran->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));

  auto big = parseNpy(
      npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
               std::string("\x3f\x80\x00\x00", 4)),
      "d");
  ASSERT_TRUE(bool(big));
  EXPECT_EQ(big->data, (std::vector<float>{1.0f}));

  auto half = parseNpy(
      npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }",
               std::string("\x00\x3c\x00\xc0", 4)),
      "e");
  ASSERT_TRUE(bool(half));
  EXPECT_EQ(half->data, (std::vector<float>{1.0f, -2.0f}));

  auto bf16 = parseNpy(
      npyBytes("{'descr': '|V2', 'fortran_order': False, 'shape': (1,), }",
               std::string("\x80\x3f", 2)),
      "f");
  ASSERT_TRUE(bool(bf16));
  EXPECT_EQ(bf16->data, (std::vector<float>{1.0f}));

  double value = -1.5;
  auto f64 = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
               std::string(reinterpret_cast<const char *>(&value), 8)),
      "g");
  ASSERT_TRUE(bool(f64));
  EXPECT_TRUE(f64->shape.empty());
  EXPECT_EQ(f64->data, (std::vector<float>{-1.5f}));
}

TEST(Npy, EachMalformedArrayIsRejectedWithItsReason) {
  auto error = [](const std::string &bytes) {
    return errorOf(parseNpy(bytes, "x.npy"));
  };
  std::string four = floatBytes({1, 2, 3, 4});
  EXPECT_THAT(error("PK\x03\x04 not npy"),
              HasSubstr("x.npy: not a .npy array"));
  std::string badVersion =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", four);
  badVersion[6] = 9;
  EXPECT_THAT(error(badVersion),
              HasSubstr(".npy format version 9 is not supported"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",
                     four)
                .substr(0, 30)),
      HasSubstr("header runs past the end"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}",
                     four)),
      HasSubstr("unsupported dtype '<i8'"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}",
                     four)),
      HasSubstr("object arrays (Python pickles) are refused"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}",
                     four)),
      HasSubstr("shape (5) of dtype '<f4' needs 20 bytes but the array holds "
                "16; truncated"));
  EXPECT_THAT(error(npyBytes("{'descr': '<f4', 'shape': (4,)}", four)),
              HasSubstr("missing one of 'descr', 'fortran_order', 'shape'"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (4,)}",
                     four)),
      HasSubstr("'fortran_order' must be True or False"));
  EXPECT_THAT(
      error(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}",
                     four)),
      HasSubstr("'shape' must be a tuple of non-negative integers"));
  EXPECT_THAT(
      error(npyBytes(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}",
          four)),
      HasSubstr("unexpected key 'x'"));
  EXPECT_THAT(error(npyBytes("['descr']", four)),
              HasSubstr("malformed .npy header: expected '{'"));
}

/// Writes an .npz with libzip: members stored or deflated.
static void
writeNpz(const std::string &path,
         const std::vector<std::pair<std::string, std::string>> &members,
         bool compress) {
  int error = 0;
  zip_t *archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(archive, nullptr);
  for (const auto &[name, bytes] : members) {
    zip_source_t *source =
        zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    zip_int64_t index =
        zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    ASSERT_GE(index, 0);
    zip_set_file_compression(archive, index,
                             compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  ASSERT_EQ(zip_close(archive), 0);
}

class NpzTest : public TempDir {};

TEST_F(NpzTest, ReadsStoredAndDeflatedMembersWithSlashedKeys) {
  std::string npy =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
               floatBytes({1, 2, 3, 4}));
  for (bool compress : {false, true}) {
    writeNpz(path("w.npz"),
             {{"Transformer/encoder_norm/scale.npy", npy}, {"cls.npy", npy}},
             compress);
    auto checkpoint = readCheckpoint(path("w.npz"));
    ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
    EXPECT_EQ(checkpoint->names, (std::vector<std::string>{
                                     "Transformer/encoder_norm/scale", "cls"}));
    EXPECT_EQ(checkpoint->find("cls")->data, (std::vector<float>{1, 2, 3, 4}));
  }
}

/// A stored zip archive with every size and offset in zip64 form: 0xFFFFFFFF
/// in the headers, the real values in zip64 extra fields, and a zip64 end of
/// central directory. This is the form archives over 4 GiB (ViT-H/14's npz is
/// 2.5 GiB; numpy forces zip64 in local headers always) must be read in.
static std::string
zip64Archive(const std::vector<std::pair<std::string, std::string>> &members) {
  std::string out, central;
  auto u16 = [](std::string &s, uint16_t v) {
    s.append(reinterpret_cast<char *>(&v), 2);
  };
  auto u32 = [](std::string &s, uint32_t v) {
    s.append(reinterpret_cast<char *>(&v), 4);
  };
  auto u64 = [](std::string &s, uint64_t v) {
    s.append(reinterpret_cast<char *>(&v), 8);
  };
  for (const auto &[name, data] : members) {
    uint64_t offset = out.size();
    uint32_t crc = llvm::crc32(llvm::arrayRefFromStringRef(data));
    u32(out, 0x04034b50);
    u16(out, 45);
    u16(out, 0);
    u16(out, 0);
    u16(out, 0);
    u16(out, 0x21);
    u32(out, crc);
    u32(out, 0xffffffff);
    u32(out, 0xffffffff);
    u16(out, name.size());
    u16(out, 20);
    out += name;
    u16(out, 1);
    u16(out, 16);
    u64(out, data.size());
    u64(out, data.size());
    out += data;
    u32(central, 0x02014b50);
    u16(central, 45);
    u16(central, 45);
    u16(central, 0);
    u16(central, 0);
    u16(central, 0);
    u16(central, 0x21);
    u32(central, crc);
    u32(central, 0xffffffff);
    u32(central, 0xffffffff);
    u16(central, name.size());
    u16(central, 28);
    u16(central, 0);
    u16(central, 0);
    u16(central, 0);
    u32(central, 0);
    u32(central, 0xffffffff);
    central += name;
    u16(central, 1);
    u16(central, 24);
    u64(central, data.size());
    u64(central, data.size());
    u64(central, offset);
  }
  uint64_t centralOffset = out.size();
  out += central;
  uint64_t eocd64 = out.size();
  u32(out, 0x06064b50);
  u64(out, 44);
  u16(out, 45);
  u16(out, 45);
  u32(out, 0);
  u32(out, 0);
  u64(out, members.size());
  u64(out, members.size());
  u64(out, central.size());
  u64(out, centralOffset);
  u32(out, 0x07064b50);
  u32(out, 0);
  u64(out, eocd64);
  u32(out, 1);
  u32(out, 0x06054b50);
  u16(out, 0);
  u16(out, 0);
  u16(out, 0xffff);
  u16(out, 0xffff);
  u32(out, 0xffffffff);
  u32(out, 0xffffffff);
  u16(out, 0);
  return out;
}

TEST(NpzZip64, ReadsAnArchiveWhoseSizesAndOffsetsAreAllZip64) {
  std::string npy =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
               floatBytes({1, 2, 3}));
  std::string half =
      npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
               std::string("\x00\x3c", 2));
  auto checkpoint = parseNpz(zip64Archive({{"params/embedding/bias.npy", npy},
                                           {"params/cls.npy", half}}),
                             "zip64.npz");
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->names,
            (std::vector<std::string>{"params/embedding/bias", "params/cls"}));
  EXPECT_EQ(checkpoint->find("params/embedding/bias")->data,
            (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(checkpoint->find("params/cls")->data, (std::vector<float>{1.0f}));
}

TEST(NpzNumpy, ReadsTheZip64ArchiveNumpyWrote) {
  // np.savez always writes zip64 extra fields (numpy gh-10776).
  auto checkpoint =
      readCheckpoint(dataPath("reference/tiny_official_npz/model.npz"));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  const Tensor *kernel = checkpoint->find("embedding/kernel");
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(kernel->shape, (std::vector<int64_t>{8, 8, 3, 32}));
  const Tensor *query = checkpoint->find(
      "Transformer/encoderblock_1/MultiHeadDotProductAttention_1/query/kernel");
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(query->shape, (std::vector<int64_t>{32, 2, 16}));
}

TEST_F(NpzTest, EachMalformedArchiveIsRejectedWithItsReason) {
  std::string npy =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
               floatBytes({1}));
  writeNpz(path("txt.npz"), {{"readme.txt", "hello"}}, false);
  EXPECT_THAT(errorOf(readCheckpoint(path("txt.npz"))),
              HasSubstr("member 'readme.txt' is not a .npy array"));

  writeNpz(path("bad.npz"), {{"w.npy", "not an array"}}, false);
  EXPECT_THAT(errorOf(readCheckpoint(path("bad.npz"))),
              HasSubstr("'w': not a .npy array"));

  writeNpz(path("good.npz"), {{"w.npy", npy}, {"v.npy", npy}}, false);
  auto bytes = llvm::MemoryBuffer::getFile(path("good.npz"));
  ASSERT_TRUE(bytes);
  std::string whole = (*bytes)->getBuffer().str();
  EXPECT_THAT(errorOf(parseNpz(whole.substr(0, whole.size() / 2), "cut.npz")),
              HasSubstr("cut.npz: not a readable .npz (zip) archive"));
  std::string flipped = whole;
  flipped[40] ^= 0x55; // inside the first member's data: CRC mismatch
  EXPECT_THAT(errorOf(parseNpz(flipped, "crc.npz")), HasSubstr("crc.npz"));

  EXPECT_THAT(errorOf(readCheckpoint(path("missing.npz"))),
              HasSubstr("cannot read weights file"));
}

} // namespace

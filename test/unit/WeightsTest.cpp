//===- WeightsTest.cpp - binding checkpoints of every layout to a model ---===//
//
// Uses the reference checkpoints of test/data/reference (written by timm and
// numpy): the Hugging Face and official .npz copies of one model must bind to
// exactly the tensors of its timm copy; the position-embedding similarity of
// the bound weights, and its PNG figure, against numpy's values.
//
//===----------------------------------------------------------------------===//

#include "TestData.h"

#include "compiler/frontend/ConfigFile.h"
#include "compiler/frontend/PosEmbedSimilarity.h"
#include "compiler/frontend/Weights.h"
#include "support/Figure.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <png.h>

using namespace vitc;
using namespace vitc::test;
using ::testing::HasSubstr;

namespace {

struct Bound {
  ModelConfig config;
  ModelWeights weights;
  std::vector<std::string> notes;
};

Bound bindCase(const std::string &name, const std::string &weightsFile,
               BindOptions options = {}) {
  Bound bound;
  auto config = readConfigFile(dataPath("reference/" + name + "/config.json"));
  EXPECT_TRUE(bool(config)) << errorOf(config.takeError());
  if (!config)
    return bound;
  bound.config = *config;
  auto checkpoint =
      readCheckpoint(dataPath("reference/" + name + "/" + weightsFile));
  EXPECT_TRUE(bool(checkpoint)) << errorOf(checkpoint.takeError());
  if (!checkpoint)
    return bound;
  auto weights =
      bindWeights(bound.config, std::move(*checkpoint), options, bound.notes);
  EXPECT_TRUE(bool(weights)) << name << ": " << errorOf(weights.takeError());
  if (weights)
    bound.weights = std::move(*weights);
  return bound;
}

class ReferenceCase : public ::testing::TestWithParam<const char *> {};

TEST_P(ReferenceCase, BindsEveryParameterOfItsConfig) {
  Bound bound = bindCase(GetParam(), "model.safetensors");
  std::vector<ParamSpec> params = listParams(bound.config);
  ASSERT_EQ(bound.weights.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(bound.weights[i].first, params[i].name);
    EXPECT_EQ(bound.weights[i].second.shape, params[i].shape) << params[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    TimmAndHf, ReferenceCase,
    ::testing::Values("tiny_token_erf", "tiny_gap", "tiny_avg_fcnorm",
                      "tiny_gelu_tanh_noqkvbias", "tiny_relu",
                      "tiny_deit_distilled", "tiny_representation",
                      "tiny_posembed_resize_bicubic",
                      "tiny_posembed_resize_bilinear_ac", "tiny_hf"));

void expectSameWeights(const ModelWeights &a, const ModelWeights &b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.shape, b[i].second.shape) << a[i].first;
    EXPECT_EQ(a[i].second.data, b[i].second.data) << a[i].first;
  }
}

TEST(Layouts, HuggingFaceKeysBindToTheTimmTensors) {
  Bound timm = bindCase("tiny_token_erf", "model.safetensors");
  Bound hf = bindCase("tiny_hf", "model.safetensors");
  EXPECT_EQ(hf.config.layerNormEps, 1e-6f);
  expectSameWeights(hf.weights, timm.weights);
}

TEST(Layouts, OfficialNpzBindsToTheTimmTensors) {
  Bound timm = bindCase("tiny_token_erf", "model.safetensors");
  Bound official = bindCase("tiny_official_npz", "model.npz");
  expectSameWeights(official.weights, timm.weights);
}

/// The official reference checkpoint with its keys rewritten by `rename`.
Checkpoint
renamedOfficial(const std::function<std::string(std::string)> &rename) {
  auto original =
      readCheckpoint(dataPath("reference/tiny_official_npz/model.npz"));
  EXPECT_TRUE(bool(original));
  Checkpoint renamed;
  renamed.path = "renamed.npz";
  if (!original)
    return renamed;
  for (const std::string &name : original->names)
    EXPECT_FALSE(renamed.add(rename(name), *original->find(name)));
  return renamed;
}

TEST(Layouts, LinenNumberingAndPrefixesBindToTheSameTensors) {
  auto config =
      readConfigFile(dataPath("reference/tiny_official_npz/config.json"));
  ASSERT_TRUE(bool(config));
  Bound timm = bindCase("tiny_token_erf", "model.safetensors");
  auto linen = [](std::string key) {
    // Linen numbers submodules per class instead of globally.
    for (auto [from, to] :
         {std::pair<std::string, std::string>{"MultiHeadDotProductAttention_1",
                                              "MultiHeadDotProductAttention_0"},
          {"LayerNorm_2", "LayerNorm_1"},
          {"MlpBlock_3", "MlpBlock_0"}})
      if (size_t at = key.find(from); at != std::string::npos)
        key.replace(at, from.size(), to);
    return key;
  };
  for (auto rename : std::vector<std::function<std::string(std::string)>>{
           linen, [](std::string key) { return "opt/target/" + key; },
           [&](std::string key) { return "params/" + linen(key); }}) {
    std::vector<std::string> notes;
    auto weights = bindWeights(*config, renamedOfficial(rename), {}, notes);
    ASSERT_TRUE(bool(weights)) << errorOf(weights.takeError());
    expectSameWeights(*weights, timm.weights);
  }
}

TEST(Layouts, DetectionFailureListsWhatTheFileHolds) {
  Checkpoint checkpoint;
  checkpoint.path = "odd.safetensors";
  ASSERT_FALSE(checkpoint.add("encoder.weight", Tensor{{1}, {0}}));
  EXPECT_THAT(errorOf(detectLayout(checkpoint)),
              HasSubstr("odd.safetensors: cannot tell the checkpoint layout"));
  EXPECT_THAT(errorOf(detectLayout(checkpoint)),
              HasSubstr("starts with: encoder.weight"));
}

const Tensor &find(const ModelWeights &weights, const std::string &name) {
  for (const auto &[key, tensor] : weights)
    if (key == name)
      return tensor;
  static Tensor none;
  ADD_FAILURE() << "no " << name;
  return none;
}

TEST(PositionEmbedding, ResizedAsTheReferenceLibraryDid) {
  for (auto [name, method] :
       {std::pair<const char *, ResizeMethod>{"tiny_posembed_resize_bicubic",
                                              ResizeMethod::Bicubic},
        {"tiny_posembed_resize_bilinear_ac",
         ResizeMethod::BilinearAlignCorners}}) {
    BindOptions options;
    options.resize = method;
    Bound bound = bindCase(name, "model.safetensors", options);
    auto golden = llvm::MemoryBuffer::getFile(
        dataPath(std::string("reference/") + name + "/posembed_resized.npy"));
    ASSERT_TRUE(bool(golden));
    auto expected = parseNpy((*golden)->getBuffer(), "posembed_resized.npy");
    ASSERT_TRUE(bool(expected));
    const Tensor &actual = find(bound.weights, "pos_embed");
    ASSERT_EQ(actual.shape, expected->shape);
    for (size_t i = 0; i < actual.data.size(); ++i)
      ASSERT_NEAR(actual.data[i], expected->data[i], 2e-6)
          << name << " element " << i;
    ASSERT_EQ(bound.notes.size(), 1u);
    EXPECT_THAT(bound.notes[0], HasSubstr("from a 4x4 to a 6x6 patch grid"));
  }
}

TEST(PositionEmbedding, DefaultIsTheCheckpointLibrarysMethod) {
  Bound bound = bindCase("tiny_posembed_resize_bicubic", "model.safetensors");
  ASSERT_EQ(bound.notes.size(), 1u);
  EXPECT_THAT(bound.notes[0], HasSubstr("(bicubic)"));
}

/// The tiny timm checkpoint with one change applied.
std::string bindError(const std::function<void(Checkpoint &)> &edit,
                      BindOptions options = {}) {
  auto config =
      readConfigFile(dataPath("reference/tiny_token_erf/config.json"));
  auto checkpoint =
      readCheckpoint(dataPath("reference/tiny_token_erf/model.safetensors"));
  if (!config || !checkpoint)
    return "could not load the reference case";
  edit(*checkpoint);
  std::vector<std::string> notes;
  return errorOf(bindWeights(*config, std::move(*checkpoint), options, notes));
}

TEST(BindErrors, MissingWrongShapeUnusedAndRefusedResize) {
  EXPECT_THAT(
      bindError(
          [](Checkpoint &c) { c.tensors.erase("blocks.1.mlp.fc2.bias"); }),
      HasSubstr(
          "missing tensor 'blocks.1.mlp.fc2.bias' of shape 32 (timm layout)"));
  EXPECT_THAT(
      bindError([](Checkpoint &c) {
        c.tensors["head.weight"] = Tensor{{5, 32}, std::vector<float>(160)};
      }),
      HasSubstr("tensor 'head.weight' has shape 5x32 but model 'timm-config' "
                "expects 10x32"));
  auto addExtra = [](Checkpoint &c) {
    ASSERT_FALSE(
        c.add("blocks.0.ls1.gamma", Tensor{{32}, std::vector<float>(32)}));
  };
  EXPECT_THAT(
      bindError(addExtra),
      HasSubstr(
          "1 tensor(s) not used by model 'timm-config': 'blocks.0.ls1.gamma' "
          "(pass --allow-unused-weights to ignore them)"));
  BindOptions allow;
  allow.allowUnexpected = true;
  EXPECT_EQ(bindError(addExtra, allow), "");
  BindOptions noResize;
  noResize.noResize = true;
  EXPECT_THAT(bindError(
                  [](Checkpoint &c) {
                    c.tensors["pos_embed"] =
                        Tensor{{1, 10, 32}, std::vector<float>(320)};
                  },
                  noResize),
              HasSubstr("(position-embedding resize was disabled)"));
  // 9 patch rows cannot come from a 4x4 grid's aspect ratio and are not
  // square... 3x3 is.
  EXPECT_THAT(
      bindError([](Checkpoint &c) {
        c.tensors["pos_embed"] = Tensor{{1, 8, 32}, std::vector<float>(256)};
      }),
      HasSubstr(
          "tensor 'pos_embed' has shape 1x8x32 but model 'timm-config' expects "
          "1x17x32"));
}

TEST(OfficialErrors, SourceKeysAreNamed) {
  auto config =
      readConfigFile(dataPath("reference/tiny_official_npz/config.json"));
  auto checkpoint =
      readCheckpoint(dataPath("reference/tiny_official_npz/model.npz"));
  ASSERT_TRUE(config && checkpoint);
  checkpoint->tensors["Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel"] =
      Tensor{{64}, std::vector<float>(64)};
  std::vector<std::string> notes;
  EXPECT_THAT(
      errorOf(bindWeights(*config, std::move(*checkpoint), {}, notes)),
      HasSubstr(
          "tensor 'Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel' has "
          "shape 64 but a rank-2 tensor is expected"));
}

TEST(RandomWeights, DeterministicPerSeedWithViTScales) {
  auto config = lookupZooModel("vit-ti16");
  ASSERT_TRUE(bool(config));
  config->depth = 1;
  ModelWeights a = randomWeights(*config, 7), b = randomWeights(*config, 7),
               c = randomWeights(*config, 8);
  expectSameWeights(a, b);
  EXPECT_NE(find(a, "blocks.0.attn.qkv.weight").data,
            find(c, "blocks.0.attn.qkv.weight").data);
  std::vector<ParamSpec> params = listParams(*config);
  ASSERT_EQ(a.size(), params.size());
  for (float v : find(a, "blocks.0.norm1.weight").data)
    EXPECT_EQ(v, 1.0f);
  const Tensor &qkv = find(a, "blocks.0.attn.qkv.weight");
  double sum = 0, squares = 0;
  float largest = 0;
  for (float v : qkv.data) {
    sum += v;
    squares += double(v) * v;
    largest = std::max(largest, std::fabs(v));
  }
  double mean = sum / qkv.data.size();
  double std = std::sqrt(squares / qkv.data.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 1e-3);
  EXPECT_NEAR(std, 0.02 * 0.88,
              1e-3); // a normal truncated at 2 sigma has std 0.88 sigma
  EXPECT_LE(largest, 0.04f);
}

} // namespace

namespace {

/// The position-embedding similarity of a committed checkpoint, against
/// numpy's (test/reference/make_posembed_similarity.py), and its figure,
/// decoded from the PNG, against the same values: each heat-map cell's colour
/// is viridis((similarity + 1) / 2).
TEST(PosEmbedSimilarity, MatchesNumpyAndItsFigureDecodesToTheSameValues) {
  for (const char *name : {"tiny_token_erf", "tiny_posembed_resize_bicubic"}) {
    Bound bound = bindCase(name, "model.safetensors");
    llvm::Expected<Tensor> similarity =
        posEmbedSimilarity(bound.config, bound.weights);
    ASSERT_TRUE(bool(similarity)) << errorOf(similarity.takeError());
    auto expected = readNpy(
        dataPath(std::string("reference/") + name + "/posembed_similarity.npy"));
    ASSERT_TRUE(bool(expected)) << errorOf(expected.takeError());
    ASSERT_EQ(similarity->shape, expected->shape) << name;
    for (size_t i = 0; i < expected->data.size(); ++i)
      ASSERT_NEAR(similarity->data[i], expected->data[i], 1e-6) << name << " " << i;

    Canvas figure = drawPosEmbedSimilarity(*similarity, name);
    llvm::SmallString<128> path;
    ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("similarity", "png", path));
    ASSERT_EQ(errorOf(writePng(path, figure, name)), "");
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_file(&png, path.c_str()));
    png.format = PNG_FORMAT_RGB;
    std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(png));
    ASSERT_TRUE(png_image_finish_read(&png, nullptr, pixels.data(), 0, nullptr));
    llvm::sys::fs::remove(path);
    ASSERT_EQ(int(png.width), figure.width());
    ASSERT_EQ(pixels, figure.pixels());
    // The grid's geometry, as drawPosEmbedSimilarity lays it out: find each
    // cell by its colour at the cell's centre.
    const int gh = int(expected->shape[0]), gw = int(expected->shape[1]);
    const int cell = std::clamp(720 / (gw * gw), 1, 12), gap = std::max(2, cell);
    const int left = 12, top = 12 + 14 + 10;
    for (int r = 0; r < gh; ++r)
      for (int c = 0; c < gw; ++c)
        for (int i = 0; i < gh; ++i)
          for (int j = 0; j < gw; ++j) {
            const int x = left + c * (gw * cell + gap) + j * cell + cell / 2;
            const int y = top + r * (gh * cell + gap) + i * cell + cell / 2;
            const size_t at = (size_t(y) * png.width + x) * 3;
            const float value =
                expected->data[((r * gw + c) * gh + i) * gw + j];
            Rgb want = viridis((value + 1.0f) / 2.0f);
            Rgb got{pixels[at], pixels[at + 1], pixels[at + 2]};
            // A value within 1e-6 of numpy's maps to the same colour, or
            // one step of a channel away at a rounding boundary.
            EXPECT_LE(std::abs(int(got.r) - want.r) + std::abs(int(got.g) - want.g) +
                          std::abs(int(got.b) - want.b),
                      1)
                << name << " map (" << r << ", " << c << ") cell (" << i << ", "
                << j << ")";
          }
  }
}

} // namespace

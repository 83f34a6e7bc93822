//===- RuntimeTest.cpp - libvitrt with models compiled at build time ------===//
//
// Two reference models are compiled by vit_add_model() and linked in: their
// outputs match PyTorch, and every kind of bad input (weights of another
// model, truncated or missing files, wrong sizes, null pointers) returns an
// error with a message. Two threads share one model with separate contexts,
// and two models run at once.
//
//===----------------------------------------------------------------------===//

#include "support/Checkpoint.h"
#include "tiny_deit_maps_model.h"
#include "tiny_gap_model.h"
#include "tiny_token_int8_model.h"
#include "tiny_token_model.h"

#include "vitrt.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using ::testing::HasSubstr;

namespace {

std::string reference(const std::string &file) {
  return std::string(VITC_TEST_DATA_DIR) + "/reference/" + file;
}

vitc::Tensor load(const std::string &path) {
  auto tensor = vitc::readNpy(path);
  EXPECT_TRUE(bool(tensor)) << path;
  return tensor ? *tensor : vitc::Tensor{};
}

float maxDiff(const std::vector<float> &a, const std::vector<float> &b) {
  float worst = INFINITY;
  if (a.size() != b.size())
    return worst;
  worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

struct Opened {
  vitrt_model *model = nullptr;
  vitrt_context *context = nullptr;
  ~Opened() {
    vitrt_context_destroy(context);
    vitrt_close(model);
  }
};

void open(const vitrt_model_desc *desc, const char *weights, Opened &out) {
  ASSERT_EQ(vitrt_open(desc, weights, nullptr, &out.model), VITRT_OK)
      << vitrt_last_error();
  ASSERT_EQ(vitrt_context_create(out.model, &out.context), VITRT_OK)
      << vitrt_last_error();
}

std::vector<float> run(vitrt_context *context, const vitc::Tensor &input,
                       int outputs) {
  int64_t batch = input.shape[0];
  std::vector<float> out(batch * outputs);
  EXPECT_EQ(vitrt_run(context, input.data.data(), input.data.size(), batch,
                      out.data(), out.size()),
            VITRT_OK)
      << vitrt_last_error();
  return out;
}

TEST(Runtime, MatchesPyTorchAndReportsTheModel) {
  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, m));
  vitrt_model_info info;
  ASSERT_EQ(vitrt_get_info(m.model, &info), VITRT_OK);
  EXPECT_STREQ(info.name, "tiny_token_model");
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(info.height, 32);
  EXPECT_EQ(info.width, 32);
  EXPECT_EQ(info.outputs, 10);
  EXPECT_EQ(info.mean[0], 0.5f);
  EXPECT_STREQ(info.precision, "f32");
  vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  vitc::Tensor expected = load(reference("tiny_token_erf/logits.npy"));
  EXPECT_LE(maxDiff(run(m.context, input, 10), expected.data), 1e-4f);
  // A smaller batch after a larger one reuses the context's memory.
  vitc::Tensor first = input;
  first.shape[0] = 1;
  first.data.resize(first.data.size() / 2);
  vitc::Tensor expectedFirst = load(reference("tiny_token_erf/logits_b1.npy"));
  EXPECT_LE(maxDiff(run(m.context, first, 10), expectedFirst.data), 1e-4f);
}

TEST(Runtime, Int8ModelsSayTheirPrecisionAndMatchTheInt8Reference) {
  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_int8_model_model(), TINY_TOKEN_INT8_WEIGHTS, m));
  vitrt_model_info info;
  ASSERT_EQ(vitrt_get_info(m.model, &info), VITRT_OK);
  EXPECT_STREQ(info.precision, "int8");
  vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  vitc::Tensor expected =
      load(reference("tiny_token_erf/logits_int8_l63.npy")); // the AVX2 code
  EXPECT_LE(maxDiff(run(m.context, input, 10), expected.data), 2e-3f);
}

TEST(Runtime, WeightsOfAnotherPrecisionAreRefusedNamingBoth) {
  vitrt_model *model = nullptr;
  EXPECT_EQ(vitrt_open(tiny_token_int8_model_model(), TINY_TOKEN_WEIGHTS,
                       nullptr, &model),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("these weights are f32 but model "
                        "'tiny_token_int8_model' was compiled for int8"));
  EXPECT_EQ(vitrt_open(tiny_token_model_model(), TINY_TOKEN_INT8_WEIGHTS,
                       nullptr, &model),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("these weights are int8 but model 'tiny_token_model' "
                        "was compiled for f32"));
}

TEST(Runtime, AttentionMapsAndRolloutMatchPyTorch) {
  vitrt::Model model(tiny_deit_maps_model_model(), TINY_DEIT_MAPS_WEIGHTS);
  const vitrt_model_info &info = model.info();
  // 2 layers of 2 heads; the class and distillation tokens' rows over 18
  // tokens: those two, then the 4x4 patch grid.
  EXPECT_EQ(info.attention_layers, 2);
  EXPECT_EQ(info.attention_heads, 2);
  EXPECT_EQ(info.attention_rows, 2);
  EXPECT_EQ(info.attention_tokens, 18);
  EXPECT_EQ(info.prefix_tokens, 2);
  EXPECT_EQ(info.grid_height, 4);
  EXPECT_EQ(info.grid_width, 4);
  vitrt::Context context(model);
  vitc::Tensor input = load(reference("tiny_deit_distilled/input.npy"));
  vitrt::Context::Attention result =
      context.runWithAttention(input.data, input.shape[0]);
  EXPECT_LE(maxDiff(result.outputs,
                    load(reference("tiny_deit_distilled/logits.npy")).data),
            1e-4f);
  EXPECT_LE(maxDiff(result.maps,
                    load(reference("tiny_deit_distilled/attention_maps.npy")).data),
            1e-5f);
  EXPECT_LE(maxDiff(result.rollout,
                    load(reference("tiny_deit_distilled/rollout.npy")).data),
            1e-5f);
}

TEST(Runtime, AttentionMapsAreCheckedAndOnlyWhereCompiled) {
  vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  std::vector<float> logits(2 * 10), maps(1000);
  vitrt_run_extras extras{};
  extras.rollout = maps.data();
  extras.rollout_count = maps.size();
  {
    Opened m;
    ASSERT_NO_FATAL_FAILURE(
        open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, m));
    EXPECT_EQ(vitrt_run_ex(m.context, input.data.data(), input.data.size(), 2,
                           logits.data(), logits.size(), &extras),
              VITRT_INVALID_ARGUMENT);
    EXPECT_THAT(vitrt_last_error(),
                HasSubstr("has no attention maps (compile it with vitc "
                          "--attention-maps) for rollout"));
  }
  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_deit_maps_model_model(), TINY_DEIT_MAPS_WEIGHTS, m));
  vitc::Tensor deit = load(reference("tiny_deit_distilled/input.npy"));
  extras.rollout_count = 2 * 2 * 18 - 1; // one float short
  EXPECT_EQ(vitrt_run_ex(m.context, deit.data.data(), deit.data.size(), 2,
                         logits.data(), logits.size(), &extras),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("rollout of 2 images need 72 floats, got room for 71"));
  // Without extras it is a plain run.
  EXPECT_EQ(vitrt_run_ex(m.context, deit.data.data(), deit.data.size(), 2,
                         logits.data(), logits.size(), nullptr),
            VITRT_OK)
      << vitrt_last_error();
}

TEST(Runtime, LibrariesForCpuFeaturesTheHostLacksAreRefused) {
  // A feature this host lacks, whatever the host.
  const char *missing = !__builtin_cpu_supports("amx-tile")     ? "amx-tile"
                        : !__builtin_cpu_supports("avx512bf16") ? "avx512bf16"
                        : !__builtin_cpu_supports("avx512f")    ? "avx512f"
                                                                : nullptr;
  if (!missing)
    GTEST_SKIP() << "this CPU has every feature a library can name";
  vitrt_model_desc desc = *tiny_token_model_model();
  std::string features = std::string("sse4.1 ") + missing;
  desc.cpu_features = features.c_str();
  vitrt_model *model = nullptr;
  EXPECT_EQ(vitrt_open(&desc, TINY_TOKEN_WEIGHTS, nullptr, &model),
            VITRT_UNSUPPORTED_CPU);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr(std::string("whose kernels use ") + missing +
                        ", which this CPU does not have"));
  desc.cpu_features = "sse4.1 quantum-annealing";
  EXPECT_EQ(vitrt_open(&desc, TINY_TOKEN_WEIGHTS, nullptr, &model),
            VITRT_UNSUPPORTED_CPU);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("needs CPU feature 'quantum-annealing', which this "
                        "runtime cannot check"));
}

TEST(Runtime, FeaturesAreWhatTheHeadReads) {
  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, m));
  vitrt_model_info info;
  ASSERT_EQ(vitrt_get_info(m.model, &info), VITRT_OK);
  ASSERT_EQ(info.features, 32);
  vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  std::vector<float> logits(20), features(64);
  ASSERT_EQ(vitrt_run_features(m.context, input.data.data(), input.data.size(),
                               2, logits.data(), logits.size(), features.data(),
                               features.size()),
            VITRT_OK)
      << vitrt_last_error();
  // The timm checkpoint's head applied to the features gives the logits.
  auto checkpoint =
      vitc::readCheckpoint(reference("tiny_token_erf/model.safetensors"));
  ASSERT_TRUE(bool(checkpoint));
  const vitc::Tensor *weight = checkpoint->find("head.weight");
  const vitc::Tensor *bias = checkpoint->find("head.bias");
  ASSERT_TRUE(weight && bias);
  std::vector<float> fromFeatures(20);
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 10; ++c) {
      double sum = bias->data[c];
      for (int d = 0; d < 32; ++d)
        sum += double(features[b * 32 + d]) * weight->data[c * 32 + d];
      fromFeatures[b * 10 + c] = float(sum);
    }
  EXPECT_LE(maxDiff(fromFeatures, logits), 1e-5f);
  EXPECT_LE(maxDiff(logits, load(reference("tiny_token_erf/logits.npy")).data),
            1e-4f);
  EXPECT_EQ(vitrt_run_features(m.context, input.data.data(), input.data.size(),
                               2, logits.data(), logits.size(), features.data(),
                               63),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("2 feature vectors of 32 need 64 floats"));
}

TEST(Runtime, RefusesWeightsOfAnotherModel) {
  vitrt_model *model = reinterpret_cast<vitrt_model *>(1);
  EXPECT_EQ(
      vitrt_open(tiny_token_model_model(), TINY_GAP_WEIGHTS, nullptr, &model),
      VITRT_WEIGHTS_MISMATCH);
  EXPECT_EQ(model, nullptr);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("these weights do not belong to model "
                        "'tiny_token_model' (weights fingerprint"));
  // A timm checkpoint is not a weights file in kernel layout either.
  EXPECT_EQ(vitrt_open(tiny_token_model_model(),
                       reference("tiny_token_erf/model.safetensors").c_str(),
                       nullptr, &model),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("weights fingerprint none"));
}

TEST(Runtime, RefusesALibraryOfAnotherAbiOrAnUnknownElementType) {
  // A copy of a real description, changed where a library built for another
  // runtime would differ.
  vitrt_model_desc desc = *tiny_token_model_model();
  vitrt_model *model = reinterpret_cast<vitrt_model *>(1);
  desc.abi_version = VITRT_ABI_VERSION - 1;
  EXPECT_EQ(vitrt_open(&desc, TINY_TOKEN_WEIGHTS, nullptr, &model),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("the library was built for runtime ABI " +
                        std::to_string(VITRT_ABI_VERSION - 1) +
                        ", this runtime is " +
                        std::to_string(VITRT_ABI_VERSION)));
  desc.abi_version = VITRT_ABI_VERSION;
  std::vector<vitrt_param_desc> params(desc.params,
                                       desc.params + desc.num_params);
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params[0].dtype, VITRT_DTYPE_F32);
  params.back().dtype = 9;
  desc.params = params.data();
  EXPECT_EQ(vitrt_open(&desc, TINY_TOKEN_WEIGHTS, nullptr, &model),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("parameter '" + std::string(params.back().name) +
                        "' has element type 9, which this runtime does not "
                        "know"));
}

/// A copy of a weights file the test may change.
std::string copyOf(const char *weights, const std::string &name) {
  std::string path = ::testing::TempDir() + name;
  std::ifstream in(weights, std::ios::binary);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << in.rdbuf();
  return path;
}

TEST(Runtime, RefusesToRunOnAWeightsFileChangedSinceOpen) {
  const vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  std::string path = copyOf(TINY_TOKEN_WEIGHTS, "changed.safetensors");
  Opened m;
  open(tiny_token_model_model(), path.c_str(), m);
  std::vector<float> out(input.shape[0] * 10);
  ASSERT_EQ(vitrt_run(m.context, input.data.data(), input.data.size(),
                      input.shape[0], out.data(), out.size()),
            VITRT_OK)
      << vitrt_last_error();
  // Truncated: reading the mapping would fault; the run is refused instead.
  ASSERT_EQ(truncate(path.c_str(), 1000), 0);
  EXPECT_EQ(vitrt_run(m.context, input.data.data(), input.data.size(),
                      input.shape[0], out.data(), out.size()),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("changed after vitrt_open (" ));
  EXPECT_THAT(vitrt_last_error(), HasSubstr("1000 now"));
  // Rewritten in place at the same size (the modification time moves on).
  std::string same = copyOf(TINY_TOKEN_WEIGHTS, "rewritten.safetensors");
  Opened r;
  open(tiny_token_model_model(), same.c_str(), r);
  copyOf(TINY_TOKEN_WEIGHTS, "rewritten.safetensors");
  struct timespec later[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, same.c_str(), later, 0), 0);
  EXPECT_EQ(vitrt_run(r.context, input.data.data(), input.data.size(),
                      input.shape[0], out.data(), out.size()),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("modified since"));
}

TEST(Runtime, PrivateWeightsAreNotAffectedByTheFile) {
  const vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  const vitc::Tensor expected = load(reference("tiny_token_erf/logits.npy"));
  std::string path = copyOf(TINY_TOKEN_WEIGHTS, "private.safetensors");
  vitrt_options options{};
  options.private_weights = 1;
  Opened m;
  ASSERT_EQ(vitrt_open(tiny_token_model_model(), path.c_str(), &options,
                       &m.model),
            VITRT_OK)
      << vitrt_last_error();
  ASSERT_EQ(vitrt_context_create(m.model, &m.context), VITRT_OK);
  ASSERT_EQ(truncate(path.c_str(), 0), 0);
  std::vector<float> out = run(m.context, input, 10);
  EXPECT_LT(maxDiff(out, expected.data), 1e-4);
}

TEST(Runtime, RefusesTruncatedEmptyMissingAndForeignFiles) {
  std::ifstream in(TINY_TOKEN_WEIGHTS, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  std::string dir = ::testing::TempDir();
  auto write = [&](const std::string &name, const std::string &contents) {
    std::ofstream(dir + name, std::ios::binary) << contents;
    return dir + name;
  };
  vitrt_model *model = nullptr;
  const vitrt_model_desc *desc = tiny_token_model_model();
  EXPECT_EQ(
      vitrt_open(
          desc,
          write("cut.safetensors", bytes.substr(0, bytes.size() - 4)).c_str(),
          nullptr, &model),
      VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("it is truncated or damaged"));
  EXPECT_EQ(vitrt_open(desc,
                       write("head.safetensors", bytes.substr(0, 100)).c_str(),
                       nullptr, &model),
            VITRT_WEIGHTS_MISMATCH);
  EXPECT_EQ(
      vitrt_open(desc, write("empty.safetensors", "").c_str(), nullptr, &model),
      VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("the file is empty"));
  EXPECT_EQ(
      vitrt_open(desc, write("tiny.txt", "hello").c_str(), nullptr, &model),
      VITRT_WEIGHTS_MISMATCH);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("too short for a safetensors file"));
  EXPECT_EQ(
      vitrt_open(desc, (dir + "missing.safetensors").c_str(), nullptr, &model),
      VITRT_IO_ERROR);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("cannot open: No such file or directory"));
  EXPECT_EQ(vitrt_open(desc, dir.c_str(), nullptr, &model), VITRT_IO_ERROR);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("not a regular file"));
  EXPECT_EQ(model, nullptr);
}

TEST(Runtime, RejectsNullPointersAndWrongSizes) {
  vitrt_model *model = nullptr;
  EXPECT_EQ(vitrt_open(nullptr, TINY_TOKEN_WEIGHTS, nullptr, &model),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_open(tiny_token_model_model(), nullptr, nullptr, &model),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, nullptr,
                       nullptr),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_context_create(nullptr, nullptr), VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_get_info(nullptr, nullptr), VITRT_INVALID_ARGUMENT);
  vitrt_close(nullptr);
  vitrt_context_destroy(nullptr);

  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, m));
  std::vector<float> images(2 * 3 * 32 * 32), out(20);
  EXPECT_EQ(vitrt_run(nullptr, images.data(), images.size(), 2, out.data(),
                      out.size()),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(
      vitrt_run(m.context, nullptr, images.size(), 2, out.data(), out.size()),
      VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(), HasSubstr("images is NULL"));
  EXPECT_EQ(vitrt_run(m.context, images.data(), images.size() - 1, 2,
                      out.data(), out.size()),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("2 images of 3x32x32 need 6144 floats, got 6143"));
  EXPECT_EQ(
      vitrt_run(m.context, images.data(), images.size(), 2, out.data(), 19),
      VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("2 outputs of 10 need 20 floats, got room for 19"));
  EXPECT_EQ(vitrt_run(m.context, images.data(), 0, 0, out.data(), out.size()),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("batch must be between 1 and 2^24, got 0"));
  // An empty batch arrives with empty arrays: the batch is what is wrong.
  EXPECT_EQ(vitrt_run(m.context, nullptr, 0, 0, nullptr, 0),
            VITRT_INVALID_ARGUMENT);
  EXPECT_THAT(vitrt_last_error(),
              HasSubstr("batch must be between 1 and 2^24, got 0"));
}

TEST(Runtime, ThreadsShareAModelWithSeparateContextsAndModelsRunTogether) {
  Opened token, gap;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, token));
  ASSERT_NO_FATAL_FAILURE(open(tiny_gap_model_model(), TINY_GAP_WEIGHTS, gap));
  vitc::Tensor tokenInput = load(reference("tiny_token_erf/input.npy"));
  vitc::Tensor tokenExpected = load(reference("tiny_token_erf/logits.npy"));
  vitc::Tensor gapInput = load(reference("tiny_gap/input.npy"));
  vitc::Tensor gapExpected = load(reference("tiny_gap/logits.npy"));
  std::vector<float> worst(3, 0.0f);
  auto loop = [&](vitrt_context *context, const vitc::Tensor &in,
                  const vitc::Tensor &expected, int slot) {
    for (int i = 0; i < 50; ++i)
      worst[slot] =
          std::max(worst[slot], maxDiff(run(context, in, 10), expected.data));
  };
  vitrt_context *second = nullptr;
  ASSERT_EQ(vitrt_context_create(token.model, &second), VITRT_OK);
  std::thread a(loop, token.context, std::cref(tokenInput),
                std::cref(tokenExpected), 0);
  std::thread b(loop, second, std::cref(tokenInput), std::cref(tokenExpected),
                1);
  std::thread c(loop, gap.context, std::cref(gapInput), std::cref(gapExpected),
                2);
  a.join(), b.join(), c.join();
  vitrt_context_destroy(second);
  for (float w : worst)
    EXPECT_LE(w, 1e-4f);
}

} // namespace

TEST(Runtime, ProfilesEveryKernelWithItsFlops) {
  Opened m;
  ASSERT_NO_FATAL_FAILURE(
      open(tiny_token_model_model(), TINY_TOKEN_WEIGHTS, m));
  vitc::Tensor input = load(reference("tiny_token_erf/input.npy"));
  int count = -1;
  // Off by default: nothing is recorded.
  run(m.context, input, 10);
  ASSERT_EQ(vitrt_context_get_profile(m.context, nullptr, 0, &count), VITRT_OK);
  EXPECT_EQ(count, 0);
  ASSERT_EQ(vitrt_context_set_profiling(m.context, 1), VITRT_OK);
  run(m.context, input, 10);
  run(m.context, input, 10);
  ASSERT_EQ(vitrt_context_get_profile(m.context, nullptr, 0, &count), VITRT_OK);
  // Fused: patch embedding, the first block's attention and MLP, the last
  // block's (pruned to the class token the head reads), head.
  ASSERT_EQ(count, 6);
  std::vector<vitrt_kernel_profile> entries(count);
  ASSERT_EQ(vitrt_context_get_profile(m.context, entries.data(), count, &count),
            VITRT_OK);
  EXPECT_STREQ(entries[1].kernel, "k1_fused_attention");
  EXPECT_STREQ(entries[3].kernel, "k3_fused_attention");
  for (const vitrt_kernel_profile &e : entries)
    EXPECT_EQ(e.calls, 2) << e.kernel; // once per run
  // The MLP of width 32, hidden 64, 17 tokens: 2 GEMMs of 17 x 32 x 64
  // multiply-adds per image, batch 2, two runs; the last block's on 1 token.
  EXPECT_DOUBLE_EQ(entries[2].flops, 2.0 * 2 * (2.0 * 17 * 32 * 64) * 2);
  EXPECT_DOUBLE_EQ(entries[4].flops, 2.0 * 2 * (2.0 * 1 * 32 * 64) * 2);
  for (const vitrt_kernel_profile &e : entries) {
    EXPECT_GT(e.seconds, 0.0) << e.kernel;
    // The fastest call is one of the calls: no longer than their mean.
    EXPECT_GT(e.best_seconds, 0.0) << e.kernel;
    EXPECT_LE(e.best_seconds * double(e.calls), e.seconds * (1 + 1e-9))
        << e.kernel;
  }
  // Re-enabling starts over; a null count is refused.
  ASSERT_EQ(vitrt_context_set_profiling(m.context, 1), VITRT_OK);
  ASSERT_EQ(vitrt_context_get_profile(m.context, nullptr, 0, &count), VITRT_OK);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(vitrt_context_get_profile(m.context, nullptr, 0, nullptr),
            VITRT_INVALID_ARGUMENT);
  EXPECT_EQ(vitrt_context_set_profiling(nullptr, 1), VITRT_INVALID_ARGUMENT);
}

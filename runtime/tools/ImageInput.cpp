//===- ImageInput.cpp - PNG/JPEG files to model input tensors -------------===//
//
// Resizing uses a separable triangle (bilinear) filter whose support widens
// with the downscale factor, as PIL's and torchvision's antialiased resize
// do, so a large photo is averaged rather than sampled.
//
//===----------------------------------------------------------------------===//

#include "ImageInput.h"
#include "support/Files.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>
#include <png.h>

using namespace vitc;
using llvm::Error;

static Error imageError(const std::string &path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

/// Why an image declaring `width` x `height` pixels is refused before it is
/// decoded (a few bytes of header can declare gigabytes of pixels), or "".
static std::string checkDimensions(uint64_t width, uint64_t height) {
  if (width * height <= kMaxImagePixels)
    return "";
  return llvm::formatv("the image declares {0}x{1} pixels, more than the {2} "
                       "vit-run decodes",
                       width, height, kMaxImagePixels)
      .str();
}

namespace {

struct Image {
  int width = 0, height = 0, channels = 0; // channels: 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;             // row-major, interleaved
};

struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegFail(j_common_ptr info) {
  auto *errors = reinterpret_cast<JpegErrors *>(info->err);
  info->err->format_message(info, errors->message);
  std::longjmp(errors->jump, 1);
}

/// libjpeg warns about damaged data (a truncated file, say) and carries on
/// with grey pixels; a classifier must not, so warnings fail too.
void jpegMessage(j_common_ptr info, int level) {
  if (level < 0)
    jpegFail(info);
}

llvm::Expected<Image> decodeJpeg(const std::string &path, FILE *file,
                                 bool gray) {
  jpeg_decompress_struct info;
  JpegErrors errors;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpegFail;
  errors.manager.emit_message = jpegMessage;
  Image image;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    return imageError(path,
                      std::string("not a readable JPEG: ") + errors.message);
  }
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  if (std::string why = checkDimensions(info.image_width, info.image_height);
      !why.empty()) {
    jpeg_destroy_decompress(&info);
    return imageError(path, why);
  }
  info.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&info);
  image.width = info.output_width;
  image.height = info.output_height;
  image.channels = info.output_components;
  image.pixels.resize(size_t(image.width) * image.height * image.channels);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = image.pixels.data() +
                   size_t(info.output_scanline) * image.width * image.channels;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return image;
}

llvm::Expected<Image> decodePng(const std::string &path, bool gray) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str()))
    return imageError(path, std::string("not a readable PNG: ") + png.message);
  if (std::string why = checkDimensions(png.width, png.height); !why.empty()) {
    png_image_free(&png);
    return imageError(path, why);
  }
  png.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image image;
  image.width = png.width;
  image.height = png.height;
  image.channels = gray ? 1 : 3;
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    std::string message = png.message;
    png_image_free(&png);
    return imageError(path, "not a readable PNG: " + message);
  }
  return image;
}

/// Taps of a triangle filter from `in` samples to `out` over the source
/// window [offset, offset + span).
std::vector<std::vector<std::pair<int, float>>>
taps(int in, int out, double offset, double span) {
  std::vector<std::vector<std::pair<int, float>>> result(out);
  double scale = span / out;
  double support = std::max(scale, 1.0);
  for (int o = 0; o < out; ++o) {
    double center = offset + (o + 0.5) * scale;
    int lo = std::max(0, int(std::floor(center - support)));
    int hi = std::min(in, int(std::ceil(center + support)));
    double total = 0;
    for (int i = lo; i < hi; ++i) {
      double w = std::max(0.0, 1.0 - std::fabs((i + 0.5 - center) / support));
      if (w > 0) {
        result[o].push_back({i, float(w)});
        total += w;
      }
    }
    for (auto &tap : result[o])
      tap.second = float(tap.second / total);
  }
  return result;
}

} // namespace

Error vitc::appendImage(const std::string &path, const Preprocessing &pre,
                        std::vector<float> &out) {
  if (Error err = checkRegularFile(path, "image"))
    return err;
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return imageError(path, "cannot open");
  unsigned char magic[4] = {0, 0, 0, 0};
  size_t got = std::fread(magic, 1, 4, file);
  std::rewind(file);
  bool gray = pre.channels == 1;
  llvm::Expected<Image> decoded =
      imageError(path, "unknown image format (expected PNG or JPEG)");
  if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
    llvm::consumeError(decoded.takeError());
    decoded = decodeJpeg(path, file, gray);
  } else if (got == 4 && magic[0] == 0x89 && magic[1] == 'P' &&
             magic[2] == 'N' && magic[3] == 'G') {
    llvm::consumeError(decoded.takeError());
    decoded = decodePng(path, gray);
  }
  std::fclose(file);
  if (!decoded)
    return decoded.takeError();
  if (pre.channels != 1 && pre.channels != 3)
    return imageError(
        path, llvm::formatv("the model takes {0} channels; images give 1 or 3",
                            pre.channels));
  const Image &image = *decoded;
  if (image.width < 1 || image.height < 1)
    return imageError(path, "the image is empty");

  // The source window: all of it, or timm's centre crop after scaling the
  // shorter side to size / cropFraction.
  double x0 = 0, y0 = 0, spanX = image.width, spanY = image.height;
  if (pre.cropFraction > 0) {
    double scale =
        std::min(double(image.width) / (pre.width / pre.cropFraction),
                 double(image.height) / (pre.height / pre.cropFraction));
    spanX = pre.width * scale;
    spanY = pre.height * scale;
    x0 = (image.width - spanX) / 2;
    y0 = (image.height - spanY) / 2;
  }
  auto columns = taps(image.width, pre.width, x0, spanX);
  auto rows = taps(image.height, pre.height, y0, spanY);
  size_t base = out.size();
  out.resize(base + size_t(pre.channels) * pre.height * pre.width);
  for (int c = 0; c < pre.channels; ++c)
    for (int y = 0; y < pre.height; ++y)
      for (int x = 0; x < pre.width; ++x) {
        double sum = 0;
        for (auto [sy, wy] : rows[y])
          for (auto [sx, wx] : columns[x])
            sum +=
                wy * wx *
                image.pixels[(size_t(sy) * image.width + sx) * image.channels +
                             c];
        out[base + (size_t(c) * pre.height + y) * pre.width + x] =
            float((sum / 255.0 - pre.mean[c]) / pre.std[c]);
      }
  return Error::success();
}

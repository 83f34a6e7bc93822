//===- Figure.cpp - small figures as PNG ----------------------------------===//

#include "support/Figure.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <png.h>
#include <string>

using namespace vitc;

Rgb vitc::viridis(float t) {
  static const Rgb anchors[] = {{68, 1, 84},    {72, 36, 117},  {59, 82, 139},
                                {44, 114, 142}, {33, 145, 140}, {39, 173, 129},
                                {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  if (std::isnan(t))
    return {0, 0, 0};
  const float at = std::clamp(t, 0.0f, 1.0f) * 8.0f;
  const int i = std::min(7, static_cast<int>(at));
  const float f = at - static_cast<float>(i);
  auto mix = [&](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a + (b - a) * f));
  };
  const Rgb &a = anchors[i], &b = anchors[i + 1];
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

Canvas::Canvas(int width, int height, Rgb background)
    : w(width), h(height), rgb(size_t(width) * height * 3) {
  fill(0, 0, width, height, background);
}

Rgb Canvas::at(int x, int y) const {
  const size_t i = (size_t(y) * w + x) * 3;
  return {rgb[i], rgb[i + 1], rgb[i + 2]};
}

void Canvas::fill(int x, int y, int width, int height, Rgb colour) {
  for (int row = std::max(0, y); row < std::min(h, y + height); ++row)
    for (int col = std::max(0, x); col < std::min(w, x + width); ++col) {
      const size_t i = (size_t(row) * w + col) * 3;
      rgb[i] = colour.r;
      rgb[i + 1] = colour.g;
      rgb[i + 2] = colour.b;
    }
}

/// 5x7 glyphs, a row per byte (bit 4 the leftmost pixel).
static const uint8_t *glyph(char c) {
  struct Glyph {
    char c;
    uint8_t rows[7];
  };
  static const Glyph font[] = {
      {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
      {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
      {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
      {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
      {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
      {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
      {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
      {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
      {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}},
      {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}},
      {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}},
      {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
      {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
      {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}},
      {'g', {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
      {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
      {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}},
      {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}},
      {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
      {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
      {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
      {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}},
      {'p', {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}},
      {'q', {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}},
      {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
      {'s', {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}},
      {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
      {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}},
      {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}},
      {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}},
      {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
      {'y', {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
      {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}},
      {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
      {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
      {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
      {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
      {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
      {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
      {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
      {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
      {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
      {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
  };
  if (c >= 'A' && c <= 'Z') // one case: the font is lower-case
    c = static_cast<char>(c - 'A' + 'a');
  for (const Glyph &g : font)
    if (g.c == c)
      return g.rows;
  return glyph('?');
}

int Canvas::textWidth(llvm::StringRef text, int scale) {
  return text.empty() ? 0 : int(text.size()) * 6 * scale - scale;
}

int Canvas::text(int x, int y, llvm::StringRef text, int scale, Rgb colour) {
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t *rows = glyph(text[i]);
    const int left = x + int(i) * 6 * scale;
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (rows[row] & (0x10 >> col))
          fill(left + col * scale, y + row * scale, scale, scale, colour);
  }
  return textWidth(text, scale);
}

llvm::Error vitc::writePng(llvm::StringRef path, const Canvas &canvas,
                           llvm::StringRef title) {
  auto fail = [&](const std::string &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write '" + path.str() + "': " + why);
  };
  // Everything with a destructor exists before setjmp: libpng reports
  // errors by longjmp, which skips destructors.
  std::string key = "Title", value = title.str(), file_name = path.str();
  FILE *file = std::fopen(file_name.c_str(), "wb");
  if (!file)
    return fail(std::strerror(errno));
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    std::remove(file_name.c_str());
    return fail("out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    std::remove(file_name.c_str()); // no partial file left behind
    return fail("libpng failed (disk full?)");
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, canvas.width(), canvas.height(), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_text text{};
  text.compression = PNG_TEXT_COMPRESSION_NONE;
  text.key = key.data();
  text.text = value.data();
  png_set_text(png, info, &text, 1);
  png_write_info(png, info);
  const uint8_t *pixels = canvas.pixels().data();
  for (int row = 0; row < canvas.height(); ++row)
    png_write_row(png, const_cast<png_bytep>(pixels + size_t(row) * canvas.width() * 3));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(file) != 0) {
    std::string why = std::strerror(errno);
    std::remove(file_name.c_str());
    return fail(why);
  }
  return llvm::Error::success();
}

Canvas vitc::drawBarChart(const BarChart &chart) {
  const int bar = 18, gap = 24, left = 70, top = 72, plotHeight = 300;
  const int groupWidth = std::max<int>(
      int(chart.series.size()) * bar, 6 * 18); // room for a 18-letter name
  const int width = left + int(chart.groups.size()) * (groupWidth + gap) + gap;
  const int height = top + plotHeight + 40;
  const Rgb black{0, 0, 0}, grey{190, 190, 190}, white{255, 255, 255};
  const int titleWidth = std::max(Canvas::textWidth(chart.title, 2),
                                  Canvas::textWidth(chart.subtitle, 1));
  Canvas canvas(std::max({width, 480, left + titleWidth + gap}), height, white);
  canvas.text(left, 8, chart.title, 2, black);
  canvas.text(left, 28, chart.subtitle, 1, black);
  double highest = chart.reference;
  for (const auto &row : chart.values)
    for (double v : row)
      if (std::isfinite(v))
        highest = std::max(highest, v);
  if (highest <= 0)
    highest = 1;
  // A round axis top: 1, 2 or 5 times a power of ten, over the highest.
  double step = std::pow(10.0, std::floor(std::log10(highest / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (highest / (m * step) <= 5) {
      step *= m;
      break;
    }
  const double axisTop = step * std::ceil(highest / step);
  auto yOf = [&](double v) {
    return top + plotHeight - int(std::lround(v / axisTop * plotHeight));
  };
  const int plotRight = canvas.width() - gap / 2;
  for (double v = 0; v <= axisTop + step / 2; v += step) {
    canvas.fill(left, yOf(v), plotRight - left, 1, grey);
    char label[32];
    std::snprintf(label, sizeof label, "%g", v);
    canvas.text(left - 6 - Canvas::textWidth(label, 1), yOf(v) - 3, label, 1,
                black);
  }
  canvas.text(4, top - 14, chart.unit, 1, black);
  // The legend: a swatch and name per series.
  auto colour = [&](size_t s) {
    return viridis(chart.series.size() > 1
                       ? float(s) / float(chart.series.size() - 1) * 0.9f
                       : 0.5f);
  };
  int legendX = left;
  for (size_t s = 0; s < chart.series.size(); ++s) {
    canvas.fill(legendX, 44, 10, 10, colour(s));
    legendX += 14 + canvas.text(legendX + 14, 46, chart.series[s], 1, black) + 12;
  }
  for (size_t g = 0; g < chart.groups.size(); ++g) {
    const int x0 = left + gap + int(g) * (groupWidth + gap);
    for (size_t s = 0; s < chart.series.size(); ++s) {
      const int x = x0 + int(s) * bar;
      const double v = g < chart.values.size() && s < chart.values[g].size()
                           ? chart.values[g][s]
                           : NAN;
      if (!std::isfinite(v)) {
        canvas.text(x + bar / 2 - 2, top + plotHeight - 10, "x", 1, black);
        continue;
      }
      canvas.fill(x + 1, yOf(v), bar - 2, top + plotHeight - yOf(v), colour(s));
    }
    canvas.text(x0, top + plotHeight + 8, chart.groups[g], 1, black);
  }
  if (chart.reference > 0) {
    const int y = yOf(chart.reference);
    for (int x = left; x < plotRight; x += 8)
      canvas.fill(x, y, 4, 2, Rgb{200, 30, 30});
    canvas.text(plotRight - Canvas::textWidth(chart.referenceLabel, 1), y - 10,
                chart.referenceLabel, 1, Rgb{200, 30, 30});
  }
  canvas.fill(left, top, 1, plotHeight, black);
  canvas.fill(left, top + plotHeight, plotRight - left, 1, black);
  return canvas;
}

//===- Figure.h - small figures as PNG: heat maps, a colour bar, labels ---===//
//
// What vitc and vit-run draw (the position-embedding similarity grid): an RGB
// canvas, the viridis colour map, text in a built-in 5x7 pixel font (no font
// files), and a PNG writer (libpng).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_FIGURE_H
#define VITC_SUPPORT_FIGURE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb &o) const { return r == o.r && g == o.g && b == o.b; }
};

/// The viridis colour map (perceptually uniform; van der Walt and Smith, CC0)
/// at t in [0, 1] (clamped; NaN is black): 9 anchors, linearly interpolated.
Rgb viridis(float t);

class Canvas {
public:
  Canvas(int width, int height, Rgb background);
  int width() const { return w; }
  int height() const { return h; }
  Rgb at(int x, int y) const;
  void fill(int x, int y, int width, int height, Rgb colour); // clipped
  /// `text` in the 5x7 font, each font pixel `scale` x `scale`, its top-left
  /// corner at (x, y); characters the font lacks draw as '?'. Returns the
  /// width drawn.
  int text(int x, int y, llvm::StringRef text, int scale, Rgb colour);
  static int textWidth(llvm::StringRef text, int scale);
  const std::vector<uint8_t> &pixels() const { return rgb; } // row-major RGB

private:
  int w, h;
  std::vector<uint8_t> rgb;
};

/// A grouped bar chart: per group (e.g. a kernel) one bar per series (e.g.
/// a schedule), heights in `values[group][series]` (NaN: no bar, marked x),
/// and an optional dashed reference line (e.g. the machine's peak).
struct BarChart {
  std::string title, subtitle, unit; // unit: the y axis, e.g. "GFLOP/s"
  std::vector<std::string> groups, series;
  std::vector<std::vector<double>> values;
  double reference = 0; // 0: none
  std::string referenceLabel;
};

/// Draws `chart`: bars coloured by series (viridis), a legend, the y axis
/// with ticks, group names under their bars.
Canvas drawBarChart(const BarChart &chart);

/// Writes the canvas as an 8-bit RGB PNG, with `title` as its Title text.
llvm::Error writePng(llvm::StringRef path, const Canvas &canvas,
                     llvm::StringRef title);

} // namespace vitc

#endif // VITC_SUPPORT_FIGURE_H

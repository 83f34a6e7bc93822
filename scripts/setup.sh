#!/usr/bin/env bash
# Installs everything vitc needs to build and test, and nothing that is already there.
# Safe to run any number of times; both README commands call it first.
set -euo pipefail

apt_packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools # IR, passes, tablegen, lit, FileCheck
  libfmt-dev ninja-build ccache                          # formatting, build
  libgtest-dev                                           # unit tests
  libzip-dev zlib1g-dev                                  # .npz checkpoints, gzip
  clang                                                  # cross-compiling model libraries
  libpng-dev libjpeg62-turbo-dev                         # images for vit-run
  dataset-fashion-mnist                                  # the main job's test images
  pocl-opencl-icd ocl-icd-opencl-dev                     # OpenCL on the CPU
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import importlib.metadata as m, sys; sys.exit(0 if m.version("halide").startswith("21.") else 1)' 2>/dev/null; then
  echo "setup: installing halide==21.0.0 from PyPI"
  "$PYTHON" -m pip install -q 'halide==21.0.0'
fi
# Halide's CMake package wants CMake >= 3.28; Debian 12 ships 3.25, so take the PyPI wheel.
if ! "$PYTHON" -c 'import cmake, sys; v = tuple(int(x) for x in cmake.__version__.split(".")[:2]); sys.exit(0 if v >= (3, 28) else 1)' 2>/dev/null; then
  echo "setup: installing cmake>=3.28 from PyPI"
  "$PYTHON" -m pip install -q 'cmake>=3.28'
fi

# The Python package (python/) is built by pip with scikit-build-core and nanobind, and tested
# with pytest (ctest python-package); installed here so that builds need no network.
for wheel in numpy nanobind scikit-build-core pytest; do
  module=${wheel//-/_}
  if ! "$PYTHON" -c "import $module" 2>/dev/null; then
    echo "setup: installing $wheel from PyPI"
    "$PYTHON" -m pip install -q "$wheel"
  fi
done

#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, moved elsewhere afterwards (the installed tree must
# be relocatable); then, against the moved tree only:
#  1. examples/installed, a project of its own: find_package(vitc) + vit_add_model(), built and run;
#  2. examples/c/classify.c built with a plain C compiler and pkg-config, with a model compiled
#     by the installed vitc, run on the reference inputs;
#  3. nothing that only tests need is installed.
# Usage: check.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
case=$source/test/data/reference/tiny_token_erf
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/staged" > "$work/install.log"
mv "$work/staged" "$work/moved"
prefix=$work/moved

for file in bin/vitc bin/vit-opt bin/vit-run lib/libvitrt.a lib/libvitrt.so lib/libHalide.so \
            include/vitrt.h include/vitrt.hpp include/vitrt_model.h \
            lib/cmake/vitc/vitcConfig.cmake lib/cmake/vitc/VitcModel.cmake \
            lib/pkgconfig/vitrt.pc share/doc/vitc/README.md; do
  [[ -e $prefix/$file ]] || { echo "check.sh: $file is not installed" >&2; exit 1; }
done
if find "$prefix" | grep -E "gtest|gmock|unit-tests|fuzz|compare-outputs|fma-peak" >&2; then
  echo "check.sh: test-only files are installed (above)" >&2; exit 1
fi

# 1. find_package(vitc) + vit_add_model().
cmake -S "$source/examples/installed" -B "$work/project" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DMODEL_CONFIG="$case/config.json" -DMODEL_WEIGHTS="$case/model.safetensors" > "$work/configure.log"
cmake --build "$work/project" > "$work/build.log"
"$work/project/classify" "$work/project/tiny.vitc/tiny.safetensors"

# 2. pkg-config and a C compiler only.
mkdir -p "$work/c"
"$prefix/bin/vitc" --config "$case/config.json" --weights "$case/model.safetensors" \
  --name tiny_vit --emit=lib -o "$work/c/libtiny_vit.a"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # pkg-config prints several flags
cc "$source/examples/c/classify.c" -I"$work/c" "$work/c/libtiny_vit.a" \
  $(pkg-config --cflags --libs vitrt) -Wl,-rpath,"$prefix/lib" -o "$work/c/classify"
"$work/c/classify" "$work/c/tiny_vit.safetensors" "$case/input.npy"

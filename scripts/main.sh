#!/usr/bin/env bash
# README main-job command: set up, build, then run the compiler on its embedded
# default. The Halide backend has not landed yet, so the main job is the front
# end: describe ViT-B/16, emit its IR, and load a real checkpoint in each of
# the three key layouts (timm, Hugging Face, official .npz) that ships with
# the tests, writing vitc's weights file.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
vitc="$VITC_BUILD/compiler/tools/vitc/vitc"
out="$VITC_BUILD/main"
ref="$VITC_ROOT/test/data/reference"
mkdir -p "$out"

echo "== ViT-B/16 at 224: sizes and parameter count (official: 86,567,656)"
"$vitc" --model vit-b16 --print-params

echo
echo "== ViT-B/16 at 384 as vit dialect IR: $out/vit-b16-384.mlir"
"$vitc" --model vit-b16 --image-size 384 --emit=mlir -o "$out/vit-b16-384.mlir"
grep -m1 "func.func @forward" "$out/vit-b16-384.mlir"
for op in patch_projection split_qkv softmax gelu layer_norm linear; do
  printf '  %-22s %3d ops\n' "vit.$op" "$(grep -c "= vit.$op " "$out/vit-b16-384.mlir")"
done

echo
echo "== one model, three checkpoint layouts, one weights file"
for case in "tiny_token_erf model.safetensors" "tiny_hf model.safetensors" \
            "tiny_official_npz model.npz"; do
  set -- $case
  "$vitc" --config "$ref/$1/config.json" --name tiny --weights "$ref/$1/$2" \
    --save-weights "$out/$1.safetensors"
  printf '  %-34s -> %s (%s bytes, sha256 %s)\n' "$1/$2" "$1.safetensors" \
    "$(stat -c %s "$out/$1.safetensors")" "$(sha256sum "$out/$1.safetensors" | cut -c1-16)"
done
echo "  (identical hashes: the three layouts bind to the same tensors)"

echo
echo "== a checkpoint trained at 32x32 compiled for 48x48 (position embedding resized)"
"$vitc" --config "$ref/tiny_posembed_resize_bicubic/config.json" \
  --weights "$ref/tiny_posembed_resize_bicubic/model.safetensors" --print-params

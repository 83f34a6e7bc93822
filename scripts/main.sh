#!/usr/bin/env bash
# README main-job command: set up, build, then run vitc on its embedded default.
#  1. A ViT trained on Fashion-MNIST (examples/fashion_mnist: weights trained once by train.py
#     with PyTorch, committed) is compiled by the build through vit_add_model() and classifies
#     the 10,000 test images of the Debian package dataset-fashion-mnist, in f32, in int8
#     (--precision int8) and, where the host has a bf16 dot product, in bf16; each one's
#     accuracy is printed next to the accuracy PyTorch measured with the same weights, with
#     its speed; and draws that model's position-embedding similarity (the ViT paper's
#     Figure 7, centre) and, for four test images, where it looks (attention rollout and the
#     last layer's class-token attention, from a library compiled with --attention-maps).
#  2. ViT-B/16 (seeded random weights) goes through the whole compiler into a shared library,
#     which vit-run loads to classify an image and to time a batch.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
out="$VITC_BUILD/main"
mkdir -p "$out"
fashion="$VITC_ROOT/examples/fashion_mnist"

echo
echo "== Fashion-MNIST: a ViT compiled by vitc vs PyTorch, same weights"
"$VITC_BUILD/examples/fashion-mnist" "$VITC_BUILD/examples/fashion_vit.vitc/fashion_vit.safetensors" \
  "$VITC_BUILD/examples/fashion_vit_int8.vitc/fashion_vit_int8.safetensors" \
  /usr/share/datasets/fashion-mnist "$fashion/reference.json" "$fashion/labels.txt" \
  "$VITC_BUILD/examples/fashion_vit_bf16.vitc/fashion_vit_bf16.safetensors" # unused without bf16

echo
echo "== What the Fashion-MNIST model learned: its position embeddings, compared patch by patch"
"$VITC_BUILD/compiler/tools/vitc/vitc" --config "$fashion/config.json" \
  --weights "$fashion/model.safetensors" --name fashion-mnist-vit \
  --emit=pos-embed-similarity -o "$out/fashion_pos_embed_similarity.png"
echo "  wrote $out/fashion_pos_embed_similarity.png"

echo
echo "== Where the Fashion-MNIST model looks: attention rollout and the last layer's class token"
"$VITC_BUILD/compiler/tools/vitc/vitc" --config "$fashion/config.json" \
  --weights "$fashion/model.safetensors" --name fashion-mnist-vit --attention-maps=rollout \
  --emit=lib -o "$out/libfashion_attention.so"
"$VITC_BUILD/runtime/vit-run" --library "$out/libfashion_attention.so" \
  "$fashion/first8_images.npy" --images 4 --top 1 --labels "$fashion/labels.txt" \
  --attention-image "$out/fashion_attention.png"

echo
echo "== ViT-B/16 (random weights) through the whole compiler: $out/libvit_b16.so"
start=$(date +%s%N)
"$VITC_BUILD/compiler/tools/vitc/vitc" --model vit-b16 --random-weights 0 \
  --emit=lib -o "$out/libvit_b16.so"
echo "  compiled in $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$VITC_BUILD/runtime/vit-run" --library "$out/libvit_b16.so" \
  "$VITC_ROOT/test/data/images/photo.jpg" --top 3 --repeat 3

#!/usr/bin/env python3
"""Train the small Fashion-MNIST ViT that vitc embeds as its default model.

What it does:
  * reads Fashion-MNIST from the Debian package dataset-fashion-mnist
    (/usr/share/datasets/fashion-mnist/*.gz, gzipped IDX files, parsed here
    with gzip + numpy; nothing is downloaded);
  * builds timm.models.vision_transformer.VisionTransformer(img_size=28,
    patch_size=4, in_chans=1, embed_dim=64, depth=4, num_heads=4,
    mlp_ratio=2.0, num_classes=10, class_token=True, global_pool='token',
    qkv_bias=True) with timm's defaults otherwise (exact-erf GELU,
    LayerNorm eps 1e-6);
  * preprocesses every image as x = (pixel / 255 - 0.5) / 0.5, float32,
    shape [B, 1, 28, 28] -- nothing else, so a C program can reproduce it;
  * trains deterministically on the CPU (fixed seeds, a fixed thread count)
    with AdamW (lr 1e-3, half an epoch of linear warm-up then cosine decay to
    0, weight decay 0.05 on weight matrices only), batch 128, 6 epochs, no
    augmentation by default (--flip adds random horizontal flips);
  * evaluates in eval mode on all 10,000 test images (float32, batch 500);
  * writes into the output folder (default: this script's folder):
      model.safetensors   state_dict, timm key names, float32
      config.json         architecture, in the schema vitc reads
      reference.json      test accuracy, versions, epochs, seed, timing
      labels.txt          the 10 class names in label order
      first8_images.npy   float32 [8, 1, 28, 28], preprocessed test images 0..7
      first8_logits.npy   float32 [8, 10], the model's logits for them

It is run by hand, once, to produce the committed default model; it is not
part of the build or of CI. The exact command, from the repository root:

    python3 examples/fashion_mnist/train.py

(options: --epochs N, --seed S, --threads T, --flip, --out DIR, --data DIR;
see --help). It needs torch, timm, numpy and safetensors, and takes about
11 minutes on a 2-core CPU. It uses one thread by default: on a shared 2-core
machine two OpenMP threads were 2-5x slower per step than one whenever another
process held a core, and only ~25% faster when the machine was idle.
"""

import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
import timm
from timm.models.vision_transformer import VisionTransformer
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = "/usr/share/datasets/fashion-mnist"

LABELS = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

CONFIG = {
    "format": "timm",
    "img_size": 28,
    "patch_size": 4,
    "in_chans": 1,
    "embed_dim": 64,
    "depth": 4,
    "num_heads": 4,
    "mlp_ratio": 2.0,
    "num_classes": 10,
    "class_token": True,
    "global_pool": "token",
    "fc_norm": None,
    "qkv_bias": True,
    "act_layer": "gelu",
    "norm_eps": 1e-06,
}

PREPROCESSING = "(pixel/255 - 0.5)/0.5"


def read_idx(path):
    """Parse a gzipped IDX file (big-endian header, unsigned-byte data)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size mismatch")
    return arr.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    assert images.shape[1:] == (28, 28) and images.shape[0] == labels.shape[0]
    return images, labels.astype(np.int64)


def preprocess(images_u8):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28], x = (p/255 - 0.5)/0.5."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)


def build_model():
    return VisionTransformer(
        img_size=28, patch_size=4, in_chans=1, embed_dim=64, depth=4,
        num_heads=4, mlp_ratio=2.0, num_classes=10, class_token=True,
        global_pool="token", qkv_bias=True,
    )


@torch.no_grad()
def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        logits = model(x[i:i + batch])
        correct += int((logits.argmax(dim=1) == y[i:i + batch]).sum())
    return correct


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--flip", action="store_true",
                    help="random horizontal flip augmentation")
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop each epoch after this many steps (timing only; "
                         "writes nothing)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    train_u8, train_y = load_split(args.data, "train")
    test_u8, test_y = load_split(args.data, "t10k")
    x_train = torch.from_numpy(preprocess(train_u8))
    y_train = torch.from_numpy(train_y)
    x_test = torch.from_numpy(preprocess(test_u8))
    y_test = torch.from_numpy(test_y)
    print(f"train {tuple(x_train.shape)}  test {tuple(x_test.shape)}")

    model = build_model().float()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")

    # No weight decay on biases, norms, cls token and position embedding.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name in ("cls_token", "pos_embed") else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.999))

    n_train = x_train.shape[0]
    steps_per_epoch = math.ceil(n_train / args.batch)
    if args.max_steps:
        steps_per_epoch = min(steps_per_epoch, args.max_steps)
    total_steps = args.epochs * steps_per_epoch
    warmup_steps = int(args.warmup_epochs * steps_per_epoch)

    def lr_at(step):
        if step < warmup_steps:
            return args.lr * (step + 1) / warmup_steps
        t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return args.lr * 0.5 * (1.0 + math.cos(math.pi * t))

    gen = torch.Generator().manual_seed(args.seed)
    step = 0
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        te = time.time()
        perm = torch.randperm(n_train, generator=gen)
        loss_sum, seen, correct = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb, yb = x_train[idx], y_train[idx]
            if args.flip:
                flip = torch.rand(xb.shape[0], generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * xb.shape[0]
            seen += xb.shape[0]
            correct += int((logits.argmax(1) == yb).sum())
        train_time = time.time() - te
        test_correct = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1:2d}/{args.epochs}  loss {loss_sum / seen:.4f}  "
              f"train acc {correct / seen:.4f}  test acc {test_correct / 10000:.4f}  "
              f"lr {lr_at(step - 1):.2e}  {train_time:.1f}s (+eval "
              f"{time.time() - te - train_time:.1f}s)", flush=True)
    train_seconds = time.time() - t0

    if args.max_steps:
        print(f"timing run: {train_seconds:.1f}s for {step} steps; nothing written")
        return

    model.eval()
    correct = evaluate(model, x_test, y_test, batch=500)
    acc = correct / x_test.shape[0]
    with torch.no_grad():
        first8_images = x_test[:8].clone()
        first8_logits = model(first8_images)
    print(f"final test accuracy {acc:.4f} ({correct}/{x_test.shape[0]}), "
          f"training {train_seconds:.1f}s")

    os.makedirs(args.out, exist_ok=True)
    state = {k: v.detach().to(torch.float32).contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, os.path.join(args.out, "model.safetensors"))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    reference = {
        "test_accuracy": round(acc, 4),
        "correct": correct,
        "test_images": int(x_test.shape[0]),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1),
        "preprocessing": PREPROCESSING,
    }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    np.save(os.path.join(args.out, "first8_images.npy"),
            first8_images.numpy().astype(np.float32))
    np.save(os.path.join(args.out, "first8_logits.npy"),
            first8_logits.numpy().astype(np.float32))
    for name in ("model.safetensors", "config.json", "reference.json",
                 "labels.txt", "first8_images.npy", "first8_logits.npy"):
        path = os.path.join(args.out, name)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()

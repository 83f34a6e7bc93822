"""One attention-maps case: compile with --attention-maps, run at batch 2 and
1, compare logits, maps and rollout with the reference (1e-5).

Usage: attention-maps-case.py REFERENCE_DIR CASE OUT_DIR VITC VIT_RUN COMPARE_OUTPUTS
"""
import os
import subprocess
import sys

reference, case, out, vitc, vit_run, compare_outputs = sys.argv[1:7]
ref = os.path.join(reference, case)
lib = os.path.join(out, f"lib{case}.so")


def run(*args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


run(vitc, "--config", f"{ref}/config.json", "--weights", f"{ref}/model.safetensors",
    "--attention-maps=rollout", "--emit=lib", "-o", lib)
for images, suffix in ((0, ""), (1, "_b1")):
    stem = os.path.join(out, case + suffix)
    run(vit_run, "--library", lib, f"{ref}/input.npy", "--images", str(images), "--top", "0",
        "-o", f"{stem}.logits.npy", "--attention-maps", f"{stem}.maps.npy", "--rollout",
        f"{stem}.rollout.npy", "--attention-image", f"{stem}.png")
    for mine, theirs, tolerance in (("logits", "logits", "1e-4"),
                                    ("maps", "attention_maps", "1e-5"),
                                    ("rollout", "rollout", "1e-5")):
        result = run(compare_outputs, f"{stem}.{mine}.npy", f"{ref}/{theirs}{suffix}.npy",
                     tolerance)
        print(f"{case}{suffix} {mine}: {result.strip()}")
        if not result.startswith("PASS"):
            sys.exit(1)

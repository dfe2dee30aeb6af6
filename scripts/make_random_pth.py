#!/usr/bin/env python3
"""Write a random RWKV-4 checkpoint of a released shape as a BlinkDL `.pth` (torch zip, bf16 by default),
the way the released checkpoints are stored: for timing start-up and conversion of realistic file sizes
(`engine/examples/quant_bench.rs`, BENCHMARKS.md). The values are random (not a usable model).

Run by hand (needs torch; never used by CI):
    python scripts/make_random_pth.py --shape 3b --out /tmp/rwkv-3b-bf16.pth
"""
import argparse

import torch

SHAPES = {  # layers, width, vocabulary (engine/RWKV4.md §1)
    "169m": (12, 768, 50277),
    "430m": (24, 1024, 50277),
    "1b5": (24, 2048, 50277),
    "3b": (32, 2560, 50277),
    "7b": (32, 4096, 50277),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["bf16", "f16", "f32"], default="bf16")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    layers, c, v = SHAPES[a.shape]
    f = 4 * c
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[a.dtype]
    g = torch.Generator().manual_seed(a.seed)

    def rand(*shape, scale=1.0, offset=0.0):
        return (torch.rand(*shape, generator=g) * 2 - 1).mul_(scale).add_(offset).to(dtype)

    sd = {"emb.weight": rand(v, c, scale=1e-4)}
    for i in range(layers):
        p = f"blocks.{i}."
        if i == 0:
            sd[p + "ln0.weight"], sd[p + "ln0.bias"] = rand(c, scale=0.1, offset=1.0), rand(c, scale=0.1)
        for ln in ("ln1", "ln2"):
            sd[p + ln + ".weight"], sd[p + ln + ".bias"] = rand(c, scale=0.1, offset=1.0), rand(c, scale=0.1)
        sd[p + "att.time_decay"] = rand(c, scale=4.0, offset=-1.0)
        sd[p + "att.time_first"] = rand(c, scale=0.5, offset=-1.2)
        for m in ("att.time_mix_k", "att.time_mix_v", "att.time_mix_r", "ffn.time_mix_k", "ffn.time_mix_r"):
            sd[p + m] = rand(1, 1, c, scale=0.5, offset=0.5)
        for m in ("att.key", "att.value", "att.receptance", "att.output", "ffn.receptance"):
            sd[p + m + ".weight"] = rand(c, c, scale=(3 / c) ** 0.5)
        sd[p + "ffn.key.weight"] = rand(f, c, scale=(3 / c) ** 0.5)
        sd[p + "ffn.value.weight"] = rand(c, f, scale=(3 / f) ** 0.5)
    sd["ln_out.weight"], sd["ln_out.bias"] = rand(c, scale=0.1, offset=1.0), rand(c, scale=0.1)
    sd["head.weight"] = rand(v, c, scale=(3 / c) ** 0.5)
    torch.save(sd, a.out)
    n = sum(t.numel() for t in sd.values())
    print(f"wrote {a.out}: {a.shape} ({layers}x{c}, vocab {v}), {n / 1e9:.2f}B parameters, {a.dtype}")


if __name__ == "__main__":
    main()

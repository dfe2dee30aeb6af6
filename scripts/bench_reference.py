#!/usr/bin/env python3
"""Compare rwkv-reader's engine with the reference (PyPI `rwkv` 0.8.32, strategy 'cpu fp32') on the SAME
weights, the same thread count and the same workload, in one run, and print the ratios.

Run by hand (needs torch + rwkv==0.8.32 + safetensors + numpy; never used by CI):
    cargo build --release -p rwkv-reader
    python scripts/make_reference_fixtures.py --shape 169m --out /tmp/rwkv-169m --no-bf16 --no-hf
    python scripts/bench_reference.py --weights /tmp/rwkv-169m/169m-fp32 --threads 2

--weights is the path prefix the fixture script wrote: PREFIX.pth (for the reference) and
PREFIX.safetensors (for rwkv-reader). Both benchmarks read --tokens random tokens in chunks of --chunk,
then generate --gen tokens one at a time, and report tokens per second.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["RWKV_JIT_ON"] = "1"
os.environ["RWKV_CUDA_ON"] = "0"
os.environ["CUDA_VISIBLE_DEVICES"] = ""

REPO = Path(__file__).resolve().parents[1]


def bench_reference(pth, threads, tokens, chunk, gen, seed):
    import numpy as np
    import torch
    from rwkv.model import RWKV

    torch.set_num_threads(threads)
    # The package prints its loading report on stdout; keep stdout for the JSON result.
    with contextlib.redirect_stdout(sys.stderr):
        model = RWKV(model=str(pth), strategy="cpu fp32")
    vocab = model.w["emb.weight"].shape[0]
    rng = np.random.default_rng(seed)
    toks = rng.integers(0, vocab, size=tokens).tolist()
    model.forward(toks[:8], None)  # warm-up, as the Rust bench does
    state = None
    start = time.perf_counter()
    for i in range(0, len(toks), chunk):
        out, state = model.forward(toks[i:i + chunk], state)
    read_s = time.perf_counter() - start
    token = int(torch.argmax(out))
    start = time.perf_counter()
    for _ in range(gen):
        out, state = model.forward([token], state)
        token = int(torch.argmax(out))
    gen_s = time.perf_counter() - start
    return {"read_tokens_per_s": tokens / read_s, "gen_tokens_per_s": gen / gen_s}


def bench_engine(binary, safetensors, threads, tokens, chunk, gen, seed):
    cmd = [str(binary), "bench", "--bench-model", str(safetensors), "--threads", str(threads),
           "--tokens", str(tokens), "--chunk", str(chunk), "--gen", str(gen), "--seed", str(seed), "--json"]
    env = dict(os.environ, RUST_BACKTRACE="0")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, required=True, help="path prefix of PREFIX.pth and PREFIX.safetensors")
    ap.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "rwkv-reader")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--gen", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    pth = args.weights.with_suffix(".pth")
    st = args.weights.with_suffix(".safetensors")
    for f in (pth, st, args.binary):
        if not f.exists():
            sys.exit(f"missing {f}")
    ours = bench_engine(args.binary, st, args.threads, args.tokens, args.chunk, args.gen, args.seed)
    ref = bench_reference(pth, args.threads, args.tokens, args.chunk, args.gen, args.seed)
    result = {
        "threads": args.threads, "tokens": args.tokens, "chunk": args.chunk, "gen": args.gen,
        "rwkv_reader": {k: ours[k] for k in ("read_tokens_per_s", "gen_tokens_per_s", "peak_rss_bytes",
                                             "gen_gb_per_s", "stream_gb_per_s")},
        "reference_cpu_fp32": ref,
        "ratio_read": ours["read_tokens_per_s"] / ref["read_tokens_per_s"],
        "ratio_gen": ours["gen_tokens_per_s"] / ref["gen_tokens_per_s"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

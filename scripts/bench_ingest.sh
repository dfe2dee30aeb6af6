#!/usr/bin/env bash
# Reading cost is linear and memory flat: ingest synthetic documents of ~10K, ~100K and ~1M tokens with the
# bundled demo model and report tokens/s and peak RSS for each (BENCHMARKS.md, "Ingestion").
#
#   cargo build --release -p rwkv-reader
#   scripts/bench_ingest.sh [SIZES...]        # default: 10000 100000 1000000 (approximate tokens)
#
# Each size gets a fresh library in a temp folder. The text is the bundled novel repeated (so the demo
# model's tokenizer sees ordinary prose, ~1.3 tokens per word); page breaks every ~500 words.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/rwkv-reader}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p rwkv-reader" >&2; exit 1; }
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SOURCE=sample-docs/the-keeper-of-tallow-point.txt

for tokens in "${SIZES[@]}"; do
    words=$((tokens * 10 / 13))
    doc="$WORK/doc-$tokens.txt"
    # Repeat the novel until the word budget is met; a form feed every 500 words makes pages.
    : > "$doc"
    while [ "$(wc -w < "$doc")" -lt "$words" ]; do cat "$SOURCE" >> "$doc"; done
    awk -v max="$words" '{ for (i = 1; i <= NF; i++) { if (n >= max) exit; printf "%s%s", $i, (++n % 500 == 0 ? "\n\f\n" : " ") } if (n % 500 != 0) printf "\n" }' "$doc" > "$doc.cut"
    mv "$doc.cut" "$doc"
    lib="$WORK/lib-$tokens"
    /usr/bin/time -v "$BIN" --library "$lib" ingest "$doc" --json > "$WORK/out.json" 2> "$WORK/time.txt"
    rss_kib=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time.txt")
    wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$WORK/time.txt")
    read_tokens=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=d["files"][0] if "files" in d else d[0]; print(f.get("tokens", 0))' "$WORK/out.json")
    secs=$(python3 -c 'import sys; p=sys.argv[1].split(":"); print(sum(float(x) * 60 ** i for i, x in enumerate(reversed(p))))' "$wall")
    python3 -c 'import sys; t,s,r=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f"tokens {t:>9}  wall {s:7.1f} s  {t/s:8.0f} tokens/s  peak RSS {r/1024:7.1f} MiB")' "$read_tokens" "$secs" "$rss_kib"
done

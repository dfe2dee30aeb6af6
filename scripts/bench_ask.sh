#!/usr/bin/env bash
# Ask benchmark: time to the first answer token on a ~10K-token and a ~1M-token synthetic
# document, read with the bundled demo model at the default spacing (512-token chunks, a
# checkpoint every 8 chunks). Answers start from the nearest checkpoint, so the two times must
# be close (required: ratio <= 1.2; BENCHMARKS.md, "Ask"). Extra arguments go to `rwkv-reader bench --ask` (e.g.
# --json, --doc-tokens 10000,100000, --bench-model PATH).
# The first run ingests the 1M-token document (minutes); later runs reuse target/bench-ask.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0  # candle captures a backtrace per error otherwise
exec cargo run --release -q -p rwkv-reader -- bench --ask --cache-dir target/bench-ask "$@"

#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, builds with `--features cuda`, runs the
# engine's reference and precision tests on CUDA, benchmarks reading (256-token chunks) and
# generation for the 169M, 1.5B and 14B shapes in f16 and Q8_0, ingests sample-docs/ and asks one
# question on CUDA, and prints ONE JSON object on stdout (progress goes to stderr). A failed step is
# recorded in the JSON and the next one runs; the exit status is 0 when every step ran and passed.
#
#   scripts/gpu_check.sh                      # every step
#   STEPS=build scripts/gpu_check.sh          # then, on the same machine:
#   STEPS=test,bench,ingest scripts/gpu_check.sh
#
# Budget: 8 minutes (GPU_CHECK_BUDGET_S=480) for the whole run on one H100 once the build is warm.
# A cold build compiles candle's CUDA kernels with nvcc (quantized.cu alone takes minutes), so on a
# fresh machine run the build step first on its own; its time is reported either way. Steps that
# would start too late to finish inside the budget are skipped, and the JSON says so.
#
# Needs, all present beforehand (the machine has no network):
# - nvcc: a system CUDA toolkit (CUDA_ROOT or /usr/local/cuda), or the PyPI toolkit that
#   scripts/check_cuda_build.sh unpacks into $CUDA_PREFIX (default ~/.cache/rwkv-reader/cuda-pip);
# - the crates: the same ~/.cargo registry cache as the development machine (the build runs
#   `cargo --offline`; set CARGO_OFFLINE= to let cargo fetch where there is a network);
# - nvidia-smi (card name, compute capability, memory), timeout(1), coreutils.
#
# Env: STEPS (build,test,bench,ingest), GPU_CHECK_BUDGET_S (480), CARGO_TARGET_DIR (target/),
# BENCH_DIR (a temp folder; random-init .gguf files go there: up to 28 GB for 14B f16, deleted after
# each 14B run), CUDA_COMPUTE_CAP (read from nvidia-smi).
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-build,test,bench,ingest}
BUDGET_S=${GPU_CHECK_BUDGET_S:-480}
CARGO_OFFLINE=${CARGO_OFFLINE---offline}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-$CARGO_TARGET_DIR/release/rwkv-reader}
WORK=$(mktemp -d)
BENCH_DIR=${BENCH_DIR:-$WORK/bench}
trap 'kill "${SMI_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
STARTED=$SECONDS
TOTAL_STARTED=$SECONDS

say() { echo "gpu_check: $*" >&2; }
wants() { [[ ",$STEPS," == *",$1,"* ]]; }
left_s() { echo $((BUDGET_S - (SECONDS - STARTED))); }

# A JSON string: backslashes, quotes, tabs and control characters escaped, lines joined by \n.
json_str() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/[[:cntrl:]]//g' |
        awk 'BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", $0 } END { printf "\"" }'
}

# The value of a top-level number field in a JSON text (serde_json's pretty output), or null.
json_num() {
    local v
    v=$(printf '%s' "$1" | sed -n "s/^ *\"$2\": *\([-0-9.eE+]*\),\{0,1\}$/\1/p" | head -n 1)
    echo "${v:-null}"
}

# run_step NAME TIMEOUT_S CMD...: runs CMD under a timeout, output to $WORK/NAME.log; sets STATUS
# (ok, failed (exit N), timed out after N s) and STEP_S.
run_step() {
    local name=$1 limit=$2 rc=0 t0=$SECONDS
    shift 2
    say "$name (at most ${limit} s): $*"
    timeout --kill-after=10 "$limit" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
    STEP_S=$((SECONDS - t0))
    case $rc in
        0) STATUS=ok ;;
        124 | 137) STATUS="timed out after ${limit} s" ;;
        *) STATUS="failed (exit $rc)" ;;
    esac
    say "$name: $STATUS in ${STEP_S} s"
    [ "$rc" = 0 ] || FAILED=1
}

# The last lines of a step's log, as a JSON string.
log_tail() { json_str "$(tail -n "${2:-15}" "$WORK/$1.log" 2>/dev/null || true)"; }

FAILED=0
RESULTS=()   # "key": value pairs of the final object
add() { RESULTS+=("$(json_str "$1"): $2"); }

# --- The card -------------------------------------------------------------------------------------
if command -v nvidia-smi >/dev/null; then
    gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>&1 | head -n 1 || true)
    add gpu "$(json_str "$gpu")"
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .' || true)
    export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-${cap:-90}}
    # The most memory in use on GPU 0 while the check runs, sampled twice a second.
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 >"$WORK/smi.log" 2>/dev/null &
    SMI_PID=$!
else
    add gpu '"no nvidia-smi: is there a GPU?"'
    FAILED=1
fi

# --- nvcc -----------------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null; then
    for root in "${CUDA_ROOT:-}" /usr/local/cuda \
        "${CUDA_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/rwkv-reader/cuda-pip}/nvidia/cu13"; do
        if [ -n "$root" ] && [ -x "$root/bin/nvcc" ]; then
            export CUDA_ROOT=$root CUDA_HOME=$root CUDA_PATH=$root PATH=$root/bin:$PATH
            export LD_LIBRARY_PATH=$root/lib:$root/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
            break
        fi
    done
fi
add nvcc "$(json_str "$(command -v nvcc >/dev/null && nvcc --version | tail -n 1 || echo 'not found')")"

# --- 1. Build -------------------------------------------------------------------------------------
if wants build; then
    run_step build 900 cargo build $CARGO_OFFLINE --release -p rwkv-reader --features cuda
    build_status=$STATUS build_s=$STEP_S
    # The test binaries, so that the test step measures tests, not compilation.
    run_step build_tests 600 cargo test $CARGO_OFFLINE --release -p rwkv-engine --features cuda \
        --test tensor_forward --test tensor_matrices --no-run
    add build "{\"status\": $(json_str "$build_status"), \"seconds\": $build_s, \"tests_status\": $(json_str "$STATUS"), \"tests_seconds\": $STEP_S, \"log_tail\": $(log_tail build 8)}"
    STARTED=$SECONDS # the budget is for the measurements; the build's own time is reported above
fi

# --- 2. Reference and precision tests on CUDA -----------------------------------------------------
# RWKV_TEST_DEVICE=cuda: the tests fail rather than fall back to the CPU when CUDA does not open.
# f32: logits within 1e-5, states within 1e-4 of the reference (as on the CPU); f16 and Q8_0: the
# tolerances documented in engine/tests/tensor_matrices.rs.
if wants test; then
    RWKV_TEST_DEVICE=cuda run_step test 240 cargo test $CARGO_OFFLINE --release -p rwkv-engine \
        --features cuda --test tensor_forward --test tensor_matrices -- --nocapture --test-threads 1
    measured=$(grep -E 'agreement|max abs diff|GB of weights|test result' "$WORK/test.log" | head -n 40 || true)
    add tests "{\"status\": $(json_str "$STATUS"), \"seconds\": $STEP_S, \"measured\": $(json_str "$measured"), \"log_tail\": $(log_tail test 12)}"
fi

# --- 3. Ingest the sample documents and ask one question on CUDA (demo model) ---------------------
if wants ingest; then
    lib=$WORK/library
    run_step ingest 120 "$BIN" --device cuda --library "$lib" ingest sample-docs --json
    ingest_json="{\"status\": $(json_str "$STATUS"), \"seconds\": $STEP_S, \"log_tail\": $(log_tail ingest 6)}"
    run_step ask 120 "$BIN" --device cuda --library "$lib" ask "What was the liability cap in the lease?"
    add ingest "$ingest_json"
    add ask "{\"question\": \"What was the liability cap in the lease?\", \"status\": $(json_str "$STATUS"), \"seconds\": $STEP_S, \"output\": $(log_tail ask 20)}"
fi

# --- 4. Benchmarks --------------------------------------------------------------------------------
# `bench --quant f16|q8_0` writes a random-init .gguf of the shape (1.5B: 1.6 / 3.0 GB; 14B: 14.8 /
# 27.8 GB) and loads it; `--device cuda` puts it on the GPU in that same form. 1,024 tokens read in
# 256-token chunks, 64 generated one at a time.
READ_14B_F16=null GEN_14B_Q8=null
if wants bench; then
    BENCHES=()
    # 14B before 1.5B: the issue's targets are 14B figures, and the budget may not hold every run.
    # 14B f16 takes longest: a 27.8 GB file to write, widened to f32 on the host when loaded (56 GB
    # of RAM), then rounded back to f16 for the GPU.
    for shape in 169m 14b 1b5; do
        for quant in q8_0 f16; do
            name="bench_${shape}_$quant"
            limit=90 need=30
            [ "$shape" = 14b ] && limit=240 need=120
            [ "$shape-$quant" = 14b-f16 ] && limit=300 need=150
            if [ "$shape-$quant" = 14b-f16 ]; then
                mkdir -p "$BENCH_DIR"
                free_gb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print int($4 / 1e6) }')
                gpu_gb=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -n 1 | awk '{ print int($1 / 1024) }' || echo 0)
                if [ "$free_gb" -lt 32 ] || [ "${gpu_gb:-0}" -lt 34 ]; then
                    BENCHES+=("$(json_str "$shape $quant"): {\"status\": \"skipped: needs 32 GB of free disk for the 27.8 GB .gguf and 34 GB of GPU memory (have ${free_gb} GB disk, ${gpu_gb} GiB GPU)\"}")
                    continue
                fi
            fi
            if [ "$(left_s)" -lt "$need" ]; then
                BENCHES+=("$(json_str "$shape $quant"): {\"status\": \"skipped: $(left_s) s left of the ${BUDGET_S} s budget, needs about ${need} s\"}")
                continue
            fi
            [ "$(left_s)" -lt "$limit" ] && limit=$(left_s)
            mkdir -p "$BENCH_DIR"
            run_step "$name" "$limit" "$BIN" bench --device cuda --shape "$shape" --quant "$quant" \
                --tokens 1024 --chunk 256 --gen 64 --json --cache-dir "$BENCH_DIR"
            report=$(sed -n '/^{/,/^}/p' "$WORK/$name.log")
            if [ "$STATUS" = ok ] && [ -n "$report" ]; then
                BENCHES+=("$(json_str "$shape $quant"): {\"status\": \"ok\", \"seconds\": $STEP_S, \"report\": $report}")
                read_tps=$(json_num "$report" read_tokens_per_s)
                gen_tps=$(json_num "$report" gen_tokens_per_s)
                [ "$shape-$quant" = 14b-f16 ] && READ_14B_F16=$read_tps
                [ "$shape-$quant" = 14b-q8_0 ] && GEN_14B_Q8=$gen_tps
            else
                BENCHES+=("$(json_str "$shape $quant"): {\"status\": $(json_str "$STATUS"), \"seconds\": $STEP_S, \"log_tail\": $(log_tail "$name" 10)}")
            fi
            # The 14B files would fill the disk: keep none.
            [ "$shape" = 14b ] && rm -f "$BENCH_DIR"/*.gguf
        done
    done
    add benches "{$(IFS=,; echo "${BENCHES[*]}")}"
    met() { awk -v m="$1" -v t="$2" 'BEGIN { if (m == "null") print "null"; else print (m + 0 >= t) ? "true" : "false" }'; }
    add targets "{\"14b_f16_read_tokens_per_s\": {\"target\": 3000, \"measured\": $READ_14B_F16, \"met\": $(met "$READ_14B_F16" 3000)}, \"14b_q8_0_gen_tokens_per_s\": {\"target\": 30, \"measured\": $GEN_14B_Q8, \"met\": $(met "$GEN_14B_Q8" 30)}}"
fi

# --- GPU memory -----------------------------------------------------------------------------------
if [ -n "${SMI_PID:-}" ]; then
    kill "$SMI_PID" 2>/dev/null || true
    peak=$(sort -n "$WORK/smi.log" 2>/dev/null | tail -n 1 | tr -d ' ')
    total=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -n 1 | tr -d ' ' || true)
    add gpu_memory "{\"peak_used_mib\": ${peak:-null}, \"total_mib\": ${total:-null}, \"sampled\": \"nvidia-smi every 0.5 s while the check ran\"}"
fi

add seconds "{\"total\": $((SECONDS - TOTAL_STARTED)), \"after_build\": $((SECONDS - STARTED)), \"budget_after_build\": $BUDGET_S}"
add all_ok "$([ "$FAILED" = 0 ] && echo true || echo false)"
(IFS=,; echo "{${RESULTS[*]}}")
exit "$FAILED"

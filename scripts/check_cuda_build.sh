#!/usr/bin/env bash
# Proves that `rwkv-engine --features cuda` compiles on a machine with no GPU and no system CUDA:
# fetches nvcc and the CUDA libraries from PyPI (CUDA 13.2 wheels) into $CUDA_PREFIX, builds the
# library (candle-kernels runs nvcc), type-checks and lints every target, then links the test
# binaries and runs them. Without a driver, libcuda is replaced by a generated stub whose every
# function answers CUDA_ERROR_NO_DEVICE, so the CPU tests run and the GPU tests take their
# "no CUDA device" skip. On a machine with the CUDA toolkit and a GPU none of this is needed:
# `cargo test -p rwkv-engine --features cuda` runs the GPU tests for real.
#
# Uses its own target directory (CARGO_TARGET_DIR, default /work/target-cuda or target/cuda):
# the cuda build must not invalidate the normal build cache. Slow the first time: on 2 shared cores
# the build took 30 minutes (nvcc compiling candle's kernels) and clippy another 17.
#
# Env: PIP (default: pip3), CUDA_PREFIX (default: ~/.cache/rwkv-reader/cuda-pip), CUDA_COMPUTE_CAP (default 80: the
# GPU architecture nvcc targets; there is no GPU here to ask), ENGINE_ONLY=1 (skip the app's build and lint).
set -euo pipefail
cd "$(dirname "$0")/.."

PIP=${PIP:-pip3}
CUDA_PREFIX=${CUDA_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/rwkv-reader/cuda-pip}
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
    if [ -d /work ]; then CARGO_TARGET_DIR=/work/target-cuda; else CARGO_TARGET_DIR=$PWD/target/cuda; fi
fi
export CARGO_TARGET_DIR
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-80}

# 1. A CUDA toolkit from PyPI. The cu12 nvcc wheels carry only ptxas; the CUDA 13 wheels lay out a
#    complete toolkit under nvidia/cu13 (bin/nvcc, nvvm/bin/cicc, include, lib).
if [ ! -x "$CUDA_PREFIX/nvidia/cu13/bin/nvcc" ]; then
    "$PIP" install --no-deps --target "$CUDA_PREFIX" \
        "nvidia-cuda-nvcc==13.2.*" "nvidia-nvvm==13.2.*" "nvidia-cuda-crt==13.2.*" \
        "nvidia-cuda-runtime==13.2.*" "nvidia-cuda-cccl==13.2.*" "nvidia-cuda-nvrtc==13.2.*" \
        "nvidia-cublas==13.*" "nvidia-curand==10.*"
fi
export CUDA_ROOT=$CUDA_PREFIX/nvidia/cu13
export CUDA_HOME=$CUDA_ROOT CUDA_PATH=$CUDA_ROOT NVCC=$CUDA_ROOT/bin/nvcc
export PATH=$CUDA_ROOT/bin:$PATH
lib=$CUDA_ROOT/lib
# The wheels ship only versioned libraries; the linker looks for the unversioned names (cudarc adds
# $CUDA_ROOT/lib to the search path).
for name in cudart nvrtc cublas cublasLt curand; do
    real=$(ls "$lib/lib$name.so."* 2>/dev/null | grep -v alt | head -n 1 || true)
    [ -n "$real" ] && ln -sf "$(basename "$real")" "$lib/lib$name.so"
done
nvcc --version | tail -n 2

# 2. The library: candle-kernels compiles its kernels with nvcc here.
time cargo build -p rwkv-engine --features cuda
# 3. Every target, type-checked and linted (no linking needed); then the app, whose `cuda` feature
#    turns on the engine's, so that `--device cuda` reaches ingest, ask and the TUI.
cargo clippy -p rwkv-engine --all-targets --features cuda -- -D warnings
if [ "${ENGINE_ONLY:-0}" != 1 ]; then
    cargo clippy -p rwkv-reader --all-targets --features cuda -- -D warnings
fi

# 4. Link and run the tests. The driver library comes with the NVIDIA driver, not the toolkit; without
#    one, link against a stub exporting every driver function cudarc uses, each returning
#    CUDA_ERROR_NO_DEVICE (100).
if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
    stub_dir=$CARGO_TARGET_DIR/libcuda-stub
    mkdir -p "$stub_dir"
    nm "$CARGO_TARGET_DIR"/debug/deps/libcudarc-*.rlib 2>/dev/null |
        awk '$1 == "U" && $2 ~ /^cu[A-Z]/ { print $2 }' | sort -u |
        awk '{ print "int " $1 "(void) { return 100; }" }' >"$stub_dir/libcuda_stub.c"
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$lib/libcuda.so" "$stub_dir/libcuda_stub.c"
    ln -sf libcuda.so "$lib/libcuda.so.1"
    echo "linking against a libcuda stub of $(wc -l <"$stub_dir/libcuda_stub.c") functions"
fi
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cargo test -p rwkv-engine --features cuda --test tensor_forward --test tensor_matrices -- --nocapture

//! The WKV scan (engine/RWKV4.md §5.3) as a candle custom op, so a model whose tensors live on any device
//! can run it without copying k and v back to the host.
//!
//! Inputs: `k` and `v`, `[T, C]` f32, and `params`, `[5, C]` f32 holding per channel, in this order,
//! `w` = −exp(time_decay), `u` = time_first, and the incoming state `aa`, `bb`, `pp`.
//! Output: one `[T + 3, C]` tensor, rows `0..T` the wkv of every token and rows `T, T+1, T+2` the
//! outgoing `aa`, `bb`, `pp`. One output rather than two because candle's custom ops return one tensor.
//!
//! On the CPU the scan is [`kernels::wkv_chunk`], the same code [`crate::Model`] runs, so the two
//! agree bit for bit here. Under the `cuda` feature, a CUDA kernel (one thread per channel, a loop
//! over T, the same max-trick) is compiled at run time with NVRTC, once per process, so building
//! needs no extra build script.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

use crate::kernels;
use crate::state::LayerState;

/// Rows of `params`: w, u, aa, bb, pp.
pub const PARAM_ROWS: usize = 5;
/// Rows after the wkv rows in the output: aa, bb, pp.
pub const STATE_ROWS: usize = 3;

/// The WKV scan as a candle op; use it through [`wkv`], which checks shapes and contiguity.
#[derive(Debug, Clone, Copy, Default)]
pub struct WkvScan;

/// Runs the WKV scan over `k`, `v` (`[T, C]`) from the state in `params` (`[5, C]`: w, u, aa, bb,
/// pp) and returns `[T + 3, C]`: the wkv rows, then the outgoing aa, bb, pp.
pub fn wkv(k: &Tensor, v: &Tensor, params: &Tensor) -> candle_core::Result<Tensor> {
    let (rows, width) = k.dims2()?;
    if v.dims2()? != (rows, width) {
        candle_core::bail!("wkv: v has shape {:?}, k has {:?}", v.shape(), k.shape());
    }
    if params.dims2()? != (PARAM_ROWS, width) {
        candle_core::bail!(
            "wkv: params have shape {:?}, expected [{PARAM_ROWS}, {width}]",
            params.shape()
        );
    }
    if rows == 0 {
        candle_core::bail!("wkv: no tokens");
    }
    k.contiguous()?
        .apply_op3_no_bwd(&v.contiguous()?, &params.contiguous()?, &WkvScan)
}

/// The contiguous part of `storage` that `layout` describes, as f32.
fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let all = storage.as_slice::<f32>()?;
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("wkv: {what} is not contiguous");
    };
    all.get(start..end)
        .ok_or_else(|| candle_core::Error::Msg(format!("wkv: {what} storage too short")))
}

/// `(T, C)` of the op's inputs, checked again here because the op can be applied directly.
fn dims(k: &Layout, v: &Layout, params: &Layout) -> candle_core::Result<(usize, usize)> {
    let (rows, width) = k.shape().dims2()?;
    if v.shape().dims2()? != (rows, width) || params.shape().dims2()? != (PARAM_ROWS, width) {
        candle_core::bail!(
            "wkv: shapes k {:?}, v {:?}, params {:?} do not fit together",
            k.shape(),
            v.shape(),
            params.shape()
        );
    }
    Ok((rows, width))
}

impl CustomOp3 for WkvScan {
    fn name(&self) -> &'static str {
        "rwkv4-wkv"
    }

    fn cpu_fwd(
        &self,
        k_storage: &CpuStorage,
        k_layout: &Layout,
        v_storage: &CpuStorage,
        v_layout: &Layout,
        p_storage: &CpuStorage,
        p_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (rows, width) = dims(k_layout, v_layout, p_layout)?;
        let k = contiguous_f32(k_storage, k_layout, "k")?;
        let v = contiguous_f32(v_storage, v_layout, "v")?;
        let params = contiguous_f32(p_storage, p_layout, "params")?;
        let row = |i: usize| &params[i * width..(i + 1) * width];
        // `wkv_chunk` advances a LayerState; the token-shift vectors are not touched by it.
        let mut state = LayerState {
            att_x: Vec::new(),
            aa: row(2).to_vec(),
            bb: row(3).to_vec(),
            pp: row(4).to_vec(),
            ffn_x: Vec::new(),
        };
        let mut out = vec![0.0f32; (rows + STATE_ROWS) * width];
        let (wkv_rows, state_rows) = out.split_at_mut(rows * width);
        kernels::wkv_chunk(k, v, row(1), row(0), &mut state, wkv_rows);
        for (dst, src) in state_rows
            .chunks_exact_mut(width)
            .zip([&state.aa, &state.bb, &state.pp])
        {
            dst.copy_from_slice(src);
        }
        Ok((
            CpuStorage::F32(out),
            Shape::from((rows + STATE_ROWS, width)),
        ))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        k_storage: &candle_core::CudaStorage,
        k_layout: &Layout,
        v_storage: &candle_core::CudaStorage,
        v_layout: &Layout,
        p_storage: &candle_core::CudaStorage,
        p_layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        cuda::forward(
            k_storage, k_layout, v_storage, v_layout, p_storage, p_layout,
        )
    }
}

/// The CUDA side: kernel source, its one-time compilation, the launch.
#[cfg(feature = "cuda")]
mod cuda {
    use std::sync::OnceLock;

    use candle_core::backend::BackendStorage;
    use candle_core::cuda_backend::cudarc::driver::{
        CudaSlice, CudaView, LaunchConfig, PushKernelArg,
    };
    use candle_core::cuda_backend::cudarc::nvrtc;
    use candle_core::cuda_backend::WrapErr;
    use candle_core::{CudaStorage, Layout, Shape};

    use super::{dims, STATE_ROWS};

    /// Name of the kernel in [`KERNEL_SOURCE`] and of the module candle caches it under.
    const KERNEL_NAME: &str = "rwkv4_wkv_f32";
    const MODULE_NAME: &str = "rwkv4_wkv";
    /// Threads per block; each thread owns one channel for the whole chunk.
    const THREADS_PER_BLOCK: u32 = 128;

    /// engine/RWKV4.md §5.3, line for line as in `kernels::wkv_chunk`; `expf` (not `__expf`) because the
    /// reference's own kernel runs the same loop in f32 and we want its accuracy, not its speed.
    const KERNEL_SOURCE: &str = r#"
extern "C" __global__ void rwkv4_wkv_f32(
    const int rows, const int width,
    const float* __restrict__ k, const float* __restrict__ v,
    const float* __restrict__ params, float* __restrict__ out)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= width) return;
    const float w = params[c];
    const float u = params[width + c];
    float aa = params[2 * width + c];
    float bb = params[3 * width + c];
    float pp = params[4 * width + c];
    for (int t = 0; t < rows; ++t) {
        const long i = (long)t * width + c;
        const float kt = k[i];
        const float vt = v[i];
        float ww = u + kt;
        float p = pp > ww ? pp : ww;
        float e1 = expf(pp - p);
        float e2 = expf(ww - p);
        out[i] = (e1 * aa + e2 * vt) / (e1 * bb + e2);
        ww = w + pp;
        p = ww > kt ? ww : kt;
        e1 = expf(ww - p);
        e2 = expf(kt - p);
        aa = e1 * aa + e2 * vt;
        bb = e1 * bb + e2;
        pp = p;
    }
    out[(long)rows * width + c] = aa;
    out[(long)(rows + 1) * width + c] = bb;
    out[(long)(rows + 2) * width + c] = pp;
}
"#;

    /// The PTX of [`KERNEL_SOURCE`], compiled on first use; a failure is kept and reported to every
    /// caller (as an error, not a panic: a machine without NVRTC can still run on the CPU).
    fn ptx() -> candle_core::Result<&'static str> {
        static PTX: OnceLock<Result<String, String>> = OnceLock::new();
        PTX.get_or_init(|| {
            nvrtc::compile_ptx(KERNEL_SOURCE)
                .map(|ptx| ptx.to_src())
                .map_err(|e| format!("compiling the WKV kernel with NVRTC: {e}"))
        })
        .as_ref()
        .map(String::as_str)
        .map_err(|e| candle_core::Error::Cuda(e.clone().into()))
    }

    fn view<'a>(
        storage: &'a CudaStorage,
        layout: &Layout,
        what: &str,
    ) -> candle_core::Result<CudaView<'a, f32>> {
        let slice: &CudaSlice<f32> = storage.as_cuda_slice::<f32>()?;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("wkv: {what} is not contiguous");
        };
        Ok(slice.slice(start..end))
    }

    pub(super) fn forward(
        k_storage: &CudaStorage,
        k_layout: &Layout,
        v_storage: &CudaStorage,
        v_layout: &Layout,
        p_storage: &CudaStorage,
        p_layout: &Layout,
    ) -> candle_core::Result<(CudaStorage, Shape)> {
        let (rows, width) = dims(k_layout, v_layout, p_layout)?;
        let (Ok(rows_i32), Ok(width_i32)) = (i32::try_from(rows), i32::try_from(width)) else {
            candle_core::bail!("wkv: {rows}x{width} is too large for the kernel");
        };
        let k = view(k_storage, k_layout, "k")?;
        let v = view(v_storage, v_layout, "v")?;
        let params = view(p_storage, p_layout, "params")?;
        let device = k_storage.device().clone();
        let func = device.get_or_load_custom_func(KERNEL_NAME, MODULE_NAME, ptx()?)?;
        // SAFETY: every element is written by the kernel (wkv rows for t < rows, then the 3 state
        // rows) before the tensor is read.
        let out = unsafe { device.alloc::<f32>((rows + STATE_ROWS) * width)? };
        let config = LaunchConfig {
            grid_dim: ((width as u32).div_ceil(THREADS_PER_BLOCK), 1, 1),
            block_dim: (THREADS_PER_BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut builder = func.builder();
        builder.arg(&rows_i32);
        builder.arg(&width_i32);
        builder.arg(&k);
        builder.arg(&v);
        builder.arg(&params);
        builder.arg(&out);
        // SAFETY: the argument list matches the kernel's signature; k, v are rows×width and params
        // 5×width floats (checked by `dims`), out holds (rows+3)×width.
        unsafe { builder.launch(config) }.w()?;
        Ok((
            CudaStorage::wrap_cuda_slice(out, device),
            Shape::from((rows + STATE_ROWS, width)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn matches_the_cpu_kernel_and_packs_the_state() -> candle_core::Result<()> {
        let (rows, width) = (4, 3);
        let k: Vec<f32> = (0..rows * width)
            .map(|i| (i as f32 * 0.7).sin() * 3.0)
            .collect();
        let v: Vec<f32> = (0..rows * width).map(|i| (i as f32 * 0.3).cos()).collect();
        let (decay, first) = (vec![-0.5f32, -1.0, -2.0], vec![0.1f32, 0.2, -0.3]);
        let mut state = LayerState {
            att_x: vec![0.0; width],
            aa: vec![0.5, -0.25, 0.0],
            bb: vec![1.5, 2.0, 1.0],
            pp: vec![0.3, -1e30, 2.0],
            ffn_x: vec![0.0; width],
        };
        let params: Vec<f32> = [&decay, &first, &state.aa, &state.bb, &state.pp]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let dev = Device::Cpu;
        let out = wkv(
            &Tensor::from_slice(&k, (rows, width), &dev)?,
            &Tensor::from_slice(&v, (rows, width), &dev)?,
            &Tensor::from_slice(&params, (PARAM_ROWS, width), &dev)?,
        )?;
        assert_eq!(out.dims(), [rows + STATE_ROWS, width]);
        let got = out.flatten_all()?.to_vec1::<f32>()?;

        let mut want = vec![0.0f32; rows * width];
        kernels::wkv_chunk(&k, &v, &first, &decay, &mut state, &mut want);
        want.extend(state.aa.iter().chain(&state.bb).chain(&state.pp));
        assert_eq!(got, want);
        Ok(())
    }

    #[test]
    fn mismatched_shapes_are_errors() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let k = Tensor::zeros((2, 4), candle_core::DType::F32, &dev)?;
        let params = Tensor::zeros((PARAM_ROWS, 4), candle_core::DType::F32, &dev)?;
        assert!(wkv(
            &k,
            &Tensor::zeros((2, 3), candle_core::DType::F32, &dev)?,
            &params
        )
        .is_err());
        assert!(wkv(&k, &k, &params.narrow(0, 0, 4)?).is_err());
        assert!(wkv(&k.narrow(0, 0, 0)?, &k.narrow(0, 0, 0)?, &params).is_err());
        // A transposed (non-contiguous) input is made contiguous rather than refused.
        let square = Tensor::arange(0f32, 16.0, &dev)?.reshape((4, 4))?;
        assert!(wkv(&square.t()?, &square, &params).is_ok());
        Ok(())
    }
}

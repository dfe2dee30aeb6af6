//! The weight matrices of a [`super::TensorModel`] on its device, in one of three forms
//! ([`DeviceMatrices`]), and the product `x · Wᵀ` of f32 activation rows with each.
//!
//! - **f32**: a row-major copy, multiplied by candle's f32 matmul (cuBLAS on a GPU, gemm on the
//!   CPU) — the exact path the reference tests hold to 1e-5.
//! - **f16**: half the memory; the activation rows are scaled to a largest magnitude of 1, rounded
//!   to f16, multiplied (cuBLAS accumulates in f32), widened and scaled back. The scaling is what
//!   keeps the products finite: f16 stops at 65504, and RWKV-4's squared-ReLU activations and the
//!   outputs of `att.output` / `ffn.value` in the deep layers of large models pass it (the reference
//!   implementation halves the residual stream every 6 layers in fp16 for the same reason). Here
//!   the residual stream stays f32 and only the operands of a product are f16.
//! - **Q8_0**: ggml's blocks, the very bytes the model holds (owned, or memory-mapped from the
//!   GGUF file), in a candle [`QTensor`] on the device — 8.5 bits per weight and no f32 copy. The
//!   product is candle's quantized matmul: on CUDA its MMQ/MMVQ kernels (activations quantized to
//!   Q8_1 per block of 32), on the CPU its own kernels (activations quantized to Q8_0 with an f16
//!   scale, where the CPU engine keeps an f32 scale — hence the small differences the tests
//!   measure). On the CPU device candle copies the blocks (and on AVX-512 VNNI machines keeps a
//!   repacked copy beside them): that device is for tests; the CPU engine is the CPU path.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use candle_core::quantized::k_quants::BlockQ8_0;
use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{DType, Device, Module, Tensor};

use crate::error::EngineError;
use crate::linear::Linear;
use crate::precision::{q8_0_bytes, WeightPrecision, Q8_0_BLOCK_BYTES};

/// How a [`super::TensorModel`] holds its matrices (every block matrix and the head) on the
/// device. The embedding stays on the host in every form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceMatrices {
    /// f32, as the CPU engine computes: 4 bytes per weight.
    F32,
    /// f16 weights, f16 operands around each product, f32 everywhere else: 2 bytes per weight.
    F16,
    /// ggml Q8_0 blocks, multiplied by candle's quantized kernels: 34 bytes per 32 weights.
    Q8_0,
}

impl DeviceMatrices {
    /// The form that keeps a model's weights as it holds them: Q8_0 stays Q8_0, f16 (values that
    /// are exactly f16, widened on load) becomes f16 again, f32 stays f32.
    pub fn of(precision: WeightPrecision) -> DeviceMatrices {
        match precision {
            WeightPrecision::F32 => DeviceMatrices::F32,
            WeightPrecision::F16 => DeviceMatrices::F16,
            WeightPrecision::Q8_0 => DeviceMatrices::Q8_0,
        }
    }

    /// Lower-case name: `f32`, `f16`, `q8_0` (as [`WeightPrecision`] names them).
    pub fn name(self) -> &'static str {
        match self {
            DeviceMatrices::F32 => "f32",
            DeviceMatrices::F16 => "f16",
            DeviceMatrices::Q8_0 => "q8_0",
        }
    }
}

impl fmt::Display for DeviceMatrices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `[out, in]` matrix on the device.
#[derive(Debug, Clone)]
pub(crate) enum DeviceMatrix {
    /// f32 or f16, row-major `[out, in]`.
    Dense(Tensor),
    /// Q8_0 blocks; always the quantized variant, never candle's dequantized fallbacks (which the
    /// `CANDLE_DEQUANTIZE_ALL` variables would otherwise select in `QMatMul::from_qtensor`).
    Q8_0(QMatMul),
}

impl DeviceMatrix {
    /// `linear`'s weights on `device` in the form `matrices`: f32 weights are quantized (the same
    /// bytes as `Model::to_precision(Q8_0)`) or rounded to f16; Q8_0 weights are uploaded as they
    /// are or dequantized (exactly: `d · q`). `name` is for errors.
    pub(crate) fn new(
        linear: &Linear,
        matrices: DeviceMatrices,
        device: &Device,
        name: &str,
    ) -> Result<DeviceMatrix, EngineError> {
        let shape = (linear.out_features(), linear.in_features());
        let named = |e: candle_core::Error| {
            EngineError::Candle(candle_core::Error::Msg(format!(
                "{name}: cannot put the {}x{} matrix on the device as {matrices}: {e}",
                shape.0, shape.1
            )))
        };
        match (matrices, linear.q8_0_bytes()) {
            (DeviceMatrices::Q8_0, Some(bytes)) => Ok(DeviceMatrix::Q8_0(
                q8_0_tensor(bytes, shape, device).map_err(named)?,
            )),
            (DeviceMatrices::Q8_0, None) => {
                let quantized = linear.to_q8_0()?;
                DeviceMatrix::new(&quantized, matrices, device, name)
            }
            (DeviceMatrices::F32, None) => Ok(DeviceMatrix::Dense(linear.to_tensor(device)?)),
            (DeviceMatrices::F16, None) => {
                // Rounded on the host, so the device never holds the f32 copy.
                let f16 = linear.to_tensor(&Device::Cpu)?.to_dtype(DType::F16)?;
                Ok(DeviceMatrix::Dense(f16.to_device(device).map_err(named)?))
            }
            (DeviceMatrices::F32 | DeviceMatrices::F16, Some(bytes)) => {
                let dtype = if matrices == DeviceMatrices::F32 {
                    DType::F32
                } else {
                    DType::F16
                };
                // Dequantized on the host: a Q8_0 model loaded for an f32 device run is a debugging
                // aid, not a path worth a device-side conversion.
                let q = q8_0_tensor(bytes, shape, &Device::Cpu).map_err(named)?;
                let QMatMul::QTensor(q) = q else {
                    return Err(named(candle_core::Error::Msg("not quantized".into())));
                };
                let dense = q.dequantize(&Device::Cpu)?.to_dtype(dtype)?;
                Ok(DeviceMatrix::Dense(dense.to_device(device).map_err(named)?))
            }
        }
    }

    /// `x · Wᵀ` for the f32 rows `x` (`[T, in]`), as f32 `[T, out]`.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            DeviceMatrix::Dense(w) if w.dtype() == DType::F16 => scaled_f16_product(x, w),
            DeviceMatrix::Dense(w) => x.matmul(&w.t()?),
            // The quantized kernels read the rows in place: they must be contiguous.
            DeviceMatrix::Q8_0(q) => q.forward(&x.contiguous()?),
        }
    }

    /// Bytes the matrix takes on the device (Q8_0: the blocks, without candle's row padding).
    pub(crate) fn device_bytes(&self) -> usize {
        match self {
            DeviceMatrix::Dense(w) => w.elem_count() * w.dtype().size_in_bytes(),
            DeviceMatrix::Q8_0(QMatMul::QTensor(q)) => q.storage_size_in_bytes(),
            DeviceMatrix::Q8_0(QMatMul::Tensor(w) | QMatMul::TensorF16(w)) => {
                w.elem_count() * w.dtype().size_in_bytes()
            }
        }
    }
}

/// `x · wᵀ` with `w` in f16: each row of `x` divided by its largest magnitude (so the operand and
/// the result stay far below f16's 65504), rounded to f16, multiplied, widened, and multiplied back.
fn scaled_f16_product(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    // A row of zeros keeps the scale at the smallest normal f32 instead of dividing by zero.
    let scale = x.abs()?.max_keepdim(1)?.maximum(f32::MIN_POSITIVE)?;
    x.broadcast_div(&scale)?
        .to_dtype(DType::F16)?
        .matmul(&w.t()?)?
        .to_dtype(DType::F32)?
        .broadcast_mul(&scale)
}

/// A Q8_0 matrix `[out, in]` made from its ggml blocks, on `device` (a host copy on the CPU, an
/// upload on a GPU).
fn q8_0_tensor(
    bytes: &[u8],
    (out_features, in_features): (usize, usize),
    device: &Device,
) -> candle_core::Result<QMatMul> {
    if !bytes.len().is_multiple_of(Q8_0_BLOCK_BYTES) {
        candle_core::bail!("{} bytes are not whole q8_0 blocks", bytes.len());
    }
    // candle reads the bytes as `[BlockQ8_0]` and asserts (panics) that they are aligned for it
    // (2 bytes, for the f16 scale). Owned bytes and GGUF tensors (32-byte aligned) always are; a
    // GGUF file written with an alignment of 1 might not be: copy those into real blocks.
    let realigned: Vec<BlockQ8_0>;
    let bytes = if bytes
        .as_ptr()
        .align_offset(std::mem::align_of::<BlockQ8_0>())
        == 0
    {
        bytes
    } else {
        realigned = blocks_from_bytes(bytes);
        q8_0_bytes(&realigned)
    };
    let storage = QStorage::from_data(Cow::Borrowed(bytes), device, GgmlDType::Q8_0)?;
    let tensor = QTensor::new(storage, (out_features, in_features))?;
    Ok(QMatMul::QTensor(Arc::new(tensor)))
}

/// Q8_0 blocks copied byte for byte from bytes at any address.
fn blocks_from_bytes(bytes: &[u8]) -> Vec<BlockQ8_0> {
    use candle_core::quantized::GgmlType;
    let mut blocks = vec![BlockQ8_0::zeros(); bytes.len() / Q8_0_BLOCK_BYTES];
    // SAFETY: BlockQ8_0 is repr(C), an f16 and 32 i8, 34 bytes without padding (asserted in
    // precision.rs), so every byte pattern is a valid block; the view covers exactly the vector's
    // initialised blocks and ends before the vector is used again.
    let view = unsafe {
        std::slice::from_raw_parts_mut(
            blocks.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(blocks.as_slice()),
        )
    };
    view.copy_from_slice(&bytes[..view.len()]);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(out_f: usize, in_f: usize) -> Vec<f32> {
        (0..out_f * in_f)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect()
    }

    #[test]
    fn misaligned_q8_0_bytes_are_copied_into_the_same_blocks() -> Result<(), EngineError> {
        let (out_f, in_f) = (3, 64);
        let linear = Linear::q8_0_from_f32(&weights(out_f, in_f), out_f, in_f)?;
        let bytes = linear.q8_0_bytes().ok_or(EngineError::NoTokens)?;
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(bytes);
        let odd = &shifted[1..];
        let from_odd = q8_0_tensor(odd, (out_f, in_f), &Device::Cpu)?;
        let from_even = q8_0_tensor(bytes, (out_f, in_f), &Device::Cpu)?;
        let x = Tensor::from_vec(
            (0..2 * in_f).map(|i| (i as f32).sin()).collect(),
            (2, in_f),
            &Device::Cpu,
        )?;
        let a = from_odd.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
        let b = from_even.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(a, b);
        assert_eq!(q8_0_bytes(&blocks_from_bytes(odd)), bytes);
        Ok(())
    }

    #[test]
    fn every_form_multiplies_like_f32_within_its_precision() -> Result<(), EngineError> {
        let (out_f, in_f, rows) = (40, 96, 3);
        let linear = Linear::new(weights(out_f, in_f), out_f, in_f)?;
        // Rows of very different magnitudes: the f16 product must neither overflow the large one
        // nor lose the small one.
        let x: Vec<f32> = (0..rows * in_f)
            .map(|i| (i as f32 * 0.37).cos() * [1e-3, 1.0, 3e5][i / in_f])
            .collect();
        let x = Tensor::from_vec(x, (rows, in_f), &Device::Cpu)?;
        let exact = DeviceMatrix::new(&linear, DeviceMatrices::F32, &Device::Cpu, "w")?
            .forward(&x)?
            .to_vec2::<f32>()?;
        for (matrices, tol) in [(DeviceMatrices::F16, 2e-3f32), (DeviceMatrices::Q8_0, 2e-2)] {
            let m = DeviceMatrix::new(&linear, matrices, &Device::Cpu, "w")?;
            let got = m.forward(&x)?.to_vec2::<f32>()?;
            for (g_row, e_row) in got.iter().zip(&exact) {
                let scale = e_row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                for (g, e) in g_row.iter().zip(e_row) {
                    assert!(
                        g.is_finite() && (g - e).abs() <= tol * scale,
                        "{matrices}: {g} vs {e}"
                    );
                }
            }
        }
        let q8 = DeviceMatrix::new(&linear, DeviceMatrices::Q8_0, &Device::Cpu, "w")?;
        assert_eq!(q8.device_bytes(), out_f * in_f / 32 * Q8_0_BLOCK_BYTES);
        let f16 = DeviceMatrix::new(&linear, DeviceMatrices::F16, &Device::Cpu, "w")?;
        assert_eq!(f16.device_bytes(), out_f * in_f * 2);
        Ok(())
    }

    #[test]
    fn f32_weights_quantize_to_the_blocks_the_cpu_engine_holds() -> Result<(), EngineError> {
        let (out_f, in_f) = (5, 64);
        let linear = Linear::new(weights(out_f, in_f), out_f, in_f)?;
        let engine = linear.to_q8_0()?;
        let DeviceMatrix::Q8_0(QMatMul::QTensor(q)) =
            DeviceMatrix::new(&linear, DeviceMatrices::Q8_0, &Device::Cpu, "w")?
        else {
            panic!("q8_0 from f32 is a quantized tensor");
        };
        assert_eq!(Some(&*q.data()?), engine.q8_0_bytes());
        Ok(())
    }

    #[test]
    fn q8_0_weights_dequantize_exactly_for_a_dense_device_copy() -> Result<(), EngineError> {
        let (out_f, in_f) = (4, 32);
        let q8 = Linear::q8_0_from_f32(&weights(out_f, in_f), out_f, in_f)?;
        let bytes = q8.q8_0_bytes().ok_or(EngineError::NoTokens)?.to_vec();
        let DeviceMatrix::Dense(w) =
            DeviceMatrix::new(&q8, DeviceMatrices::F32, &Device::Cpu, "w")?
        else {
            panic!("f32 from q8_0 is dense");
        };
        let got = w.flatten_all()?.to_vec1::<f32>()?;
        for (i, g) in got.iter().enumerate() {
            assert_eq!(*g, WeightPrecision::Q8_0.decode_at(&bytes, i));
        }
        Ok(())
    }
}

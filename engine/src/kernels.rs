//! The compute kernels of the CPU forward pass: element-wise work on `&[f32]` (layer norm, token
//! shift, the WKV scan), f32 matrix products over weights packed in panels, and Q8_0 products. Each
//! has a portable path and SIMD paths picked at run time.

mod elementwise;
pub(crate) mod huge_pages;
pub(crate) mod panel_products;
pub(crate) mod panels;
pub(crate) mod q8_0_products;
pub(crate) mod q8_activations;
pub(crate) mod q8_dot_kernels;
pub(crate) mod q8_panels;

pub(crate) use elementwise::{
    add_in_place, add_product, has_avx2_fma, layer_norm_rows, mul_in_place, relu_squared_in_place,
    sigmoid_in_place, sum, token_shift_mix, wkv_chunk, LN_EPS,
};

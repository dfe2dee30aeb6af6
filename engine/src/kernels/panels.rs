//! f32 weights stored in the order the products read them: panels of [`PANEL`] output rows,
//! interleaved by input column.
//!
//! A checkpoint holds `W` as `[out, in]` row-major. Here output rows `16p … 16p+15` form panel `p`,
//! stored as `in` groups of 16 values — for each input column `k`, `W[16p + j, k]` for `j = 0..16`
//! — so that both products stream it front to back:
//! * one token (generating): for each `k`, sixteen outputs gain `x[k] · W[·, k]`, two vector
//!   multiply-adds over 64 contiguous bytes;
//! * a chunk (reading): the same panel is the right-hand operand of a register-tiled matrix product
//!   that would otherwise repack the weights on every call.
//!
//! The last panel is padded with zero rows when `out` is not a multiple of 16 (a 50,277-token
//! vocabulary). Packing happens once, at load time; [`PanelMatrix::to_row_major`] and
//! [`PanelMatrix::value_at`] give the checkpoint's order back for whoever needs it (the fingerprint,
//! quantization, a device copy).

use rayon::prelude::*;

use crate::kernels::huge_pages;

/// Output rows per panel: two AVX vectors of f32.
pub const PANEL: usize = 16;

/// `[out, in]` f32 weights in panel order.
#[derive(Debug, Clone)]
pub struct PanelMatrix {
    data: Vec<f32>,
    out_features: usize,
    in_features: usize,
}

impl PanelMatrix {
    /// Packs `[out, in]` row-major values (`values.len() == out · in`, checked by the caller).
    pub fn from_row_major(values: &[f32], out_features: usize, in_features: usize) -> PanelMatrix {
        debug_assert_eq!(values.len(), out_features * in_features);
        let panels = out_features.div_ceil(PANEL);
        let mut data = vec![0.0f32; panels * PANEL * in_features];
        huge_pages::advise(&data);
        // Panel by panel in parallel: a panel's 16 rows are contiguous in `values`.
        let width = in_features.max(1);
        data.par_chunks_exact_mut(PANEL * width)
            .zip(values.par_chunks(PANEL * width))
            .for_each(|(panel, rows)| {
                for (j, row) in rows.chunks_exact(width).enumerate() {
                    for (k, &v) in row.iter().enumerate() {
                        panel[k * PANEL + j] = v;
                    }
                }
            });
        PanelMatrix {
            data,
            out_features,
            in_features,
        }
    }

    /// Output rows (without padding).
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Input columns.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Number of panels, the last one possibly padded.
    pub fn panels(&self) -> usize {
        self.out_features.div_ceil(PANEL)
    }

    /// The packed values: panel after panel, each `in · 16` values.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// `W[i / in, i % in]`: the value at index `i` of the row-major matrix.
    pub fn value_at(&self, i: usize) -> f32 {
        let (row, col) = (i / self.in_features, i % self.in_features);
        let (panel, lane) = (row / PANEL, row % PANEL);
        self.data[(panel * self.in_features + col) * PANEL + lane]
    }

    /// The weights back in `[out, in]` row-major order (a copy).
    pub fn to_row_major(&self) -> Vec<f32> {
        let (out, inp) = (self.out_features, self.in_features);
        let mut values = vec![0.0f32; out * inp];
        for (r, row) in values.chunks_exact_mut(inp.max(1)).enumerate().take(out) {
            let panel = &self.data[(r / PANEL) * PANEL * inp..];
            let lane = r % PANEL;
            for (k, v) in row.iter_mut().enumerate() {
                *v = panel[k * PANEL + lane];
            }
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_and_indexes_like_the_row_major_matrix() {
        for (out, inp) in [(1, 1), (16, 3), (17, 5), (50, 40), (33, 1)] {
            let values: Vec<f32> = (0..out * inp).map(|i| i as f32 * 0.25 - 3.0).collect();
            let packed = PanelMatrix::from_row_major(&values, out, inp);
            assert_eq!(packed.panels(), out.div_ceil(PANEL));
            assert_eq!(packed.data().len(), packed.panels() * PANEL * inp);
            assert_eq!(packed.to_row_major(), values, "{out}x{inp}");
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(packed.value_at(i), v);
            }
            // Padding rows are zero.
            let padded: f32 = (out..packed.panels() * PANEL)
                .flat_map(|r| (0..inp).map(move |k| (r, k)))
                .map(|(r, k)| packed.data()[((r / PANEL) * inp + k) * PANEL + r % PANEL].abs())
                .sum();
            assert_eq!(padded, 0.0);
        }
    }
}

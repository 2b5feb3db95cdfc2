//! Matrix products, 2-D and batched 3-D, with transposes as flags rather than copies.

use super::kernels_of;
use crate::kernels::MatmulDims;
use crate::{Error, Result, Shape, Tensor};

/// `(batch, rows, cols)` of a 2-D or 3-D operand; `batch` is `None` for 2-D.
fn matrix_dims(t: &Tensor) -> Result<(Option<usize>, usize, usize)> {
    match *t.dims() {
        [r, c] => Ok((None, r, c)),
        [b, r, c] => Ok((Some(b), r, c)),
        _ => Err(Error::invalid(
            "matmul",
            format!("operands must be 2-D or 3-D, got {}", t.shape()),
        )),
    }
}

impl Tensor {
    /// Matrix product: `[m, k] · [k, n] = [m, n]`, or batched `[b, m, k] · [b, k, n]`, where a
    /// 2-D operand is shared by every batch entry.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.matmul_t(rhs, false, false)
    }

    /// `op(self) · op(rhs)` where `op` transposes the last two axes when its flag is set
    /// (`x.matmul_t(w, false, true)` is `x · wᵀ`). No transpose is materialized.
    pub fn matmul_t(&self, rhs: &Tensor, trans_a: bool, trans_b: bool) -> Result<Tensor> {
        let k = kernels_of("matmul", &[self, rhs])?;
        let (ba, ra, ca) = matrix_dims(self)?;
        let (bb, rb, cb) = matrix_dims(rhs)?;
        let (m, ka) = if trans_a { (ca, ra) } else { (ra, ca) };
        let (kb, n) = if trans_b { (cb, rb) } else { (rb, cb) };
        let batch = match (ba, bb) {
            (Some(x), Some(y)) if x != y => None,
            (x, y) => Some(x.or(y)),
        };
        let (true, Some(batch)) = (ka == kb, batch) else {
            return Err(Error::ShapeMismatch {
                op: "matmul",
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
            });
        };
        let dims = MatmulDims {
            batch: batch.unwrap_or(1),
            m,
            k: ka,
            n,
            trans_a,
            trans_b,
            a_batched: ba.is_some(),
            b_batched: bb.is_some(),
        };
        let out = match batch {
            Some(b) => Shape::checked("matmul", &[b, m, n])?,
            None => Shape::checked("matmul", &[m, n])?,
        };
        let storage = k.matmul(&self.storage(), &rhs.storage(), dims)?;
        let (a, b) = (self.clone(), rhs.clone());
        // ANCHOR: backward
        Ok(Tensor::from_op(storage, out, &[self, rhs], move |g| {
            // C = op(A) op(B): dA = g op(B)ᵀ, dB = op(A)ᵀ g, written without transposes.
            // Only the gradients that an input needs are computed.
            let ga = a.tracks_grad().then(|| {
                if trans_a {
                    b.matmul_t(g, trans_b, true)?.sum_to(a.shape())
                } else {
                    g.matmul_t(&b, false, !trans_b)?.sum_to(a.shape())
                }
            });
            let gb = b.tracks_grad().then(|| {
                if trans_b {
                    g.matmul_t(&a, true, trans_a)?.sum_to(b.shape())
                } else {
                    a.matmul_t(g, !trans_a, false)?.sum_to(b.shape())
                }
            });
            Ok(vec![ga.transpose()?, gb.transpose()?])
        }))
        // ANCHOR_END: backward
    }
}

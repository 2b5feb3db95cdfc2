//! Matrix products, 2-D and batched 3-D. A transposed operand ([`Tensor::t`]) reaches the kernel
//! as a transpose flag, never as a copy.

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
    // ANCHOR: matmul
    /// Matrix product: `[m, k] · [k, n] = [m, n]`, or batched `[b, m, k] · [b, k, n]`, where a
    /// 2-D operand is shared by every batch entry.
    ///
    /// A transposed operand costs nothing: `x.matmul(&w.t())` is `x · wᵀ` computed from `w`'s
    /// storage with the kernel's transpose flag (see [`Tensor::t`]). The gradients follow the
    /// same route: the gradient of `w` in `x.matmul(&w.t())` is computed directly in `w`'s
    /// layout.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let k = kernels_of("matmul", &[self, rhs])?;
        let (ba, m, ka) = matrix_dims(self)?;
        let (bb, kb, n) = matrix_dims(rhs)?;
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
        let (trans_a, trans_b) = (self.is_transposed(), rhs.is_transposed());
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
        let storage = k.matmul(&self.raw_storage(), &rhs.raw_storage(), dims)?;
        let (a, b) = (self.clone(), rhs.clone());
        // ANCHOR: backward
        Ok(Tensor::from_op(storage, out, &[self, rhs], move |g| {
            // C = A B: dA = g Bᵀ, dB = Aᵀ g, every transpose a flag. A transposed operand
            // gets its gradient computed in its storage's layout, (g Bᵀ)ᵀ = B gᵀ, and handed
            // back as a lazy transpose, which `t`'s backward turns into that layout for free.
            // Only the gradients that an input needs are computed.
            let ga = a.tracks_grad().then(|| {
                if trans_a {
                    Ok(b.matmul(&g.t())?.sum_to(&a.shape().transposed())?.t())
                } else {
                    g.matmul(&b.t())?.sum_to(a.shape())
                }
            });
            let gb = b.tracks_grad().then(|| {
                if trans_b {
                    Ok(g.t().matmul(&a)?.sum_to(&b.shape().transposed())?.t())
                } else {
                    a.t().matmul(g)?.sum_to(b.shape())
                }
            });
            Ok(vec![ga.transpose()?, gb.transpose()?])
        }))
        // ANCHOR_END: backward
    }
    // ANCHOR_END: matmul
}

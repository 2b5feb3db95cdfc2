//! How the GPU's matrix products and convolutions treat their operands: exact `f32` (the
//! default), or, opted into per thread, operands rounded to `f16`.
//!
//! Like [`crate::no_grad`], the setting belongs to the calling thread, and a training step's
//! backward pass runs on the thread that calls `backward`, so wrapping a whole step sets it for
//! both passes. CPU kernels ignore it.

use std::cell::Cell;

/// The operands of GPU matrix products and convolutions (their forward and backward passes):
/// see [`with_matmul_precision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatmulPrecision {
    /// The operands as they are, `f32` products and sums (the default).
    #[default]
    F32,
    /// Each operand rounded to `f16` (11 significant bits) as the GEMM kernel stages it in
    /// workgroup memory, halving that memory's traffic; products and sums stay `f32`. Operands
    /// beyond `f16`'s range (magnitude above 65504) become infinite, and below 6e-5 they keep
    /// fewer bits, down to zero under 3e-8 (no loss scale is applied). Needs an adapter with
    /// `shader-f16`: elsewhere a product is an error that says so.
    F16Operands,
}

thread_local! {
    static PRECISION: Cell<MatmulPrecision> = const { Cell::new(MatmulPrecision::F32) };
}

/// The calling thread's [`MatmulPrecision`].
pub fn matmul_precision() -> MatmulPrecision {
    PRECISION.with(Cell::get)
}

/// Restores the previous precision when dropped, also when `f` panics.
struct Restore(MatmulPrecision);

impl Drop for Restore {
    fn drop(&mut self) {
        PRECISION.with(|p| p.set(self.0));
    }
}

/// Runs `f` with the GPU's matrix products and convolutions on this thread at `precision`:
///
/// ```
/// use kiln_tensor::{matmul_precision, with_matmul_precision, MatmulPrecision};
///
/// let inside = with_matmul_precision(MatmulPrecision::F16Operands, matmul_precision);
/// assert_eq!(inside, MatmulPrecision::F16Operands);
/// assert_eq!(matmul_precision(), MatmulPrecision::F32);
/// ```
pub fn with_matmul_precision<R>(precision: MatmulPrecision, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(PRECISION.with(|p| p.replace(precision)));
    f()
}

//! Opt-in kernel variants of the GPU device, set per thread: f16 operands for matrix products
//! and convolutions ([`with_matmul_precision`]) and subgroup operations in reductions
//! ([`with_subgroup_reductions`]). The defaults are exact `f32` and workgroup-memory trees,
//! which every adapter runs.
//!
//! Like [`crate::no_grad`], a setting belongs to the calling thread, and a training step's
//! backward pass runs on the thread that calls `backward`, so wrapping a whole step sets it for
//! both passes. CPU kernels ignore both.

use std::cell::Cell;
use std::thread::LocalKey;

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
    static SUBGROUPS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with `setting` of this thread at `value`, restoring it afterwards, also when `f`
/// panics.
fn scoped<T: Copy + 'static, R>(
    setting: &'static LocalKey<Cell<T>>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<T: Copy + 'static>(&'static LocalKey<Cell<T>>, T);
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            self.0.with(|c| c.set(self.1));
        }
    }
    let _restore = Restore(setting, setting.with(|c| c.replace(value)));
    f()
}

/// The calling thread's [`MatmulPrecision`].
pub fn matmul_precision() -> MatmulPrecision {
    PRECISION.with(Cell::get)
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
    scoped(&PRECISION, precision, f)
}

/// Whether the calling thread's batch-norm reductions use subgroup operations.
pub fn subgroup_reductions() -> bool {
    SUBGROUPS.with(Cell::get)
}

/// Runs `f` with the GPU's batch-norm reductions on this thread merging within each subgroup
/// by shuffles (`on`), or by the workgroup-memory tree alone (the default). A workgroup of 256
/// then takes three barriers where the tree takes nine; the sums come out in another order,
/// so within rounding of the default's. Needs an adapter with subgroups (native only, not
/// WebGPU's yet): elsewhere a reduction is an error that says so.
///
/// ```
/// use kiln_tensor::{subgroup_reductions, with_subgroup_reductions};
///
/// assert!(with_subgroup_reductions(true, subgroup_reductions));
/// assert!(!subgroup_reductions());
/// ```
pub fn with_subgroup_reductions<R>(on: bool, f: impl FnOnce() -> R) -> R {
    scoped(&SUBGROUPS, on, f)
}

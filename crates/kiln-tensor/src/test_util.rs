//! Helpers for tests that run on the GPU when there is one (the `test-util` feature).
//!
//! A test that needs a GPU asks [`gpu_or_skip`] for it: without an adapter the test says so on
//! stderr and passes, so that `cargo test` works on any machine, unless the environment sets
//! `KILN_REQUIRE_GPU=1` ([`REQUIRE_GPU_VAR`]; CI does, and runs on the software adapter
//! lavapipe), where it fails.
//!
//! ```
//! use kiln_tensor::{test_util::gpu_or_skip, Device, Tensor};
//!
//! let Some(gpu) = gpu_or_skip() else { return };
//! let x = Tensor::from_vec(vec![1.0, -2.0], &[2]).unwrap().to_device(gpu).unwrap();
//! assert_eq!(x.device(), Device::Gpu);
//! assert_eq!(x.relu().unwrap().to_vec().unwrap(), vec![1.0, 0.0]);
//! ```
//!
//! A test body that works on any device is written once with [`device_test!`](crate::device_test),
//! which makes one test per device.

use crate::gpu::GpuContext;
use crate::Device;
use std::io::Write;

/// The environment variable that turns "no GPU adapter" into a test failure: `KILN_REQUIRE_GPU=1`.
pub const REQUIRE_GPU_VAR: &str = "KILN_REQUIRE_GPU";

/// `Some(Device::Gpu)` when a GPU adapter opens, a software one such as lavapipe included.
/// Otherwise prints `skipped: no GPU adapter (...)` to stderr and returns `None`, or panics when
/// the environment sets `KILN_REQUIRE_GPU=1`.
///
/// The usual guard at the top of a GPU test is `let Some(gpu) = gpu_or_skip() else { return };`.
pub fn gpu_or_skip() -> Option<Device> {
    match GpuContext::get() {
        Ok(_) => Some(Device::Gpu),
        Err(e) if std::env::var(REQUIRE_GPU_VAR).is_ok_and(|v| v == "1") => {
            panic!("{REQUIRE_GPU_VAR}=1 but no GPU adapter: {e}")
        }
        Err(e) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(std::io::stderr(), "skipped: no GPU adapter ({e})");
            None
        }
    }
}

/// Asserts that `got` (`f32` or `f64` values) matches the `f64` reference `want` elementwise:
/// `|got - want| <= atol + rtol * |want|`, NaN exactly where `want` is NaN, infinities exactly.
/// Panics naming `what` and the first element that differs.
pub fn assert_close<G: Copy + Into<f64>>(
    what: &str,
    got: &[G],
    want: &[f64],
    atol: f64,
    rtol: f64,
) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g: f64 = g.into();
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            g == w || (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(ok, "{what}: element {i} is {g}, expected {w}");
    }
}

#[cfg(feature = "test-util")]
#[doc(hidden)]
pub use paste::paste as __paste;

/// One device-generic test body, run on every device: `device_test!(name, |device| body)`
/// makes the tests `name_cpu`, with `device` set to [`Device::Cpu`](crate::Device::Cpu), and
/// `name_gpu`, with [`Device::Gpu`](crate::Device::Gpu), which skips as
/// [`gpu_or_skip`](crate::test_util::gpu_or_skip) does when there is no adapter. The body is an
/// expression of type `()`; attributes written before the name (`#[ignore]`, say) go on both
/// tests.
///
/// ```
/// use kiln_tensor::{device_test, Tensor};
///
/// device_test!(relu_clamps_negatives, |device| {
///     let x = Tensor::from_vec(vec![-1.0, 2.0], &[2]).unwrap();
///     let y = x.to_device(device).unwrap().relu().unwrap();
///     assert_eq!(y.device(), device);
///     assert_eq!(y.to_vec().unwrap(), vec![0.0, 2.0], "{device}");
/// });
/// # fn main() {}
/// ```
#[cfg(feature = "test-util")]
#[macro_export]
macro_rules! device_test {
    ($(#[$attr:meta])* $name:ident, |$device:ident| $body:expr $(,)?) => {
        $crate::test_util::__paste! {
            $(#[$attr])*
            #[test]
            fn [<$name _cpu>]() {
                let $device = $crate::Device::Cpu;
                $body
            }

            $(#[$attr])*
            #[test]
            fn [<$name _gpu>]() {
                if let ::std::option::Option::Some($device) = $crate::test_util::gpu_or_skip() {
                    $body
                }
            }
        }
    };
}

//! The experiments behind kiln's examples, as a library: the example binaries parse their
//! command lines and call in here, and the tests and benches use the same code.
//!
//! - [`cifar_bn`]: the CNN of the batch-normalization article trained on CIFAR-10 with and
//!   without batch norm (`cargo run --example cifar_bn --release`).
//! - [`resnet9`]: the ResNet-9 of the fast CIFAR-10 training records, with or without batch
//!   norm.

/// Prints a line on stdout. A closed stdout (`cifar_bn | head -1`) is not an error: the run
/// goes on and writes its files.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line on stderr, ignoring a closed stderr as [`say!`] does stdout.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod cifar_bn;
pub mod resnet9;

//! The experiments behind kiln's examples, as a library: the example binaries parse their
//! command lines and call in here, and the tests and benches use the same code.
//!
//! - [`cifar_bn`]: the CNN of the batch-normalization article trained on CIFAR-10 with and
//!   without batch norm (`cargo run --example cifar_bn --release`).
//! - [`cifar_resnet`]: the same question asked of ResNet-9, the network of the fast CIFAR-10
//!   training records, trained with their recipe (`cargo run --example cifar_resnet
//!   --release`); [`resnet9`] builds the network.
//!
//! What the examples share: [`runs`] (a run's record, loop and checkpoint), [`folder`] (output
//! folders), [`plot`] and [`cli`].

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
#[cfg(not(target_arch = "wasm32"))]
pub mod cifar_resnet;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod folder;
#[cfg(not(target_arch = "wasm32"))]
pub mod plot;
pub mod resnet9;
pub mod runs;

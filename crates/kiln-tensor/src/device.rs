//! Where a tensor's storage lives.

use std::fmt;

/// The device a tensor lives on. Operations require their operands on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// Host memory; kernels are the CPU reference implementation.
    Cpu,
    /// The process-wide GPU context; kernels are WGSL compute shaders.
    Gpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Gpu => write!(f, "gpu"),
        }
    }
}

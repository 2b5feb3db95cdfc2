//! Choosing the device: on purpose ([`Device::select`]) or from the `KILN_DEVICE` environment
//! variable ([`default_device`]).

use super::context::GpuContext;
use crate::{Device, Error, Result};
use std::sync::Once;

/// The environment variable that selects the device: `auto` (default), `gpu` or `cpu`.
pub const DEVICE_VAR: &str = "KILN_DEVICE";

/// Which device to run on: what a user, a flag or [`DEVICE_VAR`] asks for, before
/// [`Device::select`] turns it into a device. Parses from `auto`, `gpu` and `cpu` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A hardware GPU if there is one, else the CPU (announced once on stderr). A software
    /// rasterizer such as lavapipe is not taken: the CPU device is faster than it.
    #[default]
    Auto,
    /// The best GPU adapter, software ones (lavapipe, SwiftShader) included; an error when
    /// there is none. For tests and CI as much as for GPU machines.
    Gpu,
    /// The CPU kernels.
    Cpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<DeviceChoice> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(DeviceChoice::Auto),
            "gpu" => Ok(DeviceChoice::Gpu),
            "cpu" => Ok(DeviceChoice::Cpu),
            other => Err(Error::invalid(
                "device choice",
                format!("must be auto, gpu or cpu, not {other:?}"),
            )),
        }
    }
}

// ANCHOR: select
impl Device {
    /// The device `choice` asks for, opening the GPU when it is chosen or may be (in the
    /// browser, where the GPU opens only asynchronously, `Auto` and `Gpu` see a GPU once
    /// [`init`] has completed):
    ///
    /// ```
    /// use kiln_tensor::{Device, DeviceChoice};
    ///
    /// assert_eq!(Device::select(DeviceChoice::Cpu).unwrap(), Device::Cpu);
    /// // A GPU, a software one included, or an error saying why there is none.
    /// match Device::select(DeviceChoice::Gpu) {
    ///     Ok(gpu) => println!("running on {}", gpu.describe()),
    ///     Err(e) => println!("no GPU: {e}"),
    /// }
    /// ```
    pub fn select(choice: DeviceChoice) -> Result<Device> {
        match choice {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Gpu => GpuContext::get().map(|_| Device::Gpu),
            DeviceChoice::Auto => Ok(match GpuContext::get() {
                Ok(ctx) if ctx.info().device_type != wgpu::DeviceType::Cpu => Device::Gpu,
                Ok(ctx) => fall_back(&format!(
                    "only the software adapter {} was found",
                    ctx.info().name
                )),
                Err(e) => fall_back(&e.to_string()),
            }),
        }
    }

    /// `cpu`, or `gpu` with its adapter, e.g. `gpu (llvmpipe (LLVM 15.0.6, 256 bits), Vulkan,
    /// Cpu)`.
    pub fn describe(self) -> String {
        match self {
            Device::Cpu => "cpu".into(),
            Device::Gpu => match adapter_summary() {
                Ok(adapter) => format!("gpu ({adapter})"),
                Err(e) => format!("gpu (unavailable: {e})"),
            },
        }
    }
}
// ANCHOR_END: select

// ANCHOR: default_device
/// The device [`DEVICE_VAR`] (`KILN_DEVICE`) chooses, `auto` when it is unset: see
/// [`DeviceChoice`] and [`Device::select`]. An error names the variable and its value when it
/// is none of `auto`, `gpu`, `cpu`.
pub fn default_device() -> Result<Device> {
    let value = std::env::var(DEVICE_VAR).unwrap_or_default();
    let choice = value.parse().map_err(|_| {
        Error::invalid(
            "default_device",
            format!("{DEVICE_VAR} must be auto, gpu or cpu, not {value:?}"),
        )
    })?;
    Device::select(choice)
}
// ANCHOR_END: default_device

/// The CPU device, saying once why `auto` chose it.
fn fall_back(reason: &str) -> Device {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        eprintln!("kiln: no hardware GPU ({reason}); using the CPU device ({DEVICE_VAR}=gpu forces the GPU)");
    });
    Device::Cpu
}

/// Opens the GPU without blocking: in the browser, where nothing can wait for an adapter, the
/// GPU device works once this has completed; an error when no adapter can be opened (the CPU
/// device still works). Natively, the same as the first use of the GPU.
pub async fn init() -> Result<()> {
    GpuContext::init().await.map(|_| ())
}

/// The GPU adapter in use, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)"`, or the
/// error that keeps the GPU device from opening.
pub fn adapter_summary() -> Result<String> {
    let info = GpuContext::get()?.info();
    Ok(format!(
        "{} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    ))
}

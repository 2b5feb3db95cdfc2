//! Choosing the device from the `KILN_DEVICE` environment variable.

use super::context::GpuContext;
use crate::{Device, Error, Result};
use std::sync::Once;

/// The environment variable that selects the device: `auto` (default), `gpu` or `cpu`.
pub const DEVICE_VAR: &str = "KILN_DEVICE";

// ANCHOR: default_device
/// The device to run on, from `KILN_DEVICE`:
///
/// - `auto` (or unset): a hardware GPU if there is one, else the CPU. A software rasterizer
///   such as lavapipe is not taken; the fallback is announced once on stderr.
/// - `gpu`: the best GPU adapter, software ones included; an error when there is none.
/// - `cpu`: the CPU reference kernels.
///
/// In the browser, where the GPU opens only asynchronously, `auto` and `gpu` see a GPU once
/// [`init`] has completed.
pub fn default_device() -> Result<Device> {
    let choice = std::env::var(DEVICE_VAR).unwrap_or_default();
    match choice.trim().to_ascii_lowercase().as_str() {
        "cpu" => Ok(Device::Cpu),
        "gpu" => GpuContext::get().map(|_| Device::Gpu),
        "" | "auto" => Ok(match GpuContext::get() {
            Ok(ctx) if ctx.info().device_type != wgpu::DeviceType::Cpu => Device::Gpu,
            Ok(ctx) => fall_back(&format!(
                "only the software adapter {} was found",
                ctx.info().name
            )),
            Err(e) => fall_back(&e.to_string()),
        }),
        other => Err(Error::invalid(
            "default_device",
            format!("{DEVICE_VAR} must be auto, gpu or cpu, not {other:?}"),
        )),
    }
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

/// The GPU adapter in use, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)"`.
pub fn adapter_summary() -> Result<String> {
    let info = GpuContext::get()?.info();
    Ok(format!(
        "{} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    ))
}

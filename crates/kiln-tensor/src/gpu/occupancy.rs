//! How much parallel work fills the adapter, and how finely a kernel with few outputs splits
//! its long reductions to get there.
//!
//! # The rule
//!
//! A kernel whose outputs alone give few workgroups (a reduction over a long axis into few
//! values, a product with few output blocks and a long K, batch statistics of few channels)
//! cuts each output's work into `splits` chunks, computed by separate workgroups and combined
//! by a second pass. It aims for the adapter's [`target_invocations`] in all, that is
//! `target / invocations per workgroup` workgroups ([`GpuContext::target_workgroups`]), never
//! cutting a chunk below a minimum length that outweighs the cost of its partial result
//! ([`splits`]).
//!
//! The target is what the adapter can run at once, from what it reports (its device type):
//! - a discrete (or virtual, or unknown) GPU: 2^18 invocations, about what an NVIDIA H100
//!   holds resident (132 compute units of 2048 invocations), the GPU these kernels were tuned
//!   on: 1024 workgroups of 256, or 2048 of the matrix product's 128;
//! - an integrated GPU: 2^16, a quarter of that (a few to a few dozen compute units);
//! - a software adapter such as lavapipe, which runs workgroups on CPU threads:
//!   [`CPU_WORKGROUPS_PER_THREAD`] workgroups of [`WORKGROUP`] for each thread the host has,
//!   enough to balance the threads; more splits would only add partials to write and read.
//!
//! [`GpuContext::target_workgroups`]: super::GpuContext::target_workgroups

use super::header::WORKGROUP;

/// Invocations that fill a discrete GPU.
const DISCRETE_INVOCATIONS: usize = 1 << 18;

/// Invocations that fill an integrated GPU.
const INTEGRATED_INVOCATIONS: usize = 1 << 16;

/// Workgroups per host thread that keep a software adapter's threads busy.
const CPU_WORKGROUPS_PER_THREAD: usize = 4;

/// Invocations in flight that fill an adapter of type `device_type` (see the module docs).
pub(super) fn target_invocations(device_type: wgpu::DeviceType) -> usize {
    match device_type {
        wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => {
            DISCRETE_INVOCATIONS
        }
        wgpu::DeviceType::IntegratedGpu => INTEGRATED_INVOCATIONS,
        wgpu::DeviceType::Cpu => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            threads * CPU_WORKGROUPS_PER_THREAD * WORKGROUP
        }
    }
}

// ANCHOR: splits
/// Chunks to cut each of `outputs` workgroups' work of `len` into so that all of them come
/// to about `target` workgroups, and no more chunks than `len / min_chunk` rounded up (so a
/// chunk can fall short of `min_chunk` by up to half): at least 1, and 1 when the outputs
/// alone reach the target.
pub(super) fn splits(target: usize, outputs: usize, len: usize, min_chunk: usize) -> usize {
    target
        .div_ceil(outputs.max(1))
        .min(len.div_ceil(min_chunk.max(1)))
        .max(1)
}
// ANCHOR_END: splits

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fill_the_target_only_where_outputs_are_few() {
        // 4 outputs, long rows: about 1024 workgroups.
        assert_eq!(4 * splits(1024, 4, 1 << 30, 16), 1024);
        // Enough outputs already.
        assert_eq!(splits(1024, 5000, 1 << 30, 16), 1);
        // Short rows are not cut below the minimum chunk.
        assert_eq!(splits(1024, 1, 3 * 16, 16), 3);
        assert_eq!(splits(1024, 0, 0, 0), 1);
    }

    #[test]
    fn a_discrete_gpu_gets_the_tuned_targets() {
        let t = target_invocations(wgpu::DeviceType::DiscreteGpu);
        assert_eq!(t / WORKGROUP, 1024);
        assert_eq!(t / 128, 2048);
        assert!(target_invocations(wgpu::DeviceType::Cpu) >= CPU_WORKGROUPS_PER_THREAD * WORKGROUP);
    }
}

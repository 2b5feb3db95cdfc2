//! GPU time per kernel, measured with timestamp queries: [`profile`] runs a closure and reports
//! what its dispatches cost on the device, and how many submissions and bind groups they took.
//!
//! While profiling, every dispatch runs in a compute pass of its own whose beginning and end
//! write timestamps; the batch is resolved into a buffer and read back after each submission.
//! The closure therefore runs slower than it would otherwise (it waits for the GPU after every
//! submission), but the kernel times are the GPU's own.

use super::context::GpuContext;
use super::readback::{block_on, map_and_read};
use crate::{Error, Result};
use std::collections::HashMap;
use std::fmt;

/// What a profiled closure cost on the GPU.
#[derive(Debug, Clone, Default)]
pub struct GpuProfile {
    /// One entry per kernel, most GPU time first.
    pub kernels: Vec<KernelTime>,
    /// Dispatches recorded.
    pub dispatches: u64,
    /// Command buffers submitted.
    pub submissions: u64,
    /// Bind groups created; the other dispatches reused a cached one.
    pub bind_groups_created: u64,
    /// Tensor buffers created; the other allocations reused a pooled one.
    pub buffers_created: u64,
}

/// The GPU time of one kernel (shader file and entry point), summed over its dispatches.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTime {
    /// `file:entry`, for example `matmul_batched:main`.
    pub kernel: String,
    /// Dispatches.
    pub calls: u64,
    /// Seconds between the beginning and the end of its passes, summed.
    pub seconds: f64,
    /// Floating-point operations done, for the kernels that count them (the GEMMs); else 0.
    pub flops: u64,
}

impl KernelTime {
    /// Throughput in GFLOP/s, for kernels that count their operations.
    pub fn gflops_per_s(&self) -> Option<f64> {
        (self.flops > 0 && self.seconds > 0.0).then(|| self.flops as f64 / self.seconds / 1e9)
    }
}

impl GpuProfile {
    /// GPU time of all kernels, in seconds.
    pub fn seconds(&self) -> f64 {
        self.kernels.iter().map(|k| k.seconds).sum()
    }

    /// The entry of `kernel` (`file:entry`), if it ran.
    pub fn kernel(&self, kernel: &str) -> Option<&KernelTime> {
        self.kernels.iter().find(|k| k.kernel == kernel)
    }
}

impl fmt::Display for GpuProfile {
    /// A table, one kernel per line, then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.seconds();
        writeln!(
            f,
            "{:<40} {:>6} {:>10} {:>6} {:>9}",
            "kernel", "calls", "ms", "%", "GFLOP/s"
        )?;
        for k in &self.kernels {
            let gflops = k
                .gflops_per_s()
                .map_or_else(String::new, |g| format!("{g:.1}"));
            writeln!(
                f,
                "{:<40} {:>6} {:>10.3} {:>6.1} {:>9}",
                k.kernel,
                k.calls,
                k.seconds * 1e3,
                100.0 * k.seconds / total.max(f64::MIN_POSITIVE),
                gflops
            )?;
        }
        write!(
            f,
            "kernels {:.3} ms in total; dispatches {}, submissions {}, bind groups created {}, \
             buffers created {}",
            total * 1e3,
            self.dispatches,
            self.submissions,
            self.bind_groups_created,
            self.buffers_created
        )
    }
}

/// Runs `f` with every GPU dispatch timed, and returns its result with the profile. Work
/// recorded before the call is submitted first and not counted; the profiler is process-wide,
/// so dispatches of other threads during `f` are counted too. An error when the adapter has
/// no timestamp queries, or when profiling is already on.
pub fn profile<R>(f: impl FnOnce() -> Result<R>) -> Result<(R, GpuProfile)> {
    let ctx = GpuContext::get()?;
    ctx.start_profile()?;
    // Profiling ends even if `f` panics: left on, it would time every later dispatch.
    let guard = Finish(ctx);
    let result = f();
    std::mem::forget(guard);
    let profile = ctx.finish_profile();
    Ok((result?, profile?))
}

/// Ends a profile when dropped (while unwinding out of [`profile`]'s closure).
struct Finish(&'static GpuContext);

impl Drop for Finish {
    fn drop(&mut self) {
        let _ = self.0.finish_profile();
    }
}

/// Running counts of what the context created, whose growth a profile reports.
#[derive(Debug, Clone, Copy)]
pub(super) struct Created {
    pub(super) bind_groups: u64,
    pub(super) buffers: u64,
}

/// The profiling state of the context's batch: a timestamp pair per dispatch of the batch.
pub(super) struct Profiler {
    queries: wgpu::QuerySet,
    /// Resolved timestamps (`QUERY_RESOLVE`), copied to `readback` for the host.
    resolved: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period: f64,
    /// For each dispatch timed in the batch, in order: its index in `profile.kernels`.
    pending: Vec<usize>,
    index: HashMap<String, usize>,
    profile: GpuProfile,
    /// The context's creations when profiling started.
    before: Created,
    /// The first error reading timestamps back, reported by [`Profiler::finish`].
    error: Option<String>,
}

impl Profiler {
    /// A profiler for batches of at most `capacity` dispatches.
    pub(super) fn new(
        device: &wgpu::Device,
        period: f32,
        capacity: u32,
        before: Created,
    ) -> Profiler {
        let count = 2 * capacity;
        let bytes = u64::from(count) * u64::from(wgpu::QUERY_SIZE);
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Profiler {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("kiln kernel timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            }),
            resolved: buffer(
                "kiln resolved timestamps",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            readback: buffer(
                "kiln timestamp read-back",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            period: f64::from(period),
            pending: Vec::new(),
            index: HashMap::new(),
            profile: GpuProfile::default(),
            before,
            error: None,
        }
    }

    /// The timestamp writes of the next dispatch's pass, a dispatch of `entry` in `shader`
    /// doing `flops` operations.
    pub(super) fn time(
        &mut self,
        shader: &str,
        entry: &str,
        flops: u64,
    ) -> wgpu::ComputePassTimestampWrites<'_> {
        let name = format!("{shader}:{entry}");
        let kernels = &mut self.profile.kernels;
        let k = *self.index.entry(name).or_insert_with_key(|name| {
            kernels.push(KernelTime {
                kernel: name.clone(),
                calls: 0,
                seconds: 0.0,
                flops: 0,
            });
            kernels.len() - 1
        });
        kernels[k].calls += 1;
        kernels[k].flops += flops;
        self.profile.dispatches += 1;
        let first = 2 * self.pending.len() as u32;
        self.pending.push(k);
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(first),
            end_of_pass_write_index: Some(first + 1),
        }
    }

    /// Records the copy of the batch's timestamps to the read-back buffer (before submission).
    pub(super) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        if self.pending.is_empty() {
            return;
        }
        let count = 2 * self.pending.len() as u32;
        encoder.resolve_query_set(&self.queries, 0..count, &self.resolved, 0);
        let bytes = u64::from(count) * u64::from(wgpu::QUERY_SIZE);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.readback, 0, bytes);
    }

    /// After a submission: waits for it, reads its timestamps and adds them to the kernels (an
    /// error in the browser, which cannot wait).
    pub(super) fn collect(&mut self, device: &wgpu::Device) {
        self.profile.submissions += 1;
        if self.pending.is_empty() {
            return;
        }
        match block_on(map_and_read(device, self.readback.clone())) {
            Ok(bytes) => {
                // A byte vector is not 8-byte aligned for sure: copy rather than cast in place.
                let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
                for (pair, &k) in ticks.chunks_exact(2).zip(&self.pending) {
                    let ns = pair[1].saturating_sub(pair[0]) as f64 * self.period;
                    self.profile.kernels[k].seconds += ns * 1e-9;
                }
            }
            Err(e) => {
                self.error.get_or_insert(e.to_string());
            }
        }
        self.pending.clear();
    }

    /// The profile, kernels sorted by time; `now` are the context's creations so far.
    pub(super) fn finish(mut self, now: Created) -> Result<GpuProfile> {
        if let Some(e) = self.error {
            return Err(Error::Gpu(format!("reading kernel timestamps: {e}")));
        }
        self.profile.bind_groups_created = now.bind_groups - self.before.bind_groups;
        self.profile.buffers_created = now.buffers - self.before.buffers;
        self.profile
            .kernels
            .sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        Ok(self.profile)
    }
}

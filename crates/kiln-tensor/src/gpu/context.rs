//! The process-wide GPU context: adapter, device and queue, the buffer pool, the pipeline and
//! bind group caches, and the command batch that dispatches are recorded into.

use super::bind_groups::BindGroupCache;
use super::buffer::{BufferPool, GpuBuffer, POOL_MIN_CAP};
use super::header::WORKGROUP;
use super::lock;
use super::occupancy;
use super::pipeline::{PipelineCache, Shader};
use super::profile::{Created, Profiler};
use super::readback;
use crate::{Error, Result};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

/// Commands recorded before the batch is submitted without waiting for a sync point: more than
/// a training step of the example's model records, so that a step is one submission.
const MAX_BATCH: u64 = 1024;

// While profiling, every dispatch of a batch takes two timestamps of one query set.
const _: () = assert!(2 * MAX_BATCH <= wgpu::QUERY_SET_MAX_QUERIES as u64);

/// Upload staging memory a batch may hold before it is submitted, in bytes: a staging buffer
/// lives until the copy out of it has run.
const MAX_STAGED: u64 = 256 << 20;

/// Largest parameter block of one dispatch, in bytes.
const MAX_PARAMS: u64 = 256;

/// Largest tensor buffer whatever the adapter allows: 2^30 `f32` elements.
const MAX_TENSOR_BYTES: u64 = 1 << 32;

/// The features the device is opened with where the adapter has them: timestamp queries for
/// the profiler, and WGSL's `f16` and subgroup operations for the opt-in kernel variants
/// ([`super::options`]).
const OPTIONAL_FEATURES: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY
    .union(wgpu::Features::SHADER_F16)
    .union(wgpu::Features::SUBGROUP);

/// Uniform parameter blocks are padded to this many bytes (WGSL uniform struct alignment).
const PARAM_ALIGN: usize = 16;

/// The GPU context: created once, on first use, and shared by every GPU tensor.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    /// Largest tensor buffer, in bytes: the binding and buffer limits and 4 GiB (shaders index
    /// elements with `u32`, and their loops rely on indices staying far from 2^32), rounded
    /// down to 256.
    max_tensor_bytes: u64,
    /// Invocations in flight that fill the adapter ([`occupancy::target_invocations`]).
    target_invocations: usize,
    pool: Arc<BufferPool>,
    pipelines: PipelineCache,
    bind_groups: BindGroupCache,
    batch: Mutex<Batch>,
    /// Ring of `MAX_BATCH` parameter slots, rewritten before each submission.
    params: wgpu::Buffer,
    param_stride: u64,
    /// The first device error not yet reported (validation or out-of-memory).
    device_error: Arc<Mutex<Option<DeviceError>>>,
    /// Why the device was lost, once it was: every later check reports it.
    lost: Arc<Mutex<Option<String>>>,
}

/// A device error raised outside an error scope, kept until the next check.
enum DeviceError {
    OutOfMemory(String),
    Other(String),
}

/// Why the context could not be created (kept, so every later use reports it).
#[derive(Clone)]
enum CreateError {
    NoAdapter { searched: String },
    Open(String),
}

impl From<&CreateError> for Error {
    fn from(e: &CreateError) -> Error {
        match e {
            CreateError::NoAdapter { searched } => Error::NoGpuAdapter {
                searched: searched.clone(),
            },
            CreateError::Open(msg) => Error::Gpu(msg.clone()),
        }
    }
}

/// Commands recorded since the last submission.
#[derive(Default)]
struct Batch {
    /// The compute pass that consecutive dispatches share, open on `encoder` (ended before the
    /// encoder records anything else).
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: Option<wgpu::CommandEncoder>,
    /// Dispatches and copies recorded; a dispatch's parameters take the slot of its index.
    commands: u64,
    params: Vec<u8>,
    /// Bytes of upload staging buffers that the recorded copies read.
    staged: u64,
    /// Timestamps of every dispatch, while [`super::profile`] runs.
    profiler: Option<Profiler>,
}

impl Batch {
    /// The compute pass of the next dispatch: the open one, or a new one (in a new encoder if
    /// needed). While profiling, always a new one whose beginning and end are timestamped, for
    /// a dispatch of `entry` in `shader` doing `flops` operations.
    fn pass_for(
        &mut self,
        device: &wgpu::Device,
        shader: &str,
        entry: &str,
        flops: u64,
    ) -> &mut wgpu::ComputePass<'static> {
        let timestamps = self.profiler.as_mut().map(|p| p.time(shader, entry, flops));
        if timestamps.is_some() {
            self.pass = None;
        }
        match &mut self.pass {
            Some(pass) => pass,
            open => {
                let encoder = self.encoder.get_or_insert_with(|| new_encoder(device));
                open.insert(
                    encoder
                        .begin_compute_pass(&wgpu::ComputePassDescriptor {
                            label: None,
                            timestamp_writes: timestamps,
                        })
                        .forget_lifetime(),
                )
            }
        }
    }

    /// The encoder, with no pass open on it, for commands other than dispatches.
    fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        self.encoder.get_or_insert_with(|| new_encoder(device))
    }
}

static CONTEXT: OnceLock<std::result::Result<GpuContext, CreateError>> = OnceLock::new();

impl GpuContext {
    /// The context, created on the first call; an error when no adapter can be opened. In the
    /// browser, where it cannot be created without waiting, an error until [`GpuContext::init`]
    /// has created it.
    pub(crate) fn get() -> Result<&'static GpuContext> {
        #[cfg(not(target_arch = "wasm32"))]
        let context = CONTEXT.get_or_init(|| pollster::block_on(GpuContext::create()));
        #[cfg(target_arch = "wasm32")]
        let context = CONTEXT.get().ok_or_else(|| {
            Error::Gpu("the GPU is not initialized: await kiln_tensor::gpu::init() first".into())
        })?;
        context.as_ref().map_err(Error::from)
    }

    /// Creates the context unless it exists, without blocking (the browser's way in).
    pub(crate) async fn init() -> Result<&'static GpuContext> {
        if CONTEXT.get().is_none() {
            let created = GpuContext::create().await;
            // A concurrent `init` may have won: either context will do.
            let _ = CONTEXT.set(created);
        }
        GpuContext::get()
    }

    // ANCHOR: create
    async fn create() -> std::result::Result<GpuContext, CreateError> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = adapters(&instance, backends)
            .await
            .into_iter()
            .filter(|a| {
                a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .min_by_key(|a| preference(a.get_info().device_type))
            .ok_or_else(|| CreateError::NoAdapter {
                searched: format!(
                    "{:?}",
                    wgpu::Instance::enabled_backend_features() & backends
                ),
            })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("kiln"),
                required_features: adapter.features() & OPTIONAL_FEATURES,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| CreateError::Open(format!("opening {}: {e}", info.name)))?;
        let device_error = Arc::new(Mutex::new(None));
        let sink = device_error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).get_or_insert_with(|| match e {
                wgpu::Error::OutOfMemory { .. } => DeviceError::OutOfMemory(e.to_string()),
                _ => DeviceError::Other(e.to_string()),
            });
        }));
        let lost = Arc::new(Mutex::new(None));
        let sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            lock(&sink).get_or_insert_with(|| format!("{message} ({reason:?})"));
        });
        let param_stride = MAX_PARAMS.max(limits.min_uniform_buffer_offset_alignment.into());
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln dispatch parameters"),
            size: MAX_BATCH * param_stride,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let max_tensor_bytes = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(MAX_TENSOR_BYTES)
            & !255;
        Ok(GpuContext {
            device,
            queue,
            target_invocations: occupancy::target_invocations(info.device_type),
            info,
            limits,
            max_tensor_bytes,
            pool: Arc::new(BufferPool::new(POOL_MIN_CAP)),
            pipelines: PipelineCache::default(),
            bind_groups: BindGroupCache::default(),
            batch: Mutex::new(Batch::default()),
            params,
            param_stride,
            device_error,
            lost,
        })
    }
    // ANCHOR_END: create

    /// The adapter the context runs on.
    pub(crate) fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Whether the device has `feature` (one of [`OPTIONAL_FEATURES`]).
    pub(crate) fn has(&self, feature: wgpu::Features) -> bool {
        self.device.features().contains(feature)
    }

    /// Nothing when the device has `feature` (spelled `name`, as in WebGPU), else an error
    /// saying that `what` needs it and which adapter lacks it.
    pub(crate) fn require(&self, feature: wgpu::Features, name: &str, what: &str) -> Result<()> {
        if self.has(feature) {
            return Ok(());
        }
        Err(Error::Gpu(format!(
            "{what} needs the adapter's {name} feature, which {} lacks",
            self.info.name
        )))
    }

    /// An uninitialized buffer of `len` elements, from the pool; an error naming the size and
    /// the limit when it exceeds what one storage binding can hold, or when the device is out of
    /// memory even after the pool let go of its free buffers.
    pub(crate) fn alloc(&self, len: usize) -> Result<GpuBuffer> {
        let bytes = (len as u64).saturating_mul(4);
        if bytes > self.max_tensor_bytes {
            return Err(Error::Gpu(format!(
                "a tensor of {len} f32 elements ({bytes} bytes) exceeds the largest tensor \
                 buffer of {} bytes on {}",
                self.max_tensor_bytes, self.info.name
            )));
        }
        self.drop_released_bind_groups();
        let acquire = || {
            self.pool
                .acquire(&self.device, bytes, self.max_tensor_bytes)
        };
        let allocation = match acquire() {
            Ok(allocation) => allocation,
            Err(_) => {
                // Out of memory: let go of the free buffers (and the bind groups holding them),
                // wait until the device is done with them, and try once more.
                self.pool.clear();
                self.bind_groups.clear();
                self.flush();
                let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
                acquire().map_err(|e| Error::GpuOutOfMemory {
                    adapter: self.info.name.clone(),
                    what: format!("a tensor of {bytes} bytes"),
                    detail: e.to_string(),
                })?
            }
        };
        Ok(GpuBuffer::new(allocation, len, self.pool.clone()))
    }

    /// Drops the cached bind groups of the buffers the pool let go since the last call, so that
    /// none keeps their memory alive (called before allocating and before binding).
    fn drop_released_bind_groups(&self) {
        let gone = self.pool.take_let_go();
        if !gone.is_empty() {
            self.bind_groups.forget(&gone);
        }
    }

    /// A new buffer holding `data`, filled by a copy recorded in the batch. (A queue write would
    /// land before the batch's commands, which may still read this recycled buffer, and so
    /// would need a submission first.)
    pub(crate) fn upload(&self, data: &[f32]) -> Result<GpuBuffer> {
        let out = self.alloc(data.len())?;
        if !data.is_empty() {
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln upload"),
                size: out.bytes(),
                usage: wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: true,
            });
            staging
                .get_mapped_range_mut(..)
                .map_err(|e| Error::Gpu(format!("writing the upload buffer: {e}")))?
                .copy_from_slice(bytemuck::cast_slice(data));
            staging.unmap();
            self.record(out.bytes(), |encoder| {
                encoder.copy_buffer_to_buffer(&staging, 0, out.raw(), 0, out.bytes());
            });
        }
        Ok(out)
    }

    /// A new buffer with a copy of `x`'s elements.
    pub(crate) fn duplicate(&self, x: &GpuBuffer) -> Result<GpuBuffer> {
        let out = self.alloc(x.len())?;
        if !x.is_empty() {
            self.record(0, |encoder| {
                encoder.copy_buffer_to_buffer(x.raw(), 0, out.raw(), 0, x.bytes());
            });
        }
        Ok(out)
    }

    // ANCHOR: read
    /// Copies the elements to the host: submits everything recorded and waits for it (natively;
    /// in the browser, an error: use [`GpuContext::read_async`]).
    pub(crate) fn read(&'static self, x: &GpuBuffer) -> Result<Vec<f32>> {
        readback::block_on(self.read_async(x))
    }

    /// Starts copying the elements to the host: submits everything recorded and returns the
    /// future of the elements, which completes once the device has run it.
    pub(crate) fn read_async(
        &'static self,
        x: &GpuBuffer,
    ) -> impl Future<Output = Result<Vec<f32>>> + 'static {
        let mapped = (!x.is_empty()).then(|| {
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln read-back"),
                size: x.bytes(),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.record(0, |encoder| {
                encoder.copy_buffer_to_buffer(x.raw(), 0, &staging, 0, x.bytes());
            });
            self.flush();
            readback::map_and_read(&self.device, staging)
        });
        async move {
            let bytes = match mapped {
                Some(mapped) => mapped.await,
                None => Ok(Vec::new()),
            };
            self.check_device()?;
            Ok(bytemuck::pod_collect_to_vec::<u8, f32>(&bytes?))
        }
    }
    // ANCHOR_END: read

    // ANCHOR: dispatch
    /// Records one dispatch of `entry` in `shader` on `workgroups`, see the module docs for the
    /// binding convention. Nothing waits: the batch is submitted at the next sync point.
    pub(crate) fn dispatch(
        &self,
        shader: &Shader,
        entry: &str,
        buffers: &[&GpuBuffer],
        params: &[u8],
        workgroups: [u32; 3],
    ) -> Result<()> {
        self.dispatch_counted(shader, entry, buffers, params, workgroups, 0)
    }

    /// [`GpuContext::dispatch`] of a kernel that does `flops` floating-point operations, which
    /// the profiler turns into GFLOP/s.
    pub(crate) fn dispatch_counted(
        &self,
        shader: &Shader,
        entry: &str,
        buffers: &[&GpuBuffer],
        params: &[u8],
        workgroups: [u32; 3],
        flops: u64,
    ) -> Result<()> {
        self.check_device()?;
        if workgroups.contains(&0) {
            return Ok(());
        }
        let max = self.limits.max_compute_workgroups_per_dimension;
        if workgroups.iter().any(|&g| g > max) {
            return Err(Error::Gpu(format!(
                "{}.wgsl `{entry}`: {workgroups:?} workgroups exceed the limit of {max} per \
                 dimension",
                shader.name
            )));
        }
        if params.len() as u64 > self.param_stride {
            return Err(Error::Gpu(format!(
                "{}.wgsl `{entry}`: {} bytes of parameters exceed {} bytes",
                shader.name,
                params.len(),
                self.param_stride
            )));
        }
        let pipeline = self.pipelines.get(&self.device, shader, entry)?;
        self.drop_released_bind_groups();
        let mut batch = lock(&self.batch);
        let slot = (!params.is_empty()).then(|| {
            let offset = batch.commands * self.param_stride;
            let size = params.len().next_multiple_of(PARAM_ALIGN);
            batch.params.resize(offset as usize, 0);
            batch.params.extend_from_slice(params);
            batch.params.resize(offset as usize + size, 0);
            (offset, size as u64)
        });
        let bind_group = self
            .bind_groups
            .get(&self.device, &pipeline, buffers, &self.params, slot);
        let pass = batch.pass_for(&self.device, shader.name, entry, flops);
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        let [x, y, z] = workgroups;
        pass.dispatch_workgroups(x, y, z);
        self.count(&mut batch);
        Ok(())
    }
    // ANCHOR_END: dispatch

    /// Workgroups for `count` workgroups' worth of work, folded into `[x, y, 1]` to stay within
    /// the per-dimension limit. Shaders recover the linear workgroup index as
    /// `workgroup_index(wid, nwg)` (`shaders/grid.wgsl`).
    pub(crate) fn grid(&self, count: usize) -> [u32; 3] {
        let max = self.limits.max_compute_workgroups_per_dimension as usize;
        if count <= max {
            return [count as u32, 1, 1];
        }
        [max as u32, count.div_ceil(max) as u32, 1]
    }

    /// Workgroups for one invocation per element of `len`, in groups of [`WORKGROUP`]; the
    /// shader's linear index is `linear_index(gid, nwg)` (`shaders/grid.wgsl`).
    pub(crate) fn grid_for(&self, len: usize) -> [u32; 3] {
        self.grid(len.div_ceil(WORKGROUP))
    }

    /// Workgroups of `invocations` each that fill the adapter: what a kernel that splits its
    /// work aims for ([`super::occupancy`]).
    pub(crate) fn target_workgroups(&self, invocations: usize) -> usize {
        (self.target_invocations / invocations.max(1)).max(1)
    }

    /// Submits the recorded commands without waiting for them.
    pub(crate) fn flush(&self) {
        self.submit(&mut lock(&self.batch));
    }

    /// Records non-dispatch commands (copies) into the current batch, after ending its pass;
    /// `staged` counts the bytes of upload staging buffers they read.
    fn record(&self, staged: u64, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
        let mut batch = lock(&self.batch);
        f(batch.encoder(&self.device));
        batch.staged += staged;
        self.count(&mut batch);
    }

    /// Counts a recorded command, submitting the batch when it is full (in commands or in
    /// staging memory).
    fn count(&self, batch: &mut Batch) {
        batch.commands += 1;
        if batch.commands == MAX_BATCH || batch.staged >= MAX_STAGED {
            self.submit(batch);
        }
    }

    fn submit(&self, batch: &mut Batch) {
        batch.pass = None;
        let Some(mut encoder) = batch.encoder.take() else {
            return;
        };
        if !batch.params.is_empty() {
            self.queue.write_buffer(&self.params, 0, &batch.params);
        }
        if let Some(profiler) = &batch.profiler {
            profiler.resolve(&mut encoder);
        }
        self.queue.submit([encoder.finish()]);
        match &mut batch.profiler {
            Some(profiler) => profiler.collect(&self.device),
            // Frees what finished submissions held, without waiting for the rest.
            None => {
                let _ = self.device.poll(wgpu::PollType::Poll);
            }
        }
        batch.commands = 0;
        batch.params.clear();
        batch.staged = 0;
    }

    /// Starts timing every dispatch (see [`super::profile`]); what was recorded before is
    /// submitted untimed.
    pub(super) fn start_profile(&self) -> Result<()> {
        if !self.has(wgpu::Features::TIMESTAMP_QUERY) {
            return Err(Error::Gpu(format!(
                "{} has no timestamp queries, so kernels cannot be timed",
                self.info.name
            )));
        }
        let mut batch = lock(&self.batch);
        if batch.profiler.is_some() {
            return Err(Error::Gpu("the GPU profiler is already running".into()));
        }
        self.submit(&mut batch);
        batch.profiler = Some(Profiler::new(
            &self.device,
            self.queue.get_timestamp_period(),
            MAX_BATCH as u32,
            self.created(),
        ));
        Ok(())
    }

    /// Submits and times what was recorded, stops timing and returns the profile.
    pub(super) fn finish_profile(&self) -> Result<super::GpuProfile> {
        let mut batch = lock(&self.batch);
        self.submit(&mut batch);
        let profiler = batch
            .profiler
            .take()
            .ok_or_else(|| Error::Gpu("the GPU profiler is not running".into()))?;
        drop(batch);
        self.check_device()?;
        profiler.finish(self.created())
    }

    /// What the context created so far.
    fn created(&self) -> Created {
        Created {
            bind_groups: self.bind_groups.created(),
            buffers: self.pool.created(),
        }
    }

    /// Reports a lost device (every time), or (once) a device error raised since the last
    /// check.
    fn check_device(&self) -> Result<()> {
        if let Some(reason) = lock(&self.lost).clone() {
            return Err(Error::GpuDeviceLost {
                adapter: self.info.name.clone(),
                reason,
            });
        }
        match lock(&self.device_error).take() {
            Some(DeviceError::OutOfMemory(detail)) => Err(Error::GpuOutOfMemory {
                adapter: self.info.name.clone(),
                what: "the work recorded since the last read-back".into(),
                detail,
            }),
            Some(DeviceError::Other(e)) => Err(Error::Gpu(format!(
                "device error on {}: {e}",
                self.info.name
            ))),
            None => Ok(()),
        }
    }
}

/// The adapters to choose from: every one natively; in the browser, the one WebGPU offers
/// (it lists none).
async fn adapters(instance: &wgpu::Instance, backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    #[cfg(not(target_arch = "wasm32"))]
    return instance.enumerate_adapters(backends).await;
    #[cfg(target_arch = "wasm32")]
    {
        let _ = backends;
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        instance
            .request_adapter(&options)
            .await
            .into_iter()
            .collect()
    }
}

fn new_encoder(device: &wgpu::Device) -> wgpu::CommandEncoder {
    device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("kiln batch"),
    })
}

// ANCHOR: preference
/// Adapter preference, lowest first: hardware before virtual before software.
fn preference(ty: wgpu::DeviceType) -> u8 {
    match ty {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}
// ANCHOR_END: preference

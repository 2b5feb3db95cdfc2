//! Chapter 4: a compute shader run with nothing but `wgpu`, every step spelled out.
//!
//! kiln's runtime (`crates/kiln-tensor/src/gpu/`) does the same steps once per process
//! (instance, adapter, device) or caches them (pipelines, buffers); here they are in one place.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

/// An open device and its queue.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter, e.g. `llvmpipe (LLVM 19.1.7, 256 bits) (Vulkan, Cpu)`.
    pub adapter: String,
}

impl Gpu {
    // ANCHOR: open
    /// Opens the adapter wgpu prefers (a hardware GPU before a software one such as lavapipe),
    /// with that adapter's own limits rather than the portable defaults. `None` when no
    /// adapter can run compute shaders.
    pub fn open() -> Option<Gpu> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter =
            pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
                .ok()?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("book"),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .ok()?;
        Some(Gpu {
            device,
            queue,
            adapter: format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type),
        })
    }
    // ANCHOR_END: open

    /// [`Gpu::open`] for tests: `None` after a note on stderr when there is no adapter, or a
    /// panic when the environment sets `KILN_REQUIRE_GPU=1` (as CI does).
    pub fn for_test() -> Option<Gpu> {
        let gpu = Gpu::open();
        if gpu.is_none() {
            if std::env::var("KILN_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("KILN_REQUIRE_GPU=1 but no GPU adapter");
            }
            eprintln!("skipped: no GPU adapter");
        }
        gpu
    }

    /// Copies `buffer` (a `COPY_SRC` buffer of `len` f32) to the host, waiting for the queue.
    // ANCHOR: read_back
    pub fn read_back(&self, buffer: &wgpu::Buffer, len: usize) -> Vec<f32> {
        let bytes = (4 * len) as u64;
        // Storage buffers cannot be mapped: copy into a buffer that can.
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        // Ask for the mapping, then block until the queue has run everything submitted.
        staging.map_async(wgpu::MapMode::Read, .., |result| {
            result.expect("mapping the staging buffer")
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("waiting for the device");
        let data = {
            let view = staging.get_mapped_range(..).expect("mapped");
            bytemuck::pod_collect_to_vec(&view)
        };
        staging.unmap();
        data
    }
    // ANCHOR_END: read_back
}

// ANCHOR: params
/// The uniform block of `saxpy.wgsl`, field for field. `#[repr(C)]` and `Pod` make its bytes
/// exactly what the shader reads; the padding rounds it up to 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SaxpyParams {
    a: f32,
    len: u32,
    _pad: [u32; 2],
}
// ANCHOR_END: params

/// The shader, embedded in the binary.
pub const SAXPY: &str = include_str!("../shaders/saxpy.wgsl");

// ANCHOR: saxpy
/// `a * x + y` computed by `shaders/saxpy.wgsl`.
pub fn saxpy(gpu: &Gpu, a: f32, x: &[f32], y: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), y.len());
    let device = &gpu.device;

    // 1. Buffers: storage buffers initialized from host slices, and a uniform block.
    let storage = |label, data: &[f32], usage| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE | usage,
        })
    };
    let x_buf = storage("x", x, wgpu::BufferUsages::empty());
    let y_buf = storage("y", y, wgpu::BufferUsages::COPY_SRC);
    let params = SaxpyParams {
        a,
        len: x.len() as u32,
        _pad: [0; 2],
    };
    let params_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: bytemuck::bytes_of(&params),
        usage: wgpu::BufferUsages::UNIFORM,
    });

    // 2. Pipeline: WGSL source -> shader module -> compute pipeline. With `layout: None` the
    //    bind group layout is derived from the bindings the entry point uses.
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("saxpy.wgsl"),
        source: wgpu::ShaderSource::Wgsl(SAXPY.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("saxpy"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });

    // 3. Bind group: which buffer sits at which `@binding` of `@group(0)`.
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("saxpy"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: x_buf.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: y_buf.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: params_buf.as_entire_binding(),
            },
        ],
    });

    // 4. Dispatch: one invocation per element, in workgroups of 64 (`@workgroup_size(64)`).
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x.len().div_ceil(64) as u32, 1, 1);
    }
    gpu.queue.submit([encoder.finish()]);

    // 5. Read back (a second submission; the queue runs them in order).
    gpu.read_back(&y_buf, y.len())
}
// ANCHOR_END: saxpy

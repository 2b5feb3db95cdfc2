//! Chapter 5, the steps between the tiled kernel and kiln's: 1-D register tiling
//! (`src/ladder/matmul_1d.wgsl`), then plain 2-D register blocking (`src/ladder/matmul_2d.wgsl`).
//!
//! As in kiln's runtime, the tile shape is a Rust constant that the host writes as WGSL
//! constants into a header in front of the kernel, so that the grid computed here and the
//! block the shader covers cannot disagree. Both kernels take the uniform block of the book's
//! other two (`m`, `n`, `k`, padded to 16 bytes) and the same four bindings.

use crate::Gpu;
use std::time::Instant;
use wgpu::util::DeviceExt;

// ANCHOR: shape
/// A kernel's tile: a workgroup computes a `rows x cols` block of C, staging `depth` values of
/// k at a time, and each invocation a `micro_rows x micro_cols` micro-tile of that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub rows: u32,
    pub cols: u32,
    pub depth: u32,
    pub micro_rows: u32,
    pub micro_cols: u32,
}

/// A step of the ladder: a kernel and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 64 x 32 blocks, a column of 8 outputs per invocation (32 x 8 invocations).
    RegisterTiled1d,
    /// 128 x 64 blocks, 8 x 8 outputs per invocation (8 x 16 invocations): kiln's shape.
    RegisterBlocked2d,
}

impl Step {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Step::RegisterTiled1d => "1-D register tiling (64 × 32 / 8 × 1)",
            Step::RegisterBlocked2d => "2-D register blocking, plain (128 × 64 / 8 × 8)",
        }
    }

    /// Workgroups covering an `m x n` C: one per block, columns along x.
    fn workgroups(self, m: usize, n: usize) -> [u32; 3] {
        let s = self.shape();
        [
            n.div_ceil(s.cols as usize) as u32,
            m.div_ceil(s.rows as usize) as u32,
            1,
        ]
    }

    /// The tile shape.
    pub fn shape(self) -> Shape {
        match self {
            Step::RegisterTiled1d => Shape {
                rows: 64,
                cols: 32,
                depth: 8,
                micro_rows: 8,
                micro_cols: 1,
            },
            Step::RegisterBlocked2d => Shape {
                rows: 128,
                cols: 64,
                depth: 8,
                micro_rows: 8,
                micro_cols: 8,
            },
        }
    }

    /// The WGSL the pipeline compiles: the shape as constants, then the kernel.
    pub fn source(self) -> String {
        let s = self.shape();
        let header = format!(
            "const BM: u32 = {}u;\nconst BN: u32 = {}u;\nconst BK: u32 = {}u;\n\
             const TM: u32 = {}u;\nconst TN: u32 = {}u;\n",
            s.rows, s.cols, s.depth, s.micro_rows, s.micro_cols
        );
        let kernel = match self {
            Step::RegisterTiled1d => include_str!("ladder/matmul_1d.wgsl"),
            Step::RegisterBlocked2d => include_str!("ladder/matmul_2d.wgsl"),
        };
        header + kernel
    }
}
// ANCHOR_END: shape

/// The two steps, in the order of the chapter.
pub const STEPS: [Step; 2] = [Step::RegisterTiled1d, Step::RegisterBlocked2d];

/// A step compiled for one product shape, with its buffers allocated.
pub struct Prepared<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    c: wgpu::Buffer,
    workgroups: [u32; 3],
    len: usize,
}

impl<'g> Prepared<'g> {
    /// Uploads `a` (`[m, k]`) and `b` (`[k, n]`) and builds the pipeline of `step`.
    pub fn new(
        gpu: &'g Gpu,
        step: Step,
        a: &[f32],
        b: &[f32],
        (m, k, n): (usize, usize, usize),
    ) -> Prepared<'g> {
        assert_eq!((a.len(), b.len()), (m * k, k * n), "operand sizes");
        let device = &gpu.device;
        // Zero-sized bindings are invalid: an empty operand gets one element.
        let init = |label, data: &[u8], usage| {
            let data = if data.is_empty() { &[0; 4][..] } else { data };
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: data,
                usage,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE;
        let a = init("a", bytemuck::cast_slice(a), storage);
        let b = init("b", bytemuck::cast_slice(b), storage);
        let zeros = vec![0f32; m * n];
        let c = init(
            "c",
            bytemuck::cast_slice(&zeros),
            storage | wgpu::BufferUsages::COPY_SRC,
        );
        let dims = [m as u32, n as u32, k as u32, 0];
        let dims = init(
            "dims",
            bytemuck::cast_slice(&dims),
            wgpu::BufferUsages::UNIFORM,
        );
        // Compiled as chapter 5's harness compiles the other kernels: without the loop-bound
        // counter, so that the fixed micro-tile loops can be unrolled into registers.
        let checks = wgpu::ShaderRuntimeChecks {
            force_loop_bounding: false,
            ..wgpu::ShaderRuntimeChecks::checked()
        };
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(step.name()),
            source: wgpu::ShaderSource::Wgsl(step.source().into()),
        };
        // SAFETY: every loop of both kernels ends: each runs over a constant range or steps a
        // `u32` by a positive constant towards `k`, far below 2^32.
        let module = unsafe { device.create_shader_module_trusted(desc, checks) };
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(step.name()),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let entries: Vec<_> = [&a, &b, &c, &dims]
            .iter()
            .enumerate()
            .map(|(i, buf)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: buf.as_entire_binding(),
            })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(step.name()),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Prepared {
            gpu,
            pipeline,
            bind_group,
            c,
            workgroups: step.workgroups(m, n),
            len: m * n,
        }
    }

    /// Records `times` dispatches in one command buffer and waits until they have run.
    pub fn run_times(&self, times: usize) {
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            let [x, y, z] = self.workgroups;
            for _ in 0..times {
                pass.dispatch_workgroups(x, y, z);
            }
        }
        self.gpu.queue.submit([encoder.finish()]);
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("waiting for the device");
    }
}

/// `C = A · B` on the GPU with `step`.
pub fn matmul(
    gpu: &Gpu,
    step: Step,
    a: &[f32],
    b: &[f32],
    dims: (usize, usize, usize),
) -> Vec<f32> {
    let prepared = Prepared::new(gpu, step, a, b, dims);
    prepared.run_times(1);
    let mut c = gpu.read_back(&prepared.c, prepared.len.max(1));
    c.truncate(prepared.len);
    c
}

/// GFLOP/s of `step` on `n x n` matrices, timed as `matmul::gflops` times the other kernels:
/// one warm-up product sizes the run, then about `seconds` worth of products in one submission.
pub fn gflops(gpu: &Gpu, step: Step, n: usize, seconds: f64) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 - 2.0).collect();
    let prepared = Prepared::new(gpu, step, &a, &b, (n, n, n));
    let start = Instant::now();
    prepared.run_times(1);
    let reps = (seconds / start.elapsed().as_secs_f64())
        .ceil()
        .clamp(1.0, 1000.0) as usize;
    let start = Instant::now();
    prepared.run_times(reps);
    let per_product = start.elapsed().as_secs_f64() / reps as f64;
    2.0 * (n as f64).powi(3) / per_product / 1e9
}

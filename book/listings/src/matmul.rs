//! Chapter 5: the matrix-product shaders run by one harness, so that they can be checked and
//! timed on equal terms: same buffers, same dispatch path, only the WGSL and the grid differ.

use crate::Gpu;
use bytemuck::{Pod, Zeroable};
use std::time::Instant;
use wgpu::util::DeviceExt;

/// A matrix-product kernel: `C [m, n] = A [m, k] · B [k, n]`, row-major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `shaders/matmul_naive.wgsl` (this crate): one invocation per element of C.
    Naive,
    /// `shaders/matmul_tiled.wgsl` (this crate): 16 x 16 tiles in workgroup memory.
    Tiled,
    /// `src/ladder/matmul_1d.wgsl` (this crate) with the shape [`TILED_1D`]: a column of 8
    /// outputs in registers per invocation.
    RegisterTiled1d,
    /// `src/ladder/matmul_2d.wgsl` (this crate) with the shape [`BLOCKED_2D`]: an 8 x 8
    /// micro-tile in registers per invocation, and nothing else of kiln's kernel.
    RegisterBlocked2d,
    /// kiln's own: the tile shape `shaders/gemm_tile_128x64.wgsl`, the core
    /// `shaders/matmul.wgsl` and `shaders/matmul_batched.wgsl`: 128 x 64 blocks per workgroup
    /// and an 8 x 8 micro-tile in registers per invocation.
    RegisterBlocked,
}

/// The five kernels, in the order of the chapter.
pub const KERNELS: [Kernel; 5] = [
    Kernel::Naive,
    Kernel::Tiled,
    Kernel::RegisterTiled1d,
    Kernel::RegisterBlocked2d,
    Kernel::RegisterBlocked,
];

// ANCHOR: shape
/// The tile of a register-tiled kernel of this crate: a workgroup computes a `rows x cols`
/// block of C, staging `depth` values of k at a time, and each invocation a
/// `micro_rows x micro_cols` micro-tile of that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub rows: u32,
    pub cols: u32,
    pub depth: u32,
    pub micro_rows: u32,
    pub micro_cols: u32,
}

/// Step 3: 64 x 32 blocks, a column of 8 outputs per invocation (32 x 8 invocations).
pub const TILED_1D: Shape = Shape {
    rows: 64,
    cols: 32,
    depth: 8,
    micro_rows: 8,
    micro_cols: 1,
};

/// Step 4: 128 x 64 blocks, 8 x 8 outputs per invocation (8 x 16 invocations): kiln's shape.
pub const BLOCKED_2D: Shape = Shape {
    rows: 128,
    cols: 64,
    depth: 8,
    micro_rows: 8,
    micro_cols: 8,
};

impl Shape {
    /// The WGSL the pipeline compiles: the shape as constants, then `kernel`.
    fn source(self, kernel: &str) -> String {
        let header = format!(
            "const BM: u32 = {}u;\nconst BN: u32 = {}u;\nconst BK: u32 = {}u;\n\
             const TM: u32 = {}u;\nconst TN: u32 = {}u;\n",
            self.rows, self.cols, self.depth, self.micro_rows, self.micro_cols
        );
        header + kernel
    }
}
// ANCHOR_END: shape

/// The uniform block of the book's four shaders (`Dims`), padded to 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Dims {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

// ANCHOR: kiln_params
/// The uniform block of kiln's kernel (`Params` in `shaders/matmul_batched.wgsl`): the GEMM
/// shape and batch count (`Gemm`, 32 bytes, since a struct member of a uniform takes a multiple
/// of 16), then element `(row, kk)` of A at `row * a_row + kk * a_col` and element `(kk, col)`
/// of B at `kk * b_row + col * b_col` (batch strides unused here). Padded to 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct KilnParams {
    m: u32,
    n: u32,
    k: u32,
    k_chunk: u32,
    batch: u32,
    _gemm_pad: [u32; 3],
    a_batch: u32,
    a_row: u32,
    a_col: u32,
    b_batch: u32,
    b_row: u32,
    b_col: u32,
    _pad: [u32; 2],
}
// ANCHOR_END: kiln_params

impl Kernel {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Naive => "naive",
            Kernel::Tiled => "tiled (16 x 16, workgroup memory)",
            Kernel::RegisterTiled1d => "1-D register tiling (64 × 32 / 8 × 1)",
            Kernel::RegisterBlocked2d => "2-D register blocking, plain (128 × 64 / 8 × 8)",
            Kernel::RegisterBlocked => "register-blocked (kiln, 128 x 64 / 8 x 8)",
        }
    }

    /// The WGSL source.
    pub fn source(self) -> String {
        match self {
            Kernel::Naive => include_str!("../shaders/matmul_naive.wgsl").into(),
            Kernel::Tiled => include_str!("../shaders/matmul_tiled.wgsl").into(),
            Kernel::RegisterTiled1d => TILED_1D.source(include_str!("ladder/matmul_1d.wgsl")),
            Kernel::RegisterBlocked2d => BLOCKED_2D.source(include_str!("ladder/matmul_2d.wgsl")),
            // Exactly what kiln's runtime compiles: its generated header (tile shape, workgroup
            // size), the GEMM core and the batched entry point, staging f32.
            Kernel::RegisterBlocked => kiln::tensor::gpu::compiled_shaders()
                .into_iter()
                .find(|(name, _, _)| *name == "matmul_batched")
                .map(|(_, _, wgsl)| wgsl)
                .expect("kiln compiles the batched GEMM"),
        }
    }

    /// The parameter bytes for a product of the given shape.
    fn params(self, m: usize, k: usize, n: usize) -> Vec<u8> {
        let (m, k, n) = (m as u32, k as u32, n as u32);
        match self {
            Kernel::Naive | Kernel::Tiled | Kernel::RegisterTiled1d | Kernel::RegisterBlocked2d => {
                bytemuck::bytes_of(&Dims { m, n, k, _pad: 0 }).into()
            }
            Kernel::RegisterBlocked => bytemuck::bytes_of(&KilnParams {
                m,
                n,
                k,
                k_chunk: k.max(1),
                batch: 1,
                _gemm_pad: [0; 3],
                a_batch: 0,
                a_row: k,
                a_col: 1,
                b_batch: 0,
                b_row: n,
                b_col: 1,
                _pad: [0; 2],
            })
            .into(),
        }
    }

    // ANCHOR: grid
    /// Workgroups covering C, columns along x: one per 16 x 16 block for the naive and tiled
    /// kernels, one per block of their shape for steps 3 and 4, one per 128 x 64 block
    /// (rows x columns) for kiln's.
    fn workgroups(self, m: usize, n: usize) -> [u32; 3] {
        let (rows, cols) = match self {
            Kernel::Naive | Kernel::Tiled => (16, 16),
            Kernel::RegisterTiled1d => (TILED_1D.rows, TILED_1D.cols),
            Kernel::RegisterBlocked2d => (BLOCKED_2D.rows, BLOCKED_2D.cols),
            Kernel::RegisterBlocked => (128, 64),
        };
        [
            n.div_ceil(cols as usize) as u32,
            m.div_ceil(rows as usize) as u32,
            1,
        ]
    }
    // ANCHOR_END: grid
}

/// A kernel compiled for one product shape, with its buffers allocated.
pub struct Prepared<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    c: wgpu::Buffer,
    workgroups: [u32; 3],
    len: usize,
}

impl<'g> Prepared<'g> {
    /// Uploads `a` (`[m, k]`) and `b` (`[k, n]`) and builds the pipeline of `kernel`.
    pub fn new(
        gpu: &'g Gpu,
        kernel: Kernel,
        a: &[f32],
        b: &[f32],
        (m, k, n): (usize, usize, usize),
    ) -> Prepared<'g> {
        assert_eq!((a.len(), b.len()), (m * k, k * n), "operand sizes");
        let device = &gpu.device;
        // Zero-sized bindings are invalid: give empty operands one element.
        let init = |label, data: &[f32], usage| {
            let data = if data.is_empty() { &[0.0][..] } else { data };
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                usage,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE;
        let a = init("a", a, storage);
        let b = init("b", b, storage);
        let c = init(
            "c",
            &vec![0.0; (m * n).max(1)],
            storage | wgpu::BufferUsages::COPY_SRC,
        );
        let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: &kernel.params(m, k, n),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        // Compiled as kiln's runtime compiles its shaders (chapter 4): with every runtime check
        // but the loop-bound counter, which keeps drivers from unrolling the register-blocked
        // kernel's fixed loops.
        let checks = wgpu::ShaderRuntimeChecks {
            force_loop_bounding: false,
            ..wgpu::ShaderRuntimeChecks::checked()
        };
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(kernel.name()),
            source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
        };
        // SAFETY: every loop of the five kernels ends: each runs over a constant range or
        // steps a `u32` by a positive constant towards `k`, far below 2^32.
        let module = unsafe { device.create_shader_module_trusted(desc, checks) };
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.name()),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let buffers = [&a, &b, &c, &params];
        let entries: Vec<_> = buffers
            .iter()
            .enumerate()
            .map(|(i, buf)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: buf.as_entire_binding(),
            })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.name()),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Prepared {
            gpu,
            pipeline,
            bind_group,
            c,
            workgroups: kernel.workgroups(m, n),
            len: m * n,
        }
    }

    /// Records `times` dispatches in one command buffer and submits it (no waiting).
    pub fn submit(&self, times: usize) {
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
    }

    /// Waits until everything submitted has run.
    pub fn wait(&self) {
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("waiting for the device");
    }

    /// Runs the product once and reads C back.
    pub fn run(&self) -> Vec<f32> {
        self.submit(1);
        let mut c = self.gpu.read_back(&self.c, self.len.max(1));
        c.truncate(self.len);
        c
    }
}

/// `C = A · B` on the GPU with `kernel`.
pub fn matmul(
    gpu: &Gpu,
    kernel: Kernel,
    a: &[f32],
    b: &[f32],
    dims: (usize, usize, usize),
) -> Vec<f32> {
    Prepared::new(gpu, kernel, a, b, dims).run()
}

// ANCHOR: gflops
/// GFLOP/s of `kernel` on `n x n` matrices. A product is `2 n³` floating-point operations (a
/// multiply and an add per term). After one warm-up product that also sizes the run, enough
/// products to last about `seconds` are submitted at once and timed from submission to
/// completion, so that per-submission overhead does not count.
pub fn gflops(gpu: &Gpu, kernel: Kernel, n: usize, seconds: f64) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 - 2.0).collect();
    let prepared = Prepared::new(gpu, kernel, &a, &b, (n, n, n));
    let start = Instant::now();
    prepared.submit(1);
    prepared.wait();
    let reps = (seconds / start.elapsed().as_secs_f64())
        .ceil()
        .clamp(1.0, 1000.0) as usize;
    let start = Instant::now();
    prepared.submit(reps);
    prepared.wait();
    let per_product = start.elapsed().as_secs_f64() / reps as f64;
    2.0 * (n as f64).powi(3) / per_product / 1e9
}
// ANCHOR_END: gflops

/// GFLOP/s of kiln's CPU matrix product (`Tensor::matmul` on `Device::Cpu`, which calls the
/// `gemm` crate on every core) on `n x n` matrices, for comparison with the shaders: products
/// are repeated until `seconds` have passed.
pub fn cpu_gflops(n: usize, seconds: f64) -> f64 {
    use kiln::prelude::*;
    let a = Tensor::rand_uniform(&[n, n], -1.0, 1.0, 1);
    let b = Tensor::rand_uniform(&[n, n], -1.0, 1.0, 2);
    a.matmul(&b).expect("warm-up product");
    let start = Instant::now();
    let mut reps = 0;
    while reps == 0 || start.elapsed().as_secs_f64() < seconds {
        a.matmul(&b).expect("product");
        reps += 1;
    }
    let per_product = start.elapsed().as_secs_f64() / reps as f64;
    2.0 * (n as f64).powi(3) / per_product / 1e9
}

/// What a measuring program starts from: the adapter wgpu opens, and the matrix sizes given as
/// the program's arguments (`default` without any).
pub fn gpu_and_sizes(default: &[usize]) -> (Gpu, Vec<usize>) {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("sizes are integers"))
        .collect();
    let gpu = Gpu::open()
        .expect("no GPU adapter (on Linux without a GPU: apt-get install mesa-vulkan-drivers)");
    if sizes.is_empty() {
        (gpu, default.to_vec())
    } else {
        (gpu, sizes)
    }
}

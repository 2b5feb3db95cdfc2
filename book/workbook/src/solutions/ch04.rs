//! Chapter 4, solutions: a folded dispatch grid, a ReLU shader, and host code that runs any
//! one-output compute shader with `wgpu`.

use crate::Gpu;
use wgpu::util::DeviceExt;

/// The ReLU shader of [`crate::ch04`] (`src/solutions/ch04_relu.wgsl`).
pub const RELU_WGSL: &str = include_str!("ch04_relu.wgsl");

/// Workgroups for `count` workgroups' worth of work, as `[x, y, 1]` with `x` and `y` at most
/// `max_per_dim` (a dispatch dimension is limited, to 65535 on most adapters): `[count, 1, 1]`
/// when that fits, otherwise `x = max_per_dim` and just enough rows `y` that `x * y >= count`.
/// A shader recovers the linear workgroup index as `wid.x + wid.y * nwg.x`, and skips the
/// spare workgroups of the last row. `count` must be at most `max_per_dim²`.
pub fn workgroup_grid(count: usize, max_per_dim: u32) -> [u32; 3] {
    let max = max_per_dim as usize;
    assert!(
        count <= max * max,
        "{count} workgroups do not fit a grid of {max} x {max}"
    );
    if count <= max {
        return [count as u32, 1, 1];
    }
    [max_per_dim, count.div_ceil(max) as u32, 1]
}

/// Runs the entry point `entry` of the WGSL source `wgsl` once over `grid` workgroups and
/// returns its output.
///
/// Bindings of `@group(0)`, in order: each of `inputs` as a `var<storage, read>
/// array<f32>` (bindings `0..inputs.len()`), then the output, a `var<storage, read_write>
/// array<f32>` of `output_len` zeros (binding `inputs.len()`), then `params` as the bytes of a
/// `var<uniform>` block (binding `inputs.len() + 1`), zero-padded to a multiple of 16 bytes.
/// Empty inputs and outputs are bound as one element (a binding cannot be empty).
pub fn run_compute(
    gpu: &Gpu,
    wgsl: &str,
    entry: &str,
    inputs: &[&[f32]],
    output_len: usize,
    params: &[u8],
    grid: [u32; 3],
) -> Vec<f32> {
    let device = &gpu.device;
    let storage = |label: &str, data: &[f32], usage| {
        let data = if data.is_empty() { &[0.0][..] } else { data };
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE | usage,
        })
    };
    let input_buffers: Vec<wgpu::Buffer> = inputs
        .iter()
        .map(|x| storage("input", x, wgpu::BufferUsages::empty()))
        .collect();
    let output = storage(
        "output",
        &vec![0.0; output_len],
        wgpu::BufferUsages::COPY_SRC,
    );
    let mut uniform = params.to_vec();
    uniform.resize(params.len().div_ceil(16).max(1) * 16, 0);
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: &uniform,
        usage: wgpu::BufferUsages::UNIFORM,
    });

    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(entry),
        source: wgpu::ShaderSource::Wgsl(wgsl.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    });
    let buffers: Vec<&wgpu::Buffer> = input_buffers.iter().chain([&output, &uniform]).collect();
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, buffer)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(entry),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });

    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        let [x, y, z] = grid;
        pass.dispatch_workgroups(x, y, z);
    }
    gpu.queue.submit([encoder.finish()]);
    let mut out = gpu.read_back(&output, output_len.max(1));
    out.truncate(output_len);
    out
}

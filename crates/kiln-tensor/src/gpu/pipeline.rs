//! WGSL shaders embedded in the binary, and the cache that compiles each entry point once.

use super::error_scope;
use super::header::header;
use super::lock;
use super::matmul::Tile;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A WGSL shader: files of `shaders/` embedded at compile time, compiled after the generated
/// header of shared constants ([`header`]). Build one with [`shader!`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shader {
    /// The main file's name without `.wgsl`; with the entry point, the pipeline cache key.
    pub(crate) name: &'static str,
    /// The files concatenated into `source`, in order, without `.wgsl`.
    pub(crate) files: &'static [&'static str],
    /// The files' WGSL.
    pub(crate) source: &'static str,
    /// The tile shape a GEMM-core shader is compiled for (declared in its header).
    pub(crate) tile: Option<Tile>,
}

impl Shader {
    /// The WGSL that is compiled: the generated header, then the files.
    pub(crate) fn wgsl(&self) -> String {
        header(self.tile) + self.source
    }
}

// ANCHOR: shader_macro
/// `shader!("layout")` is the [`Shader`] of `shaders/layout.wgsl`;
/// `shader!("reduce", requires: ["nan"])` compiles `shaders/reduce.wgsl` after the files its
/// `// requires:` line names, here `shaders/nan.wgsl`. Either is compiled after the generated
/// header of shared constants.
macro_rules! shader {
    ($name:literal $(, requires: [$($part:literal),+])?) => {
        $crate::gpu::pipeline::Shader {
            name: $name,
            files: &[$($($part,)+)? $name],
            source: concat!(
                $($(include_str!(concat!("../../shaders/", $part, ".wgsl")),)+)?
                include_str!(concat!("../../shaders/", $name, ".wgsl"))
            ),
            tile: None,
        }
    };
}
// ANCHOR_END: shader_macro
pub(crate) use shader;

/// A compiled entry point and the layout of its bind group 0.
pub(crate) struct Pipeline {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// Compiled shader modules and compute pipelines, keyed by shader name and entry point.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    /// By shader name, then entry point (looked up without allocating).
    pipelines: Mutex<HashMap<&'static str, HashMap<String, Arc<Pipeline>>>>,
}

impl PipelineCache {
    // ANCHOR: get
    /// The pipeline of `entry` in `shader`, compiled on first use. Its bind group layout is
    /// derived from the bindings the entry point uses.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        shader: &Shader,
        entry: &str,
    ) -> Result<Arc<Pipeline>> {
        let cached = lock(&self.pipelines);
        if let Some(p) = cached
            .get(shader.name)
            .and_then(|entries| entries.get(entry))
        {
            return Ok(p.clone());
        }
        drop(cached);
        // Labelled `shader:entry`, so that the driver's messages name the kernel.
        let label = format!("{}:{entry}", shader.name);
        let pipeline = error_scope::catching(device, wgpu::ErrorFilter::Validation, || {
            let module = lock(&self.modules)
                .entry(shader.name)
                .or_insert_with(|| compile(device, shader))
                .clone();
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        })
        .map_err(|e| {
            // A module that failed to compile is not kept: the next try reports its error
            // again, not an invalid module.
            lock(&self.modules).remove(shader.name);
            Error::Gpu(format!(
                "compiling shader `{}` ({}.wgsl after the generated header) entry point `{entry}`: {e}",
                shader.name,
                shader.files.join(".wgsl, ")
            ))
        })?;
        let layout = pipeline.get_bind_group_layout(0);
        let pipeline = Arc::new(Pipeline { pipeline, layout });
        lock(&self.pipelines)
            .entry(shader.name)
            .or_default()
            .insert(entry.to_string(), pipeline.clone());
        Ok(pipeline)
    }
    // ANCHOR_END: get
}

/// Compiles `shader` with wgpu's runtime checks except the loop bound: by default naga adds a
/// counter to every loop so that a loop that never ends cannot hang the device, and that
/// counter keeps the driver from unrolling our kernels' fixed-length loops.
fn compile(device: &wgpu::Device, shader: &Shader) -> wgpu::ShaderModule {
    let checks = wgpu::ShaderRuntimeChecks {
        force_loop_bounding: false,
        ..wgpu::ShaderRuntimeChecks::checked()
    };
    // SAFETY: every loop in `shaders/` ends. Each one runs over a compile-time constant range,
    // halves a positive constant or the subgroup size down to zero, counts a rank down to zero,
    // or steps a `u32` by a positive amount (a constant, the subgroup size, or `256 / tx` with
    // `1 <= tx <= 256`) towards a bound below 2^32 - 256 (tensors are at most 2^30 elements,
    // `GpuContext::alloc`), so it cannot wrap.
    // Bounds and division checks stay on.
    unsafe {
        device.create_shader_module_trusted(
            wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(shader.wgsl().into()),
            },
            checks,
        )
    }
}

/// Every shader the runtime compiles: its name, its files of `shaders/` (in order, without
/// `.wgsl`) and the WGSL exactly as compiled, the generated header of shared constants first.
/// The GEMM kernels come twice, staging `f32` and staging `f16` (named `<name>_f16`, WGSL's
/// `f16` enabled: [`super::MatmulPrecision`]).
/// For reading, validating or timing kiln's kernels outside its runtime.
pub fn compiled_shaders() -> Vec<(&'static str, &'static [&'static str], String)> {
    let shaders = [
        super::elementwise::FILL,
        super::elementwise::ELEMENTWISE,
        super::reduce::SHADER,
        super::softmax::SHADER,
        super::batch_norm::SHADER,
        super::batch_norm::SHADER_SUBGROUPS,
        super::pooling::SHADER,
        super::layer_norm::SHADER,
        super::layout::SHADER,
        super::optim::SHADER,
        super::random::SHADER,
        super::matmul::REDUCE_SPLITS,
    ];
    let gemm_kernels = [
        &super::matmul::MATMUL,
        &super::matmul::MATMUL_FEW_ROWS,
        &super::conv::FORWARD,
        &super::conv::BACKWARD_DATA,
        &super::conv::BACKWARD_DATA_FEW_ROWS,
        &super::conv::BACKWARD_WEIGHT,
    ];
    let gemm_shaders = gemm_kernels
        .into_iter()
        .flat_map(|k| [&k.shader, &k.shader_f16]);
    shaders
        .iter()
        .chain(gemm_shaders)
        .map(|s| (s.name, s.files, s.wgsl()))
        .collect()
}

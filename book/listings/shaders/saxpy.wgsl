// y = a * x + y, one invocation per element: the first compute shader of chapter 4.

// ANCHOR: all
struct Params {
    a: f32,
    len: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    // The last workgroup may run past the end: every invocation checks its index.
    if i < params.len {
        y[i] = params.a * x[i] + y[i];
    }
}
// ANCHOR_END: all

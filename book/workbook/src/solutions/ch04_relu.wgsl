// y = max(x, 0) elementwise, NaN kept (kiln never turns NaN into a number), one invocation per
// element in workgroups of 256, over a grid that may be folded over x and y.

struct Params {
    len: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// NaN recognized from its bits: WGSL's max() may return either operand for a NaN, and a driver
// may fold `v != v` to false.
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // Rows of the folded grid hold nwg.x workgroups of 256 invocations each.
    let i = gid.x + gid.y * nwg.x * 256u;
    if i < params.len {
        let v = x[i];
        y[i] = select(0.0, v, v > 0.0 || is_nan(v));
    }
}

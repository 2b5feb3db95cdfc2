// requires: grid.wgsl
// Fill: every element of `out` set to one value.

struct Params {
    len: u32,
    value: f32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < params.len {
        out[i] = params.value;
    }
}

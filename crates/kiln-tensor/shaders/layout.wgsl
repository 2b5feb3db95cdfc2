// requires: grid.wgsl
// Axis permutation: output element i gathers the input element at the same coordinates,
// reordered. The host collapses axes that stay adjacent, so at most MAX_RANK remain.

struct Params {
    len: u32,
    rank: u32,
    _pad0: u32,
    _pad1: u32,
    // Output dimensions, and the input stride of each output axis.
    dims: array<vec4<u32>, MAX_RANK / 4u>,
    strides: array<vec4<u32>, MAX_RANK / 4u>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn permute(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= params.len {
        return;
    }
    var rem = i;
    var src = 0u;
    for (var d = params.rank; d > 0u; d--) {
        let k = d - 1u;
        let dim = params.dims[k / 4u][k % 4u];
        src += (rem % dim) * params.strides[k / 4u][k % 4u];
        rem = rem / dim;
    }
    out[i] = x[src];
}

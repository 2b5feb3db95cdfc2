// requires: grid.wgsl
// Sums the split-K partials of a GEMM-core kernel (matmul.wgsl) that wrote them as
// [splits, len]: out[i] = sum_s partial[s * len + i].
// One invocation per element; the workgroup grid may be folded over x and y.

struct Params {
    len: u32,
    splits: u32,
}

@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= params.len {
        return;
    }
    var sum = 0.0;
    for (var s = 0u; s < params.splits; s++) {
        sum += partial[s * params.len + i];
    }
    out[i] = sum;
}

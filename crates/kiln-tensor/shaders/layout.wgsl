// requires: grid.wgsl
// Axis permutation: output element i gathers the input element at the same coordinates,
// reordered. The host collapses axes that stay adjacent, so at most MAX_RANK remain.
// Block copy (concatenation, slicing): with both tensors viewed as [outer, axis, inner], rows
// src_start.. of the source's axis go to rows dst_start.. of the destination's, in place.

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

struct SlabParams {
    outer: u32,
    inner: u32,
    len: u32,
    src_axis: u32,
    src_start: u32,
    dst_axis: u32,
    dst_start: u32,
    _pad: u32,
}

// copy_slab: x -> out (in place)
@group(0) @binding(2) var<uniform> slab: SlabParams;

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

@compute @workgroup_size(WG)
fn copy_slab(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let run = slab.len * slab.inner;
    if i >= slab.outer * run {
        return;
    }
    let o = i / run;
    let r = i % run;
    out[(o * slab.dst_axis + slab.dst_start) * slab.inner + r] =
        x[(o * slab.src_axis + slab.src_start) * slab.inner + r];
}

// Reductions: sum or max of `[outer, len, inner]` over the middle axis, and row-wise argmax.
//
// A reduction workgroup is 256 invocations arranged as `tx` output columns (adjacent `inner`
// indices, so reads coalesce) by `256 / tx` lanes striding along `len`; the lanes are then
// combined by a tree in workgroup memory. When few outputs have long rows, the host splits
// `len` into `splits` chunks of `chunk`: each workgroup writes a partial to
// `[outer, splits, inner]`, and a second dispatch reduces those.

const WG: u32 = 256u;

struct ReduceParams {
    outer: u32,
    len: u32,
    inner: u32,
    tx: u32,
    splits: u32,
    chunk: u32,
    // 0: sum, 1: max
    op: u32,
    _pad: u32,
}

struct ArgmaxParams {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: ReduceParams;
@group(0) @binding(2) var<uniform> argmax_params: ArgmaxParams;

var<workgroup> scratch: array<f32, WG>;
var<workgroup> scratch_index: array<u32, WG>;

fn identity(op: u32) -> f32 {
    if op == 1u {
        return bitcast<f32>(0xff800000u); // -inf
    }
    return 0.0;
}

fn combine(op: u32, u: f32, v: f32) -> f32 {
    if op == 1u {
        return max(u, v);
    }
    return u + v;
}

@compute @workgroup_size(256)
fn reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let op = params.op;
    let tx = params.tx;
    let lanes = WG / tx;
    let group = wid.x + wid.y * nwg.x;
    let col_blocks = (params.inner + tx - 1u) / tx;
    let per_outer = col_blocks * params.splits;
    let o = group / per_outer;
    let split = (group % per_outer) / col_blocks;
    let col = (group % col_blocks) * tx + l % tx;
    let lane = l / tx;
    let live = o < params.outer && col < params.inner;

    var acc = identity(op);
    if live {
        let start = split * params.chunk;
        let end = min(params.len, start + params.chunk);
        let base = o * params.len * params.inner + col;
        for (var j = start + lane; j < end; j += lanes) {
            acc = combine(op, acc, x[base + j * params.inner]);
        }
    }
    scratch[l] = acc;
    workgroupBarrier();
    for (var s = lanes / 2u; s > 0u; s = s / 2u) {
        if lane < s {
            scratch[l] = combine(op, scratch[l], scratch[l + s * tx]);
        }
        workgroupBarrier();
    }
    if live && lane == 0u {
        out[(o * params.splits + split) * params.inner + col] = scratch[l];
    }
}

// Whether candidate (v, i) beats (best, best_i): larger, or equal and earlier. `cols` marks
// "no candidate yet".
fn beats(v: f32, i: u32, best: f32, best_i: u32, cols: u32) -> bool {
    if i == cols {
        return false;
    }
    return best_i == cols || v > best || (v == best && i < best_i);
}

// One workgroup per row; the first index of the largest value, written as f32.
@compute @workgroup_size(256)
fn argmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let cols = argmax_params.cols;
    let row = wid.x + wid.y * nwg.x;
    var best = 0.0;
    var best_i = cols;
    if row < argmax_params.rows {
        for (var j = l; j < cols; j += WG) {
            let v = x[row * cols + j];
            if beats(v, j, best, best_i, cols) {
                best = v;
                best_i = j;
            }
        }
    }
    scratch[l] = best;
    scratch_index[l] = best_i;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if l < s && beats(scratch[l + s], scratch_index[l + s], scratch[l], scratch_index[l], cols) {
            scratch[l] = scratch[l + s];
            scratch_index[l] = scratch_index[l + s];
        }
        workgroupBarrier();
    }
    if row < argmax_params.rows && l == 0u {
        out[row] = f32(select(scratch_index[0], 0u, scratch_index[0] == cols));
    }
}

// requires: nan.wgsl, grid.wgsl
// Reductions: sum or max of `[outer, len, inner]` over the middle axis, and row-wise argmax
// (`[rows, cols]` is `[rows, cols, 1]`). NaN propagates as on the CPU: a maximum over values
// that include NaN is NaN, and argmax points at a row's first NaN.
//
// A workgroup is WG invocations arranged as `tx` outputs by `WG / tx` lanes: the outputs are
// consecutive in the flattened `[outer, inner]` order (adjacent columns, so reads coalesce),
// the lanes stride along `len`, and a tree in workgroup memory then combines the lanes of each
// output. The host picks `tx` so that short rows do not leave lanes idle. When few outputs
// have long rows, it also splits `len` into `splits` chunks of `chunk`: each workgroup writes
// a partial to `[outer, splits, inner]`, and a second dispatch reduces those.

struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    tx: u32,
    splits: u32,
    chunk: u32,
    // REDUCE_SUM or REDUCE_MAX (argmax ignores it)
    op: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> scratch: array<f32, WG>;
var<workgroup> scratch_index: array<u32, WG>;

// Where one invocation works: output (o, col), its lane, and its chunk of `len`.
struct Slot {
    live: bool,
    o: u32,
    col: u32,
    lane: u32,
    split: u32,
    start: u32,
    end: u32,
}

fn slot(wid: vec3<u32>, nwg: vec3<u32>, l: u32) -> Slot {
    let group = workgroup_index(wid, nwg);
    let blocks = (params.outer * params.inner + params.tx - 1u) / params.tx;
    let split = group / blocks;
    let q = (group % blocks) * params.tx + l % params.tx;
    let start = split * params.chunk;
    return Slot(
        split < params.splits && q < params.outer * params.inner,
        q / params.inner,
        q % params.inner,
        l / params.tx,
        split,
        start,
        min(params.len, start + params.chunk),
    );
}

// The combination of `u` and `v` by `op`; NaN for an op without a case here.
fn combine(op: u32, u: f32, v: f32) -> f32 {
    switch op {
        case REDUCE_SUM: { return u + v; }
        case REDUCE_MAX: { return max_nan(u, v); }
        default: { return nan(); }
    }
}

// What `op` starts from: 0 for a sum, -inf for a maximum, NaN for an op without a case here.
fn identity(op: u32) -> f32 {
    switch op {
        case REDUCE_SUM: { return 0.0; }
        case REDUCE_MAX: { return neg_inf(); }
        default: { return nan(); }
    }
}

@compute @workgroup_size(WG)
fn reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let op = params.op;
    let lanes = WG / params.tx;
    let s = slot(wid, nwg, l);
    var acc = identity(op);
    if s.live {
        let base = s.o * params.len * params.inner + s.col;
        for (var j = s.start + s.lane; j < s.end; j += lanes) {
            acc = combine(op, acc, x[base + j * params.inner]);
        }
    }
    scratch[l] = acc;
    workgroupBarrier();
    for (var k = lanes / 2u; k > 0u; k = k / 2u) {
        if s.lane < k {
            scratch[l] = combine(op, scratch[l], scratch[l + k * params.tx]);
        }
        workgroupBarrier();
    }
    if s.live && s.lane == 0u {
        out[(s.o * params.splits + s.split) * params.inner + s.col] = scratch[l];
    }
}

// Whether candidate (v, i) beats (best, best_i): NaN beats every number, then the larger value
// wins, then (equal values, or both NaN) the earlier index. `none` marks "no candidate".
fn beats(v: f32, i: u32, best: f32, best_i: u32, none: u32) -> bool {
    if i == none {
        return false;
    }
    if best_i == none {
        return true;
    }
    let v_nan = is_nan(v);
    let best_nan = is_nan(best);
    if v_nan != best_nan {
        return v_nan;
    }
    return (!v_nan && v > best) || ((v_nan || v == best) && i < best_i);
}

// The first index of the largest value of each row (`len` values, `inner` = 1), as f32.
@compute @workgroup_size(WG)
fn argmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let lanes = WG / params.tx;
    let none = params.len;
    let s = slot(wid, nwg, l);
    var best = 0.0;
    var best_i = none;
    if s.live {
        for (var j = s.lane; j < params.len; j += lanes) {
            let v = x[s.o * params.len + j];
            if beats(v, j, best, best_i, none) {
                best = v;
                best_i = j;
            }
        }
    }
    scratch[l] = best;
    scratch_index[l] = best_i;
    workgroupBarrier();
    for (var k = lanes / 2u; k > 0u; k = k / 2u) {
        let other = l + k * params.tx;
        if s.lane < k && beats(scratch[other], scratch_index[other], scratch[l], scratch_index[l], none) {
            scratch[l] = scratch[other];
            scratch_index[l] = scratch_index[other];
        }
        workgroupBarrier();
    }
    if s.live && s.lane == 0u {
        out[s.o] = f32(select(scratch_index[l], 0u, scratch_index[l] == none));
    }
}

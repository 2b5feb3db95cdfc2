// requires: nan.wgsl, grid.wgsl
// Row-wise log-softmax and the fused softmax cross-entropy (with label smoothing), one
// workgroup per row of [rows, cols]: the row max and the sum of exp(x - max) are workgroup
// tree reductions, so exp never overflows. A row that holds NaN has a NaN maximum and comes out all NaN, as on the
// CPU.

struct Params {
    rows: u32,
    cols: u32,
    // Label smoothing s of cross_entropy (0 for log_softmax).
    smoothing: f32,
    _pad: u32,
}

// log_softmax: x -> out
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params2: Params;

// cross_entropy: x, labels -> dlogits, row_loss (each row's loss / rows)
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(4) var<uniform> params4: Params;

var<workgroup> scratch: array<f32, WG>;

// Tree-reduces the invocations' values (max when `take_max`, else sum) for the whole group.
fn tree(l: u32, value: f32, take_max: bool) -> f32 {
    scratch[l] = value;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if l < s {
            if take_max {
                scratch[l] = max_nan(scratch[l], scratch[l + s]);
            } else {
                scratch[l] += scratch[l + s];
            }
        }
        workgroupBarrier();
    }
    let result = scratch[0];
    workgroupBarrier();
    return result;
}

// max + ln Σ exp(x - max) of `row` (0 for an out-of-range row); NaN when the row holds NaN.
fn log_sum_exp(p: Params, row: u32, l: u32) -> f32 {
    let live = row < p.rows;
    let base = row * p.cols;
    var m = neg_inf();
    if live {
        for (var j = l; j < p.cols; j += WG) {
            m = max_nan(m, x[base + j]);
        }
    }
    m = tree(l, m, true);
    var s = 0.0;
    if live {
        for (var j = l; j < p.cols; j += WG) {
            s += exp(x[base + j] - m);
        }
    }
    s = tree(l, s, false);
    return select(m + log(s), m, is_nan(m));
}

@compute @workgroup_size(WG)
fn log_softmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let p = params2;
    let row = workgroup_index(wid, nwg);
    let lse = log_sum_exp(p, row, l);
    if row < p.rows {
        for (var j = l; j < p.cols; j += WG) {
            out[row * p.cols + j] = x[row * p.cols + j] - lse;
        }
    }
}

@compute @workgroup_size(WG)
fn cross_entropy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let p = params4;
    let row = workgroup_index(wid, nwg);
    let lse = log_sum_exp(p, row, l);
    let s = p.smoothing;
    // With smoothing, the row's mean logit: mean_j(-log p_j) = lse - mean_j x_j.
    var mean_x = 0.0;
    if s != 0.0 {
        var sum = 0.0;
        if row < p.rows {
            for (var j = l; j < p.cols; j += WG) {
                sum += x[row * p.cols + j];
            }
        }
        mean_x = tree(l, sum, false) / f32(p.cols);
    }
    if row < p.rows {
        let scale = 1.0 / f32(p.rows);
        let label = labels[row];
        let uniform = s / f32(p.cols);
        for (var j = l; j < p.cols; j += WG) {
            let aim = select(uniform, 1.0 - s + uniform, j == label);
            dlogits[row * p.cols + j] = (exp(x[row * p.cols + j] - lse) - aim) * scale;
        }
        if l == 0u {
            let nll = lse - x[row * p.cols + label];
            let loss = select((1.0 - s) * nll + s * (lse - mean_x), nll, s == 0.0);
            row_loss[row] = loss * scale;
        }
    }
}

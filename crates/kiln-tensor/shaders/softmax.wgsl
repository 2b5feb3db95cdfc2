// requires: nan.wgsl, grid.wgsl
// Row-wise log-softmax and the fused softmax cross-entropy (with label smoothing), one
// workgroup per row of [rows, cols]: the row max and the sum of exp(x - max) are workgroup
// tree reductions, so exp never overflows. Log-probabilities are (x - max) - ln Σ exp(x - max),
// as on the CPU: adding ln Σ to a large max first would round it away (logits of 1e7). A row
// that holds NaN has a NaN maximum and comes out all NaN, as on the CPU.

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

// (max, ln Σ exp(x - max)) of `row` (0 for an out-of-range row); both NaN when the row holds
// NaN.
fn max_and_log_sum(p: Params, row: u32, l: u32) -> vec2<f32> {
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
    return vec2(m, select(log(s), m, is_nan(m)));
}

// log p_j of element `j` of `row`, given the row's (max, ln Σ exp(x - max)).
fn log_prob(p: Params, row: u32, j: u32, ml: vec2<f32>) -> f32 {
    return (x[row * p.cols + j] - ml.x) - ml.y;
}

@compute @workgroup_size(WG)
fn log_softmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let p = params2;
    let row = workgroup_index(wid, nwg);
    let ml = max_and_log_sum(p, row, l);
    if row < p.rows {
        for (var j = l; j < p.cols; j += WG) {
            out[row * p.cols + j] = log_prob(p, row, j, ml);
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
    let ml = max_and_log_sum(p, row, l);
    let s = p.smoothing;
    // With smoothing, the row's mean log-probability mean_j log p_j.
    var mean_log_p = 0.0;
    if s != 0.0 {
        var sum = 0.0;
        if row < p.rows {
            for (var j = l; j < p.cols; j += WG) {
                sum += log_prob(p, row, j, ml);
            }
        }
        mean_log_p = tree(l, sum, false) / f32(p.cols);
    }
    if row < p.rows {
        let scale = 1.0 / f32(p.rows);
        let label = labels[row];
        let uniform = s / f32(p.cols);
        for (var j = l; j < p.cols; j += WG) {
            let aim = select(uniform, 1.0 - s + uniform, j == label);
            dlogits[row * p.cols + j] = (exp(log_prob(p, row, j, ml)) - aim) * scale;
        }
        if l == 0u {
            let nll = -log_prob(p, row, label, ml);
            let loss = select((1.0 - s) * nll - s * mean_log_p, nll, s == 0.0);
            row_loss[row] = loss * scale;
        }
    }
}

// requires: grid.wgsl
// Layer normalization of each row of x viewed as [rows, cols], with per-column gamma and beta.
// `forward` and `backward_data` give each row a workgroup, whose row sums are tree reductions
// in workgroup memory: the mean, then the variance about it (two passes, as on the CPU), or
// the two sums of the input gradient. The parameter gradients are column sums over the rows, in
// two passes: `params_partial` gives each (block of `chunk` rows, column) pair an invocation,
// and `params_finalize` adds each column's blocks in order. See cpu/layer_norm.rs for the
// formulas.

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    // Rows per block of the parameter gradients' first pass.
    chunk: u32,
}

// forward: x, gamma, beta -> y, mean, rstd
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(6) var<uniform> params6: Params;

// backward_data: x, gamma, mean, rstd, gy -> gx
@group(0) @binding(2) var<storage, read> mean_in: array<f32>;
@group(0) @binding(3) var<storage, read> rstd_in: array<f32>;
@group(0) @binding(4) var<storage, read> gy: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;
// params6 at binding 6, as for forward.

// params_partial: x, mean, rstd, gy -> partials [blocks, cols] of (Σ gy x_hat, Σ gy)
@group(0) @binding(1) var<storage, read> mean_p: array<f32>;
@group(0) @binding(2) var<storage, read> rstd_p: array<f32>;
@group(0) @binding(3) var<storage, read> gy_p: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials_out: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> params5: Params;

// params_finalize: partials -> dgamma, dbeta
@group(0) @binding(0) var<storage, read> partials_in: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(3) var<uniform> params3: Params;

var<workgroup> scratch: array<vec2<f32>, WG>;

// The sums of the invocations' `value`s, for the whole group.
fn tree(l: u32, value: vec2<f32>) -> vec2<f32> {
    scratch[l] = value;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if l < s {
            scratch[l] += scratch[l + s];
        }
        workgroupBarrier();
    }
    let total = scratch[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let p = params6;
    let row = workgroup_index(wid, nwg);
    let live = row < p.rows;
    let base = row * p.cols;
    let count = f32(p.cols);
    var sum = 0.0;
    if live {
        for (var j = l; j < p.cols; j += WG) {
            sum += x[base + j];
        }
    }
    let mean = tree(l, vec2(sum, 0.0)).x / count;
    var squares = 0.0;
    if live {
        for (var j = l; j < p.cols; j += WG) {
            let d = x[base + j] - mean;
            squares += d * d;
        }
    }
    let rstd = 1.0 / sqrt(tree(l, vec2(squares, 0.0)).x / count + p.eps);
    if live {
        for (var j = l; j < p.cols; j += WG) {
            y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j];
        }
        if l == 0u {
            mean_out[row] = mean;
            rstd_out[row] = rstd;
        }
    }
}

@compute @workgroup_size(WG)
fn backward_data(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    let p = params6;
    let row = workgroup_index(wid, nwg);
    let live = row < p.rows;
    let base = row * p.cols;
    var mean = 0.0;
    var rstd = 0.0;
    var sums = vec2(0.0);
    if live {
        mean = mean_in[row];
        rstd = rstd_in[row];
        for (var j = l; j < p.cols; j += WG) {
            let g = gy[base + j] * gamma[j];
            sums += vec2(g, g * (x[base + j] - mean) * rstd);
        }
    }
    let means = tree(l, sums) / f32(p.cols);
    if live {
        for (var j = l; j < p.cols; j += WG) {
            let x_hat = (x[base + j] - mean) * rstd;
            gx[base + j] = rstd * (gy[base + j] * gamma[j] - means.x - x_hat * means.y);
        }
    }
}

@compute @workgroup_size(WG)
fn params_partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params5;
    let i = linear_index(gid, nwg);
    let blocks = (p.rows + p.chunk - 1u) / p.chunk;
    if i >= blocks * p.cols {
        return;
    }
    let j = i % p.cols;
    let block = i / p.cols;
    var sums = vec2(0.0);
    for (var row = block * p.chunk; row < min(p.rows, (block + 1u) * p.chunk); row++) {
        let g = gy_p[row * p.cols + j];
        sums += vec2(g * (x[row * p.cols + j] - mean_p[row]) * rstd_p[row], g);
    }
    partials_out[i] = sums;
}

@compute @workgroup_size(WG)
fn params_finalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params3;
    let j = linear_index(gid, nwg);
    if j >= p.cols {
        return;
    }
    var sums = vec2(0.0);
    for (var block = 0u; block < (p.rows + p.chunk - 1u) / p.chunk; block++) {
        sums += partials_in[block * p.cols + j];
    }
    dgamma[j] = sums.x;
    dbeta[j] = sums.y;
}

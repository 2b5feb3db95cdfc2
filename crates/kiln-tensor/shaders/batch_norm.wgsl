// requires: nan.wgsl, grid.wgsl
// Batch normalization over x viewed as [n, c, spatial]: per-channel statistics over the
// M = n * spatial values of a channel, normalization, and the analytic backward.
//
// Per-channel sums run in two passes so that the GPU fills even when channels are few: the
// host splits each channel's M values into `splits` chunks of `chunk`; a `*_partial` entry
// gives every (channel, chunk) pair a workgroup that reduces its chunk by a tree, and a
// `*_finalize` entry gives every channel a workgroup that tree-reduces its `splits` partials.
// The tree (`tree`, and `Invocation`, the builtins a reduction entry takes) comes from the
// file compiled before this one: tree_workgroup.wgsl, or tree_subgroup.wgsl where subgroup
// reductions are asked for. Statistics are (count, mean, m2) triples merged with Chan's formula
// (Welford's update is its one-value case), so no sum of squares ever cancels.
// Value j of channel ch is x[((j / spatial) * c + ch) * spatial + j % spatial].
//
// Parameters sit after each entry's storage buffers, so the same struct is declared at
// several bindings (params2 at binding 2, ...); each entry reads the one it binds.

struct Params {
    n: u32,
    c: u32,
    spatial: u32,
    splits: u32,
    chunk: u32,
    // 1 when mean and var are the batch's own statistics (train-mode backward).
    batch_stats: u32,
    eps: f32,
    _pad: u32,
}

// Inputs shared by several entries.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> var_: array<f32>;

// stats_partial: x -> partial [c, splits] of (count, mean, m2)
@group(0) @binding(1) var<storage, read_write> stats_partials: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params2: Params;

// stats_finalize: partials -> mean [c], var [c]
// backward_finalize: partials -> dgamma [c], dbeta [c]
@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> first_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> second_out: array<f32>;
@group(0) @binding(3) var<uniform> params3: Params;

// backward_partial: x, mean, var, gy -> partial [c, splits] of (sum gy * x_hat, sum gy)
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> backward_partials: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params5: Params;

// normalize: x, mean, var, gamma, beta -> y
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params6: Params;

// backward_data: x, mean, var, gamma, gy, dgamma, dbeta -> gx
@group(0) @binding(4) var<storage, read> gy_data: array<f32>;
@group(0) @binding(5) var<storage, read> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read> dbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> gx: array<f32>;
@group(0) @binding(8) var<uniform> params8: Params;

var<workgroup> slots: array<vec4<f32>, WG>;

fn channel_offset(p: Params, ch: u32, j: u32) -> u32 {
    return ((j / p.spatial) * p.c + ch) * p.spatial + j % p.spatial;
}

// ANCHOR: chan
// Chan et al.: the (count, mean, m2) of the union of two sets. An empty set changes nothing:
// merged by the formula, a mean whose square overflows would give inf * 0 = NaN.
fn chan(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    if b.x == 0.0 {
        return a;
    }
    if a.x == 0.0 {
        return b;
    }
    let n = a.x + b.x;
    let d = b.y - a.y;
    return vec4(n, a.y + d * (b.x / n), a.z + b.z + d * d * (a.x * b.x / n), 0.0);
}

// What the trees merge with: Chan's formula for statistics, else sums.
fn merge(a: vec4<f32>, b: vec4<f32>, statistics: bool) -> vec4<f32> {
    if statistics {
        return chan(a, b);
    }
    return a + b;
}
// ANCHOR_END: chan

// ANCHOR: stats_partial
@compute @workgroup_size(WG)
fn stats_partial(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    inv: Invocation,
) {
    let p = params2;
    let l = inv.index;
    let group = workgroup_index(wid, nwg);
    let ch = group / p.splits;
    let split = group % p.splits;
    var acc = vec4(0.0);
    if ch < p.c {
        let end = min(p.n * p.spatial, (split + 1u) * p.chunk);
        for (var j = split * p.chunk + l; j < end; j += WG) {
            acc = chan(acc, vec4(1.0, x[channel_offset(p, ch, j)], 0.0, 0.0));
        }
    }
    slots[l] = acc;
    tree(inv, true);
    if ch < p.c && l == 0u {
        stats_partials[ch * p.splits + split] = slots[0];
    }
}
// ANCHOR_END: stats_partial

// Reduces channel ch's `splits` partials into slot 0 (Chan merges or sums).
fn reduce_partials(p: Params, ch: u32, inv: Invocation, statistics: bool) {
    var acc = vec4(0.0);
    if ch < p.c {
        for (var s = inv.index; s < p.splits; s += WG) {
            acc = merge(acc, partials[ch * p.splits + s], statistics);
        }
    }
    slots[inv.index] = acc;
    tree(inv, statistics);
}

@compute @workgroup_size(WG)
fn stats_finalize(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    inv: Invocation,
) {
    let p = params3;
    let ch = workgroup_index(wid, nwg);
    reduce_partials(p, ch, inv, true);
    if ch < p.c && inv.index == 0u {
        first_out[ch] = slots[0].y;
        // Biased variance (0/0 for an empty channel, as on the CPU).
        second_out[ch] = slots[0].z / slots[0].x;
    }
}

@compute @workgroup_size(WG)
fn normalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params6;
    let i = linear_index(gid, nwg);
    if i >= p.n * p.c * p.spatial {
        return;
    }
    let ch = (i / p.spatial) % p.c;
    let scale = gamma[ch] / sqrt_nan(var_[ch] + p.eps);
    y[i] = (x[i] - mean[ch]) * scale + beta[ch];
}

@compute @workgroup_size(WG)
fn backward_partial(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    inv: Invocation,
) {
    let p = params5;
    let l = inv.index;
    let group = workgroup_index(wid, nwg);
    let ch = group / p.splits;
    let split = group % p.splits;
    var acc = vec4(0.0);
    if ch < p.c {
        let m = mean[ch];
        let invstd = 1.0 / sqrt_nan(var_[ch] + p.eps);
        let end = min(p.n * p.spatial, (split + 1u) * p.chunk);
        for (var j = split * p.chunk + l; j < end; j += WG) {
            let at = channel_offset(p, ch, j);
            let g = gy[at];
            acc += vec4(g * (x[at] - m) * invstd, g, 0.0, 0.0);
        }
    }
    slots[l] = acc;
    tree(inv, false);
    if ch < p.c && l == 0u {
        backward_partials[ch * p.splits + split] = slots[0];
    }
}

@compute @workgroup_size(WG)
fn backward_finalize(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    inv: Invocation,
) {
    let p = params3;
    let ch = workgroup_index(wid, nwg);
    reduce_partials(p, ch, inv, false);
    if ch < p.c && inv.index == 0u {
        first_out[ch] = slots[0].x;
        second_out[ch] = slots[0].y;
    }
}

@compute @workgroup_size(WG)
fn backward_data(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params8;
    let i = linear_index(gid, nwg);
    if i >= p.n * p.c * p.spatial {
        return;
    }
    let ch = (i / p.spatial) % p.c;
    let invstd = 1.0 / sqrt_nan(var_[ch] + p.eps);
    let scale = gamma[ch] * invstd;
    let g = gy_data[i];
    if p.batch_stats == 0u {
        gx[i] = scale * g;
        return;
    }
    let count = f32(p.n * p.spatial);
    let x_hat = (x[i] - mean[ch]) * invstd;
    gx[i] = scale * (g - dbeta[ch] / count - x_hat * dgamma[ch] / count);
}

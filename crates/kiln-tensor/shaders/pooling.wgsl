// requires: nan.wgsl, grid.wgsl
// 2-D max and average pooling over x viewed as [planes, h, w], one invocation per output
// element forward and per input element backward. Windows reach into the padding, where no
// value is read: padding never wins a maximum, and an average divides by kh * kw (PyTorch's
// count_include_pad). Max pooling records, per output, the index iy * w + ix within its plane
// of the value taken: the first largest in row-major window order, or the first NaN (NaN wins,
// as on the CPU). The backward passes gather, in row-major output order, the gradients of the
// windows covering each input element, which is the CPU reference's order of addition.

struct Params {
    planes: u32,
    h: u32,
    w: u32,
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    oh: u32,
    ow: u32,
    _pad: u32,
}

// max_pool2d: x -> y, argmax
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax_out: array<f32>;
@group(0) @binding(3) var<uniform> params3: Params;

// avg_pool2d: x -> y
@group(0) @binding(2) var<uniform> params2: Params;

// max_pool2d_backward: gy, argmax -> gx
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;

// avg_pool2d_backward: gy -> gx
@group(0) @binding(1) var<storage, read_write> gx_avg: array<f32>;

// The in-bounds input range [start, end) of the window of output o along one axis.
fn window(o: u32, stride: u32, pad: u32, k: u32, len: u32) -> vec2<u32> {
    let start = max(o * stride, pad) - pad;
    let end = min(max(o * stride + k, pad) - pad, len);
    return vec2(start, max(start, end));
}

// The outputs [first, last) along one axis whose windows cover input position i.
fn covering(i: u32, stride: u32, pad: u32, k: u32, out_len: u32) -> vec2<u32> {
    let q = i + pad;
    let first = (max(q + 1u, k) - k + stride - 1u) / stride;
    let last = min(q / stride + 1u, out_len);
    return vec2(first, max(first, last));
}

@compute @workgroup_size(WG)
fn max_pool2d(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params3;
    let i = linear_index(gid, nwg);
    if i >= p.planes * p.oh * p.ow {
        return;
    }
    let plane = i / (p.oh * p.ow);
    let oy = (i / p.ow) % p.oh;
    let ox = i % p.ow;
    let base = plane * p.h * p.w;
    let rows = window(oy, p.stride_h, p.pad_h, p.kh, p.h);
    let cols = window(ox, p.stride_w, p.pad_w, p.kw, p.w);
    var best = rows.x * p.w + cols.x;
    var best_v = x[base + best];
    for (var iy = rows.x; iy < rows.y; iy++) {
        for (var ix = cols.x; ix < cols.y; ix++) {
            let at = iy * p.w + ix;
            let v = x[base + at];
            // Strictly larger, or the first NaN: ties keep the earlier index.
            if !is_nan(best_v) && (v > best_v || is_nan(v)) {
                best = at;
                best_v = v;
            }
        }
    }
    y[i] = best_v;
    argmax_out[i] = f32(best);
}

@compute @workgroup_size(WG)
fn avg_pool2d(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params2;
    let i = linear_index(gid, nwg);
    if i >= p.planes * p.oh * p.ow {
        return;
    }
    let plane = i / (p.oh * p.ow);
    let rows = window((i / p.ow) % p.oh, p.stride_h, p.pad_h, p.kh, p.h);
    let cols = window(i % p.ow, p.stride_w, p.pad_w, p.kw, p.w);
    let base = plane * p.h * p.w;
    var sum = 0.0;
    for (var iy = rows.x; iy < rows.y; iy++) {
        for (var ix = cols.x; ix < cols.y; ix++) {
            sum += x[base + iy * p.w + ix];
        }
    }
    y[i] = sum / f32(p.kh * p.kw);
}

// The outputs covering input element i of its plane: rows [r.x, r.y), columns [r.z, r.w).
fn covering_outputs(p: Params, i: u32) -> vec4<u32> {
    let at = i % (p.h * p.w);
    let rows = covering(at / p.w, p.stride_h, p.pad_h, p.kh, p.oh);
    let cols = covering(at % p.w, p.stride_w, p.pad_w, p.kw, p.ow);
    return vec4(rows, cols);
}

@compute @workgroup_size(WG)
fn max_pool2d_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params3;
    let i = linear_index(gid, nwg);
    if i >= p.planes * p.h * p.w {
        return;
    }
    let plane = i / (p.h * p.w);
    let at = f32(i % (p.h * p.w));
    let r = covering_outputs(p, i);
    var sum = 0.0;
    for (var oy = r.x; oy < r.y; oy++) {
        for (var ox = r.z; ox < r.w; ox++) {
            let o = (plane * p.oh + oy) * p.ow + ox;
            sum += select(0.0, gy[o], argmax_in[o] == at);
        }
    }
    gx[i] = sum;
}

@compute @workgroup_size(WG)
fn avg_pool2d_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = params2;
    let i = linear_index(gid, nwg);
    if i >= p.planes * p.h * p.w {
        return;
    }
    let plane = i / (p.h * p.w);
    let area = f32(p.kh * p.kw);
    let r = covering_outputs(p, i);
    var sum = 0.0;
    for (var oy = r.x; oy < r.y; oy++) {
        for (var ox = r.z; ox < r.w; ox++) {
            sum += gy[(plane * p.oh + oy) * p.ow + ox] / area;
        }
    }
    gx_avg[i] = sum;
}

// requires: matmul.wgsl
// Convolution geometry shared by the conv2d GEMM kernels (conv2d_*.wgsl), which follow the GEMM
// core (matmul.wgsl) and this file. Layouts: x [n, c_in, h, w], w [c_out, c_in, kh, kw],
// y [n, c_out, oh, ow]; zero padding (pad_top, pad_left), bottom/right implied by oh, ow.
// Output pixel (oy, ox) at kernel offset (ki, kj) reads input (oy*stride_h + ki - pad_top,
// ox*stride_w + kj - pad_left). Patch index q = (ci * kh + ki) * kw + kj; pixel index
// p = (img * oh + oy) * ow + ox.

struct Conv {
    c_in: u32,
    h: u32,
    w: u32,
    c_out: u32,
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    oh: u32,
    ow: u32,
}

struct Params {
    gemm: Gemm,
    conv: Conv,
}

@group(0) @binding(3) var<uniform> params: Params;

// (channel, ki, kj) of patch index q (the channel is c_in for x patches, c_out for gy ones).
fn patch_coords(q: u32) -> vec3<u32> {
    let c = params.conv;
    let r = q % (c.kh * c.kw);
    return vec3(q / (c.kh * c.kw), r / c.kw, r % c.kw);
}

// (img, y, x) of a pixel index p over an image of `width` columns and `area` pixels.
fn pixel_coords(p: u32, width: u32, area: u32) -> vec3<u32> {
    let r = p % area;
    return vec3(p / area, r / width, r % width);
}

// ANCHOR: digits
// The sum of two numbers written as digits (high, middle, low) with radices (any, r_mid, r_lo):
// the coordinates above are such digits, and adding those of BK advances one GEMM step along k
// with two carries instead of the divisions that working them out afresh takes.
fn add_digits(x: vec3<u32>, y: vec3<u32>, r_mid: u32, r_lo: u32) -> vec3<u32> {
    var lo = x.z + y.z;
    let carry_lo = lo >= r_lo;
    lo -= select(0u, r_lo, carry_lo);
    var mid = x.y + y.y + u32(carry_lo);
    let carry_mid = mid >= r_mid;
    mid -= select(0u, r_mid, carry_mid);
    return vec3(x.x + y.x + u32(carry_mid), mid, lo);
}

// patch_coords(q1 + q2), given patch_coords(q1) and patch_coords(q2).
fn add_patches(x: vec3<u32>, y: vec3<u32>) -> vec3<u32> {
    return add_digits(x, y, params.conv.kh, params.conv.kw);
}
// ANCHOR_END: digits

// x[plane + iy * w + ix], zero outside the image; `plane` is the start of one input channel.
// Forward and backward-weight bind x as the GEMM operand b.
fn x_at(plane: u32, iy: i32, ix: i32) -> f32 {
    let c = params.conv;
    if iy < 0 || ix < 0 || iy >= i32(c.h) || ix >= i32(c.w) {
        return 0.0;
    }
    return b[plane + u32(iy) * c.w + u32(ix)];
}

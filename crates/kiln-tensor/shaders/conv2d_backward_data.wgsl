// requires: matmul.wgsl, conv2d.wgsl
// Convolution backward-data as an implicit GEMM (after matmul.wgsl and conv2d.wgsl), in the
// transposed-convolution form: gx[img, ci, (iy, ix)] = sum_(co, ki, kj) w[co, ci, ki, kj] *
// gy[img, co, oy, ox] over the (oy, ox) with oy*stride_h + ki - pad_top = iy (likewise x), i.e.
// M = c_in, N = n*h*w, K = c_out*kh*kw. A is w read in place as [ci, (co, ki, kj)]; B gathers gy,
// zero where (iy + pad_top - ki) is negative, not a multiple of the stride, or past oh.

struct ARow {
    base: u32,
}

// An input pixel's image start in gy and its position shifted by the padding.
struct BCol {
    image: u32,
    ty: i32,
    tx: i32,
}

fn a_row(batch: u32, row: u32) -> ARow {
    return ARow(row * params.conv.kh * params.conv.kw);
}

// Patch coordinates (co, ki, kj) of kk, for both operands.
alias AKPos = vec3<u32>;
alias BKPos = vec3<u32>;

fn a_kpos(kk: u32) -> AKPos {
    return patch_coords(kk);
}

fn a_kpos_add(q1: AKPos, q2: AKPos) -> AKPos {
    return add_patches(q1, q2);
}

fn load_a(row: ARow, q: AKPos) -> f32 {
    let c = params.conv;
    return a[(q.x * c.c_in * c.kh + q.y) * c.kw + row.base + q.z];
}

fn b_col(batch: u32, col: u32) -> BCol {
    let c = params.conv;
    let p = pixel_coords(col, c.w, c.h * c.w);
    return BCol(
        p.x * c.c_out * c.oh * c.ow,
        i32(p.y + c.pad_top),
        i32(p.z + c.pad_left),
    );
}

fn b_kpos(kk: u32) -> BKPos {
    return a_kpos(kk);
}

fn b_kpos_add(q1: BKPos, q2: BKPos) -> BKPos {
    return a_kpos_add(q1, q2);
}

// ANCHOR: load_b
fn load_b(col: BCol, q: BKPos) -> f32 {
    let c = params.conv;
    let ty = col.ty - i32(q.y);
    let tx = col.tx - i32(q.z);
    if ty < 0 || tx < 0 {
        return 0.0;
    }
    var oy = u32(ty);
    var ox = u32(tx);
    // Uniform across the dispatch, so the common stride 1 skips the divisions.
    if c.stride_h != 1u || c.stride_w != 1u {
        oy /= c.stride_h;
        ox /= c.stride_w;
        if oy * c.stride_h != u32(ty) || ox * c.stride_w != u32(tx) {
            return 0.0;
        }
    }
    if oy >= c.oh || ox >= c.ow {
        return 0.0;
    }
    return b[col.image + (q.x * c.oh + oy) * c.ow + ox];
}
// ANCHOR_END: load_b

fn store_c(batch: u32, split: u32, row: u32, col: u32, value: f32) {
    let area = params.conv.h * params.conv.w;
    let img = col / area;
    c[(img * params.conv.c_in + row) * area + col % area] = value;
}

fn a_k_fast() -> bool {
    return true;
}

fn b_n_fast() -> bool {
    return true;
}

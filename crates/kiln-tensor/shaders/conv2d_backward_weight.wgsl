// requires: matmul.wgsl, conv2d.wgsl
// Convolution backward-weight as an implicit GEMM with split-K (after matmul.wgsl and
// conv2d.wgsl): gw[co, q] = sum_(img, p) gy[img, co, p] * x_patch[q, (img, p)], i.e. M = c_out,
// N = c_in*kh*kw, K = n*oh*ow. The long K is cut into splits (dispatch z) that write partial
// sums to c as [splits, c_out, c_in*kh*kw]; gemm_reduce_splits.wgsl adds them up.

struct ARow {
    base: u32,
}

// A patch entry's input channel start and kernel offset.
struct BCol {
    plane: u32,
    ki: i32,
    kj: i32,
}

fn a_row(batch: u32, row: u32) -> ARow {
    return ARow(row * params.conv.oh * params.conv.ow);
}

// Output pixel coordinates (img, oy, ox) of kk, for both operands.
alias AKPos = vec3<u32>;
alias BKPos = vec3<u32>;

fn a_kpos(kk: u32) -> AKPos {
    let c = params.conv;
    return pixel_coords(kk, c.ow, c.oh * c.ow);
}

fn a_kpos_add(p1: AKPos, p2: AKPos) -> AKPos {
    return add_digits(p1, p2, params.conv.oh, params.conv.ow);
}

fn load_a(row: ARow, p: AKPos) -> f32 {
    let c = params.conv;
    return a[(p.x * c.c_out * c.oh + p.y) * c.ow + row.base + p.z];
}

fn b_col(batch: u32, col: u32) -> BCol {
    let c = params.conv;
    let q = patch_coords(col);
    return BCol(q.x * c.h * c.w, i32(q.y) - i32(c.pad_top), i32(q.z) - i32(c.pad_left));
}

fn b_kpos(kk: u32) -> BKPos {
    return a_kpos(kk);
}

fn b_kpos_add(p1: BKPos, p2: BKPos) -> BKPos {
    return a_kpos_add(p1, p2);
}

fn load_b(col: BCol, p: BKPos) -> f32 {
    let c = params.conv;
    return x_at(
        p.x * c.c_in * c.h * c.w + col.plane,
        i32(p.y * c.stride_h) + col.ki,
        i32(p.z * c.stride_w) + col.kj,
    );
}

fn store_c(batch: u32, split: u32, row: u32, col: u32, value: f32) {
    c[(split * params.gemm.m + row) * params.gemm.n + col] = value;
}

fn a_k_fast() -> bool {
    return true;
}

fn b_n_fast() -> bool {
    return false;
}

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

fn load_a(row: ARow, kk: u32) -> f32 {
    let area = params.conv.oh * params.conv.ow;
    let img = kk / area;
    return a[img * params.conv.c_out * area + row.base + kk % area];
}

fn b_col(batch: u32, col: u32) -> BCol {
    let c = params.conv;
    let q = patch_coords(col);
    return BCol(q.x * c.h * c.w, i32(q.y) - i32(c.pad_top), i32(q.z) - i32(c.pad_left));
}

fn load_b(col: BCol, kk: u32) -> f32 {
    let c = params.conv;
    let p = pixel_coords(kk, c.ow, c.oh * c.ow);
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

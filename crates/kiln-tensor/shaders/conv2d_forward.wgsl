// requires: matmul.wgsl, conv2d.wgsl
// Convolution forward as an implicit GEMM (after matmul.wgsl and conv2d.wgsl):
// y[img, co, p] = sum_q w[co, q] * x_patch[q, (img, p)], i.e. M = c_out, N = n*oh*ow,
// K = c_in*kh*kw. A is w read in place; B is the im2col matrix, gathered from x while loading.

struct ARow {
    base: u32,
}

// An output pixel's image start in x and its top-left input position (may be in the padding).
struct BCol {
    image: u32,
    iy: i32,
    ix: i32,
}

fn a_row(batch: u32, row: u32) -> ARow {
    return ARow(row * params.gemm.k);
}

// A row's offset along k: kk itself.
alias AKPos = u32;

fn a_kpos(kk: u32) -> AKPos {
    return kk;
}

fn a_kpos_add(k1: AKPos, k2: AKPos) -> AKPos {
    return k1 + k2;
}

fn load_a(row: ARow, kk: AKPos) -> f32 {
    return a[row.base + kk];
}

fn b_col(batch: u32, col: u32) -> BCol {
    let c = params.conv;
    let p = pixel_coords(col, c.ow, c.oh * c.ow);
    return BCol(
        p.x * c.c_in * c.h * c.w,
        i32(p.y * c.stride_h) - i32(c.pad_top),
        i32(p.z * c.stride_w) - i32(c.pad_left),
    );
}

// Patch coordinates (ci, ki, kj) of kk.
alias BKPos = vec3<u32>;

fn b_kpos(kk: u32) -> BKPos {
    return patch_coords(kk);
}

fn b_kpos_add(q1: BKPos, q2: BKPos) -> BKPos {
    return add_patches(q1, q2);
}

fn load_b(col: BCol, q: BKPos) -> f32 {
    let c = params.conv;
    return x_at(col.image + q.x * c.h * c.w, col.iy + i32(q.y), col.ix + i32(q.z));
}

fn store_c(batch: u32, split: u32, row: u32, col: u32, value: f32) {
    let area = params.conv.oh * params.conv.ow;
    let img = col / area;
    c[(img * params.conv.c_out + row) * area + col % area] = value;
}

fn a_k_fast() -> bool {
    return true;
}

fn b_n_fast() -> bool {
    return true;
}

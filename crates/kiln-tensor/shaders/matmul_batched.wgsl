// requires: matmul.wgsl
// Batched matrix product operands for the GEMM core (matmul.wgsl): C[z] = op(A[z]) · op(B[z]).
//
// Each operand is addressed by strides, so transposed and shared (stride 0 across the batch)
// operands are read in place: element (row, kk) of A[z] is a[z * a_batch + row * a_row + kk * a_col]
// and element (kk, col) of B[z] is b[z * b_batch + kk * b_row + col * b_col]. C is [batch, m, n],
// or, when the host splits K (only for batch 1), the partial sums [splits, m, n].

struct Params {
    gemm: Gemm,
    a_batch: u32,
    a_row: u32,
    a_col: u32,
    b_batch: u32,
    b_row: u32,
    b_col: u32,
}

@group(0) @binding(3) var<uniform> params: Params;

struct ARow {
    base: u32,
}

struct BCol {
    base: u32,
}

fn a_row(batch: u32, row: u32) -> ARow {
    return ARow(batch * params.a_batch + row * params.a_row);
}

// A's offset along k: kk * a_col.
alias AKPos = u32;

fn a_kpos(kk: u32) -> AKPos {
    return kk * params.a_col;
}

fn a_kpos_add(p: AKPos, q: AKPos) -> AKPos {
    return p + q;
}

fn load_a(row: ARow, p: AKPos) -> f32 {
    return a[row.base + p];
}

fn b_col(batch: u32, col: u32) -> BCol {
    return BCol(batch * params.b_batch + col * params.b_col);
}

// B's offset along k: kk * b_row.
alias BKPos = u32;

fn b_kpos(kk: u32) -> BKPos {
    return kk * params.b_row;
}

fn b_kpos_add(p: BKPos, q: BKPos) -> BKPos {
    return p + q;
}

fn load_b(col: BCol, p: BKPos) -> f32 {
    return b[col.base + p];
}

// C is [batch, m, n]; with split-K (batch 1) the partial sums [splits, m, n]. One of `batch` and
// `split` is always 0.
fn store_c(batch: u32, split: u32, row: u32, col: u32, value: f32) {
    c[((batch + split) * params.gemm.m + row) * params.gemm.n + col] = value;
}

fn a_k_fast() -> bool {
    return params.a_col == 1u;
}

fn b_n_fast() -> bool {
    return params.b_col == 1u;
}

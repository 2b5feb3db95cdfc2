// C = A · Bᵀ with A [m, k], B [n, k] (a dense layer's weight, [out, in]) and C [m, n], all
// row-major: a 16 x 16 workgroup computes a 16 x 16 block of C and walks k in steps of 16,
// staging a tile of each operand in workgroup memory.

struct Dims {
    m: u32,
    n: u32,
    k: u32,
}

const T: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

// Both tiles are [row of the operand][k]. One padding column keeps the reads of b_tile down a
// column (lid.x varies the row) out of a single memory bank.
var<workgroup> a_tile: array<array<f32, 17>, T>;
var<workgroup> b_tile: array<array<f32, 17>, T>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.y * T + lid.y;
    let col = wg.x * T + lid.x;
    // Both operands are contiguous along k, so lid.x walks k when loading: neighbouring
    // invocations read neighbouring addresses. Invocation (x, y) loads row y of each tile.
    let b_row = wg.x * T + lid.y;
    var sum = 0.0;
    // No early return: every invocation must reach every barrier.
    for (var k0 = 0u; k0 < dims.k; k0 += T) {
        let kk = k0 + lid.x;
        var av = 0.0;
        if row < dims.m && kk < dims.k {
            av = a[row * dims.k + kk];
        }
        a_tile[lid.y][lid.x] = av;
        var bv = 0.0;
        if b_row < dims.n && kk < dims.k {
            bv = b[b_row * dims.k + kk];
        }
        b_tile[lid.y][lid.x] = bv;
        workgroupBarrier();
        for (var p = 0u; p < T; p++) {
            sum += a_tile[lid.y][p] * b_tile[lid.x][p];
        }
        workgroupBarrier();
    }
    if row < dims.m && col < dims.n {
        c[row * dims.n + col] = sum;
    }
}

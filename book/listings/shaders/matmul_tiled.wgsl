// C = A · B with A [m, k], B [k, n] and C [m, n], all row-major (chapter 5, step 2): a 16 x 16
// workgroup computes a 16 x 16 block of C, one element per invocation, and walks K in steps of
// 16, staging a tile of A and a tile of B in workgroup memory so that each value read from
// storage memory is used 16 times.

// ANCHOR: all
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

var<workgroup> a_tile: array<array<f32, T>, T>; // [row][k]
var<workgroup> b_tile: array<array<f32, T>, T>; // [k][col]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.y * T + lid.y;
    let col = wg.x * T + lid.x;
    var sum = 0.0;
    // No early return: every invocation must reach every barrier.
    for (var k0 = 0u; k0 < dims.k; k0 += T) {
        // Each invocation loads one element of each tile, zero outside the matrices.
        var av = 0.0;
        if row < dims.m && k0 + lid.x < dims.k {
            av = a[row * dims.k + k0 + lid.x];
        }
        a_tile[lid.y][lid.x] = av;
        var bv = 0.0;
        if k0 + lid.y < dims.k && col < dims.n {
            bv = b[(k0 + lid.y) * dims.n + col];
        }
        b_tile[lid.y][lid.x] = bv;
        workgroupBarrier();
        for (var kk = 0u; kk < T; kk++) {
            sum += a_tile[lid.y][kk] * b_tile[kk][lid.x];
        }
        workgroupBarrier();
    }
    if row < dims.m && col < dims.n {
        c[row * dims.n + col] = sum;
    }
}
// ANCHOR_END: all

// C = A · B with A [m, k], B [k, n] and C [m, n], all row-major (chapter 5, step 3): 1-D
// register tiling. With the shape `src/matmul.rs` gives it, a workgroup of 32 x 8 invocations
// computes a 64 x 32 block of C and each invocation a column of TM = 8 outputs, holding their
// sums in registers. Per step of k it reads one value of B from workgroup memory into a
// register and reuses it for 8 multiply-adds: 9 workgroup-memory loads per 8 FMAs, not 16.

// ANCHOR: all
struct Dims {
    m: u32,
    n: u32,
    k: u32,
}

// BM, BN (the block of C), BK (k per tile), TM, TN (the micro-tile) come from the header
// that `src/matmul.rs` writes in front of this file.
const WG_SIZE: u32 = (BN / TN) * (BM / TM);

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> a_tile: array<array<f32, BM>, BK>; // [k][row]
var<workgroup> b_tile: array<array<f32, BN>, BK>; // [k][col]

@compute @workgroup_size(BN / TN, BM / TM)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let row0 = wg.y * BM;
    let col0 = wg.x * BN;
    let col = lid.x; // this invocation's column in the block
    let rows = lid.y * TM; // the first of its TM rows in the block
    var acc: array<f32, TM>; // zero-initialised
    for (var k0 = 0u; k0 < dims.k; k0 += BK) {
        // The A tile, BM x BK values, two per invocation: consecutive invocations read
        // consecutive k of a row, which are consecutive in memory.
        for (var i = 0u; i < BM * BK / WG_SIZE; i++) {
            let e = tid + i * WG_SIZE;
            let r = e / BK;
            let kk = e % BK;
            var v = 0.0;
            if row0 + r < dims.m && k0 + kk < dims.k {
                v = a[(row0 + r) * dims.k + k0 + kk];
            }
            a_tile[kk][r] = v;
        }
        // The B tile, BK x BN values, one per invocation, consecutive along n.
        let kk = tid / BN;
        let cc = tid % BN;
        var v = 0.0;
        if k0 + kk < dims.k && col0 + cc < dims.n {
            v = b[(k0 + kk) * dims.n + col0 + cc];
        }
        b_tile[kk][cc] = v;
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let bv = b_tile[kk][col]; // one load ...
            for (var i = 0u; i < TM; i++) {
                acc[i] += a_tile[kk][rows + i] * bv; // ... used TM times
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < TM; i++) {
        let row = row0 + rows + i;
        if row < dims.m && col0 + col < dims.n {
            c[row * dims.n + col0 + col] = acc[i];
        }
    }
}
// ANCHOR_END: all

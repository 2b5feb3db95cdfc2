// C = A · B with A [m, k], B [k, n] and C [m, n], all row-major (chapter 5, step 4): 2-D
// register blocking, plainly. With the shape `src/matmul.rs` gives it, a workgroup of 8 x 16
// invocations computes a 128 x 64 block of C and each invocation an 8 x 8 micro-tile. Per step
// of k it copies 8 values of A and 8 of B from workgroup memory into registers and does all 64
// products between them: 16 loads per 64 FMAs. kiln's kernel has this shape and adds vec4
// tiles, padded tile rows, prefetching and split-K on top.

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
    let rows = lid.y * TM; // this invocation's micro-tile in the block
    let cols = lid.x * TN;
    var acc: array<array<f32, TN>, TM>; // zero-initialised
    var a_reg: array<f32, TM>;
    var b_reg: array<f32, TN>;
    for (var k0 = 0u; k0 < dims.k; k0 += BK) {
        // The A tile, BM x BK values, eight per invocation, consecutive along k.
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
        // The B tile, BK x BN values, four per invocation, consecutive along n.
        for (var i = 0u; i < BN * BK / WG_SIZE; i++) {
            let e = tid + i * WG_SIZE;
            let kk = e / BN;
            let cc = e % BN;
            var v = 0.0;
            if k0 + kk < dims.k && col0 + cc < dims.n {
                v = b[(k0 + kk) * dims.n + col0 + cc];
            }
            b_tile[kk][cc] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            for (var i = 0u; i < TM; i++) {
                a_reg[i] = a_tile[kk][rows + i];
            }
            for (var j = 0u; j < TN; j++) {
                b_reg[j] = b_tile[kk][cols + j];
            }
            for (var i = 0u; i < TM; i++) {
                for (var j = 0u; j < TN; j++) {
                    acc[i][j] += a_reg[i] * b_reg[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
            let row = row0 + rows + i;
            let col = col0 + cols + j;
            if row < dims.m && col < dims.n {
                c[row * dims.n + col] = acc[i][j];
            }
        }
    }
}
// ANCHOR_END: all

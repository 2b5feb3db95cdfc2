// Tiled GEMM core, shared by matmul and the three conv2d kernels.
//
// Computes C = A · B with A logically [m, k] and B logically [k, n], for every slice `z` of the
// dispatch: `z = batch * splits + split`, where split `s` covers the K range
// [s * k_chunk, min(k, (s + 1) * k_chunk)) (one split unless the kernel asks for split-K).
// A slice's blocks of C are numbered row by row, columns fastest, and that linear index is
// folded over the dispatch's x and y (`wg.x + wg.y * nwg.x`) to stay within the per-dimension
// workgroup limit; the workgroups past the last block return at once.
//
// A kernel's source is a tile shape (gemm_tile_*.wgsl: the constants BM, BN, BK, TM, TN), this
// file, and an operand file that declares:
//   @group(0) @binding(3) var<uniform> params   a struct whose first member is `gemm: Gemm`
//   struct ARow, fn a_row(batch: u32, row: u32) -> ARow     per-row part of A's addressing
//   fn load_a(row: ARow, kk: u32) -> f32                    A[row, kk], called only in bounds
//   struct BCol, fn b_col(batch: u32, col: u32) -> BCol     per-column part of B's addressing
//   fn load_b(col: BCol, kk: u32) -> f32                    B[kk, col], called only in bounds
//   fn store_c(batch: u32, split: u32, row: u32, col: u32, value: f32)
//   fn a_k_fast() -> bool, fn b_n_fast() -> bool            whether A (B) is contiguous along
//                                                           k (n); picks the coalesced load order
// Out-of-range rows, columns and k are handled here, so any m, n, k works (k = 0 stores zeros).
//
// Tiling: a workgroup of (BN / TN) x (BM / TM) invocations owns a BM x BN block of C and walks K
// in steps of BK. Each step it stages an A tile [BK][BM] and a B tile [BK][BN] in workgroup
// memory (k-major, as vec4 along m and n); then every invocation accumulates its TM x TN
// micro-tile (rows ly*TM.., columns lx*TN..; TM and TN multiples of 4) in registers, per k TM/4
// vec4 of A and TN/4 of B making TM*TN/4 vec4 fused multiply-adds. A thread's tile loads always
// hit the same rows of A and columns of B, so their addressing (`a_row`, `b_col`) is worked out
// once, outside the K loop. Each step's tiles are read from storage into registers during the
// step before (`a_next`, `b_next`), so that the loads' latency hides behind multiply-adds; on
// an H100 this took the 4096 x 4096 product from 29.3 to 34.0 TFLOP/s.

struct Gemm {
    m: u32,
    n: u32,
    k: u32,
    k_chunk: u32,
}

// ANCHOR: constants
const WG_X: u32 = BN / TN;
const WG_Y: u32 = BM / TM;
const WG_SIZE: u32 = WG_X * WG_Y;
const LOADS_A: u32 = BM * BK / WG_SIZE;
const LOADS_B: u32 = BN * BK / WG_SIZE;
// Tile rows are padded by one vec4 so that stores along k spread over memory banks.
const A_STRIDE: u32 = BM / 4u + 1u;
const B_STRIDE: u32 = BN / 4u + 1u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, BK * A_STRIDE>;
var<workgroup> b_tile: array<vec4<f32>, BK * B_STRIDE>;

// Tile position (row or column, k) of this invocation's `i`-th element load of a tile that is
// `len` long along m or n: consecutive invocations take consecutive addresses along the
// contiguous axis of the operand.
fn tile_slot(i: u32, tid: u32, len: u32, k_fast: bool) -> vec2<u32> {
    let e = tid + i * WG_SIZE;
    if k_fast {
        return vec2(e / BK, e % BK);
    }
    return vec2(e % len, e / len);
}
// ANCHOR_END: constants

// The element of A at tile slot `s` of the step starting at `k0`: zero past m or the split's K.
fn fetch_a(row: ARow, s: vec2<u32>, row0: u32, k0: u32, k_end: u32) -> f32 {
    if row0 + s.x < params.gemm.m && k0 + s.y < k_end {
        return load_a(row, k0 + s.y);
    }
    return 0.0;
}

// The element of B at tile slot `s` of the step starting at `k0`: zero past n or the split's K.
fn fetch_b(col: BCol, s: vec2<u32>, col0: u32, k0: u32, k_end: u32) -> f32 {
    if col0 + s.x < params.gemm.n && k0 + s.y < k_end {
        return load_b(col, k0 + s.y);
    }
    return 0.0;
}

// ANCHOR: main
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let g = params.gemm;
    let splits = max(1u, (g.k + g.k_chunk - 1u) / g.k_chunk);
    let batch = wg.z / splits;
    let split = wg.z % splits;
    let k_begin = split * g.k_chunk;
    let k_end = min(g.k, k_begin + g.k_chunk);
    let col_blocks = (g.n + BN - 1u) / BN;
    let block = wg.x + wg.y * nwg.x;
    if block >= col_blocks * ((g.m + BM - 1u) / BM) {
        return;
    }
    let row0 = block / col_blocks * BM;
    let col0 = block % col_blocks * BN;

    var a_slots: array<vec2<u32>, LOADS_A>;
    var a_rows: array<ARow, LOADS_A>;
    for (var i = 0u; i < LOADS_A; i++) {
        a_slots[i] = tile_slot(i, tid, BM, a_k_fast());
        a_rows[i] = a_row(batch, row0 + a_slots[i].x);
    }
    var b_slots: array<vec2<u32>, LOADS_B>;
    var b_cols: array<BCol, LOADS_B>;
    for (var i = 0u; i < LOADS_B; i++) {
        b_slots[i] = tile_slot(i, tid, BN, !b_n_fast());
        b_cols[i] = b_col(batch, col0 + b_slots[i].x);
    }

    // The first step's tiles; each step then fetches the next one's (see the header).
    var a_next: array<f32, LOADS_A>;
    var b_next: array<f32, LOADS_B>;
    for (var i = 0u; i < LOADS_A; i++) {
        a_next[i] = fetch_a(a_rows[i], a_slots[i], row0, k_begin, k_end);
    }
    for (var i = 0u; i < LOADS_B; i++) {
        b_next[i] = fetch_b(b_cols[i], b_slots[i], col0, k_begin, k_end);
    }

    var acc: array<vec4<f32>, TM * TN / 4u>;
    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        for (var i = 0u; i < LOADS_A; i++) {
            let s = a_slots[i];
            a_tile[s.y * A_STRIDE + s.x / 4u][s.x % 4u] = a_next[i];
        }
        for (var i = 0u; i < LOADS_B; i++) {
            let s = b_slots[i];
            b_tile[s.y * B_STRIDE + s.x / 4u][s.x % 4u] = b_next[i];
        }
        workgroupBarrier();
        for (var i = 0u; i < LOADS_A; i++) {
            a_next[i] = fetch_a(a_rows[i], a_slots[i], row0, k0 + BK, k_end);
        }
        for (var i = 0u; i < LOADS_B; i++) {
            b_next[i] = fetch_b(b_cols[i], b_slots[i], col0, k0 + BK, k_end);
        }
        // Not needed for correctness (the fetches write registers only). The H100 timings of
        // the prefetch were taken with it; without it lavapipe measured no difference, and
        // whether a GPU driver then still issues the fetches before the multiply-adds is untested.
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            var av: array<vec4<f32>, TM / 4u>;
            for (var i = 0u; i < TM / 4u; i++) {
                av[i] = a_tile[kk * A_STRIDE + lid.y * (TM / 4u) + i];
            }
            var bv: array<vec4<f32>, TN / 4u>;
            for (var j = 0u; j < TN / 4u; j++) {
                bv[j] = b_tile[kk * B_STRIDE + lid.x * (TN / 4u) + j];
            }
            for (var i = 0u; i < TM; i++) {
                let ai = vec4(av[i / 4u][i % 4u]);
                for (var j = 0u; j < TN / 4u; j++) {
                    acc[i * (TN / 4u) + j] = fma(ai, bv[j], acc[i * (TN / 4u) + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i++) {
        let row = row0 + lid.y * TM + i;
        for (var j = 0u; j < TN; j++) {
            let col = col0 + lid.x * TN + j;
            if row < g.m && col < g.n {
                store_c(batch, split, row, col, acc[i * (TN / 4u) + j / 4u][j % 4u]);
            }
        }
    }
}
// ANCHOR_END: main

// C = A · B with A [m, k], B [k, n] and C [m, n], all row-major: one invocation per element of
// C, reading a row of A and a column of B straight from storage memory (chapter 5, step 1).

// ANCHOR: all
struct Dims {
    m: u32,
    n: u32,
    k: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if row >= dims.m || col >= dims.n {
        return;
    }
    var sum = 0.0;
    for (var kk = 0u; kk < dims.k; kk++) {
        sum += a[row * dims.k + kk] * b[kk * dims.n + col];
    }
    c[row * dims.n + col] = sum;
}
// ANCHOR_END: all

// requires: grid.wgsl
// Inverted-dropout mask from a counter-based hash: element i is dropped when
// uniform_hash(seed, i) < p. pcg_hash and uniform_hash are exactly those of
// kiln-tensor's cpu/random.rs, so every device draws the same mask for a seed.

struct Params {
    len: u32,
    p: f32,
    // 1 / (1 - p), computed on the host in f32 as the CPU does.
    keep: f32,
    seed_lo: u32,
    seed_hi: u32,
}

@group(0) @binding(0) var<storage, read_write> mask: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// A uniform value in [0, 1) with 24 bits, exact in f32.
fn uniform_hash(seed_lo: u32, seed_hi: u32, index: u32) -> f32 {
    let key = pcg_hash(seed_lo ^ pcg_hash(seed_hi));
    let bits = pcg_hash(index ^ key) >> 8u;
    return f32(bits) / 16777216.0;
}

@compute @workgroup_size(WG)
fn dropout_mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < params.len {
        let u = uniform_hash(params.seed_lo, params.seed_hi, i);
        mask[i] = select(params.keep, 0.0, u < params.p);
    }
}

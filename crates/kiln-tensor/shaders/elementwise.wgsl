// requires: nan.wgsl, grid.wgsl
// Elementwise kernels: unary functions (with a scalar operand for pow/add/mul) and binary
// operations with NumPy broadcasting. One element per invocation; the linear index is folded
// over x and y of the dispatch to stay under the per-dimension workgroup limit.
//
// NaN propagates as on the CPU without relying on the builtins to carry it: a NaN operand of a
// function or of arithmetic gives NaN explicitly (x^0 = 1^p = 1 aside, as IEEE pow), and the
// comparisons (step, eq, the masks) test for NaN. The op codes (`OP_*`) and `MAX_RANK`, the most
// dimensions of a (collapsed) broadcast, come from the generated header; an op code without a
// case here gives NaN.

struct UnaryParams {
    len: u32,
    op: u32,
    scalar: f32,
    // The second scalar of the ops that take two (clamp's upper bound).
    scalar2: f32,
}

struct BinaryParams {
    len: u32,
    op: u32,
    rank: u32,
    _pad: u32,
    // Output dimensions, then each operand's element stride per output dimension (0 where it
    // is broadcast), four to a vec4.
    dims: array<vec4<u32>, MAX_RANK / 4u>,
    a_strides: array<vec4<u32>, MAX_RANK / 4u>,
    b_strides: array<vec4<u32>, MAX_RANK / 4u>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> unary_params: UnaryParams;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> binary_params: BinaryParams;

// Whether `p` is an odd integer (every f32 from 2^24 up is an even integer).
fn odd_integer(p: f32) -> bool {
    return abs(p) < 16777216.0 && p == trunc(p) && (p % 2.0) != 0.0;
}

// x^p as the CPU's powf computes it (IEEE pow): x^0, 1^p and (-1)^±inf are 1 even for NaN, any
// other NaN operand gives NaN, a finite negative base needs an integer power, and the sign is
// the base's for odd integer powers. SPIR-V's pow is left undefined for a negative base and
// for 0^p with p <= 0, so those cases are computed here from |x|.
fn powf(v: f32, p: f32) -> f32 {
    let inf = -neg_inf();
    if p == 0.0 || v == 1.0 || (v == -1.0 && abs(p) == inf) {
        return 1.0;
    }
    if is_nan(v) || is_nan(p) {
        return nan();
    }
    if v < 0.0 && v != -inf && p != trunc(p) {
        return nan(); // as powf of a negative base
    }
    var magnitude = 0.0;
    if v == 0.0 {
        magnitude = select(0.0, inf, p < 0.0);
    } else {
        magnitude = pow(abs(v), p);
    }
    let negative = (bitcast<u32>(v) >> 31u) == 1u; // -0 included
    return select(magnitude, -magnitude, negative && odd_integer(p));
}

// The error function, to 1.5e-7 (Abramowitz and Stegun 7.1.26): WGSL has no builtin.
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
        + 0.254829592) * t;
    return sign(x) * (1.0 - poly * exp(-x * x));
}

// Φ(v), the standard normal distribution function.
fn normal_cdf(v: f32) -> f32 {
    return 0.5 * (1.0 + erf(v * 0.70710678));
}

fn sigmoid(v: f32) -> f32 {
    return 1.0 / (1.0 + exp(-v));
}

// tanh(u) of the tanh form of GELU, u = √(2/π) (v + 0.044715 v³) (clamped as OP_TANH).
fn gelu_tanh_t(v: f32) -> f32 {
    return tanh(clamp(GELU_TANH_SCALE * (v + GELU_TANH_CUBIC * v * v * v), -10.0, 10.0));
}

fn apply_unary(op: u32, v: f32, c: f32, c2: f32) -> f32 {
    if op == OP_POWF {
        return powf(v, c);
    }
    if is_nan(v) || is_nan(c) {
        return nan();
    }
    switch op {
        case OP_NEG: { return -v; }
        case OP_EXP: { return exp(v); }
        // SPIR-V leaves log undefined at 0 and below, sqrt below 0.
        case OP_LOG: { return select(select(log(v), neg_inf(), v == 0.0), nan(), v < 0.0); }
        case OP_SQRT: { return sqrt_nan(v); }
        case OP_RELU: { return max(v, 0.0); }
        case OP_SIGMOID: { return 1.0 / (1.0 + exp(-v)); }
        // tanh(±10) is ±1 in f32; clamping keeps exp-based implementations from overflowing.
        case OP_TANH: { return tanh(clamp(v, -10.0, 10.0)); }
        case OP_ADD_SCALAR: { return v + c; }
        case OP_MUL_SCALAR: { return v * c; }
        case OP_ABS: { return abs(v); }
        case OP_SIGN: { return sign(v); }
        case OP_GELU_ERF: { return v * normal_cdf(v); }
        // Φ(v) + v φ(v), φ(v) = e^(-v²/2) / √(2π).
        case OP_GELU_ERF_GRAD: { return normal_cdf(v) + v * exp(-0.5 * v * v) * 0.39894228; }
        case OP_GELU_TANH: { return 0.5 * v * (1.0 + gelu_tanh_t(v)); }
        case OP_GELU_TANH_GRAD: {
            let t = gelu_tanh_t(v);
            let du = GELU_TANH_SCALE * (1.0 + 3.0 * GELU_TANH_CUBIC * v * v);
            return 0.5 * (1.0 + t + v * (1.0 - t * t) * du);
        }
        case OP_SILU: { return v * sigmoid(v); }
        case OP_SILU_GRAD: {
            let s = sigmoid(v);
            return s * (1.0 + v * (1.0 - s));
        }
        case OP_LEAKY_RELU: { return select(c * v, v, v > 0.0); }
        case OP_LEAKY_RELU_GRAD: { return select(c, 1.0, v > 0.0); }
        case OP_CLAMP: { return min(max(v, c), c2); }
        case OP_CLAMP_GRAD: { return select(0.0, 1.0, c <= v && v <= c2); }
        default: { return nan(); }
    }
}

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < unary_params.len {
        let p = unary_params;
        y[i] = apply_unary(p.op, x[i], p.scalar, p.scalar2);
    }
}

fn apply_binary(op: u32, u: f32, v: f32) -> f32 {
    let u_nan = is_nan(u);
    let v_nan = is_nan(v);
    switch op {
        // Arithmetic: NaN when either side is NaN.
        case OP_ADD: { return select(u + v, nan(), u_nan || v_nan); }
        case OP_SUB: { return select(u - v, nan(), u_nan || v_nan); }
        case OP_MUL: { return select(u * v, nan(), u_nan || v_nan); }
        case OP_DIV: { return select(u / v, nan(), u_nan || v_nan); }
        // A comparison: 0 where either side is NaN.
        case OP_EQ: { return select(0.0, 1.0, u == v && !u_nan && !v_nan); }
        // ReLU's gradient u masked by its output v: 0 where v <= 0, u where v is NaN.
        case OP_MASK_POSITIVE: { return select(u, 0.0, v <= 0.0 && !v_nan); }
        // Where a maximum came from: equal values, or both NaN.
        case OP_MATCHES: { return select(0.0, 1.0, (u == v && !u_nan) || (u_nan && v_nan)); }
        case OP_MAXIMUM: { return max_nan(u, v); }
        case OP_MINIMUM: { return min_nan(u, v); }
        // The share of maximum(u, v)'s gradient that goes to u (1 where either is NaN).
        case OP_MAX_SHARE: {
            return select(select(select(1.0, 0.5, u == v), 0.0, u < v), 1.0, u_nan || v_nan);
        }
        // u where v != 0 (NaN included), else -0 (which adding the other branch's pick leaves
        // out, -0 included).
        case OP_PICK: { return select(-0.0, u, v != 0.0 || v_nan); }
        default: { return nan(); }
    }
}

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= binary_params.len {
        return;
    }
    var rem = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = binary_params.rank; d > 0u; d--) {
        let k = d - 1u;
        let dim = binary_params.dims[k / 4u][k % 4u];
        let coord = rem % dim;
        rem = rem / dim;
        ia += coord * binary_params.a_strides[k / 4u][k % 4u];
        ib += coord * binary_params.b_strides[k / 4u][k % 4u];
    }
    out[i] = apply_binary(binary_params.op, a[ia], b[ib]);
}

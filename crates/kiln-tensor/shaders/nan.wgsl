// NaN helpers for the kernels that compare values or take maxima, so that NaN propagates as on
// the CPU (IEEE 754, as in PyTorch). WGSL's max(), min() and clamp() may return either operand
// when one is NaN, and a driver that assumes NaN absent may fold comparisons such as `v != v`:
// NaN is recognized from its bits instead. A file that uses these names `nan.wgsl` in its
// `// requires:` header and is compiled after it.

// Whether `v` is NaN: all exponent bits set and a nonzero mantissa.
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// Bits of a quiet NaN and of -infinity. A NaN or an infinity that is a constant expression is
// a shader-creation error in WGSL (browsers enforce it), so the values are read from private
// variables, which are not constant expressions.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> NEG_INF_BITS: u32 = 0xff800000u;

// A quiet NaN.
fn nan() -> f32 {
    return bitcast<f32>(NAN_BITS);
}

// -infinity.
fn neg_inf() -> f32 {
    return bitcast<f32>(NEG_INF_BITS);
}

// The larger of `u` and `v`, or NaN when either is NaN (IEEE 754 `maximum`).
fn max_nan(u: f32, v: f32) -> f32 {
    return select(select(max(u, v), v, is_nan(v)), u, is_nan(u));
}

// The smaller of `u` and `v`, or NaN when either is NaN (IEEE 754 `minimum`).
fn min_nan(u: f32, v: f32) -> f32 {
    return select(select(min(u, v), v, is_nan(v)), u, is_nan(u));
}

// The square root, NaN below 0 as in IEEE 754 (SPIR-V leaves `sqrt` undefined there).
fn sqrt_nan(v: f32) -> f32 {
    return select(sqrt(v), nan(), v < 0.0);
}

//! Finite-difference gradient checks (f64, CPU reference) of the CNN ops: pooling,
//! concatenation and slicing, layer norm, and the element-wise functions. Run with the rest of
//! the checks by `cargo test -- gradcheck`.

use kiln_tensor::gradcheck::{check, random_input, Tolerance};
use kiln_tensor::{Gelu, Pool2dOptions, Result, Tensor};
use proptest::prelude::*;

/// Checks `f` at seeded random inputs of the given shapes.
fn grad_ok(shapes: &[Vec<usize>], seed: u64, f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let inputs: Vec<Tensor> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| random_input(s, seed.wrapping_mul(31).wrapping_add(i as u64)))
        .collect();
    if let Err(e) = check(f, &inputs, Tolerance::default(), seed) {
        panic!("{e} (shapes {shapes:?}, seed {seed})");
    }
}

/// Pooling options whose window fits `h` and `w`, padding at most half the window.
fn pool_options(h: usize, w: usize) -> impl Strategy<Value = Pool2dOptions> {
    (1..=h.min(3), 1..=w.min(3), 1usize..=2, 1usize..=3).prop_flat_map(|(kh, kw, sh, sw)| {
        (0..=kh / 2, 0..=kw / 2).prop_map(move |padding| Pool2dOptions {
            kernel: (kh, kw),
            stride: (sh, sw),
            padding,
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradcheck_pooling((h, w, opts) in (1usize..=6, 1usize..=6).prop_flat_map(|(h, w)| (Just(h), Just(w), pool_options(h, w))),
                         n in 1usize..=2, c in 1usize..=3, seed in 0u64..1000) {
        let shapes = [vec![n, c, h, w]];
        grad_ok(&shapes, seed, |x| x[0].max_pool2d(opts));
        grad_ok(&shapes, seed, |x| x[0].avg_pool2d(opts));
        grad_ok(&shapes, seed, |x| x[0].global_avg_pool2d());
        grad_ok(&shapes, seed, |x| x[0].global_max_pool2d());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradcheck_cat_and_narrow(dims in proptest::collection::vec(1usize..=4, 1..=3), pick in any::<usize>(),
                                lens in proptest::collection::vec(1usize..=3, 1..=3), seed in 0u64..1000) {
        let axis = pick % dims.len();
        let shapes: Vec<Vec<usize>> = lens
            .iter()
            .map(|&len| {
                let mut d = dims.clone();
                d[axis] = len;
                d
            })
            .collect();
        grad_ok(&shapes, seed, |x| Tensor::cat(x, axis));
        let d = dims[axis];
        let start = pick % d;
        let whole = [dims];
        grad_ok(&whole, seed, |x| x[0].narrow(axis, start, d - start));
        // Slices of one tensor joined again: the gradients of both slices meet.
        grad_ok(&whole, seed, |x| {
            Tensor::cat(&[x[0].narrow(axis, start, d - start)?, x[0].narrow(axis, 0, start + 1)?], axis)
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradcheck_layer_norm(dims in proptest::collection::vec(1usize..=4, 1..=3), trailing in 1usize..=2,
                            affine in any::<bool>(), seed in 0u64..1000) {
        let trailing = trailing.min(dims.len());
        let norm = dims[dims.len() - trailing..].to_vec();
        // A single normalized value has zero variance: its output is beta, its gradient 0.
        let mut shapes = vec![dims.clone()];
        if affine {
            shapes.push(norm.clone());
            shapes.push(norm.clone());
        }
        grad_ok(&shapes, seed, |x| x[0].layer_norm(&norm, x.get(1), x.get(2), 1e-3));
    }
}

/// A shape of rank 1 to 3 of dimensions 1 to 5.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(prop_oneof![Just(1usize), 2usize..=5], 1..=3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradcheck_activations(s in shape(), seed in 0u64..1000) {
        let shapes = [s];
        // Inputs spread over [-3, 3): GELU's and SiLU's curved parts and tails.
        let wide = |x: &Tensor| x.mul_scalar(3.0);
        grad_ok(&shapes, seed, |x| wide(&x[0])?.gelu(Gelu::Erf));
        grad_ok(&shapes, seed, |x| wide(&x[0])?.gelu(Gelu::Tanh));
        grad_ok(&shapes, seed, |x| wide(&x[0])?.silu());
        grad_ok(&shapes, seed, |x| x[0].leaky_relu(0.1));
        grad_ok(&shapes, seed, |x| x[0].abs());
        grad_ok(&shapes, seed, |x| x[0].clamp(-0.5, 0.25));
    }

    #[test]
    fn gradcheck_maximum_minimum_where(a in shape(), seed in 0u64..1000, keep in any::<u64>()) {
        // The second operand broadcasts: some axes of the first set to 1.
        let b: Vec<usize> = a.iter().enumerate().map(|(i, &d)| if keep >> i & 1 == 1 { d } else { 1 }).collect();
        let shapes = [a.clone(), b.clone()];
        grad_ok(&shapes, seed, |x| x[0].maximum(&x[1]));
        grad_ok(&shapes, seed, |x| x[0].minimum(&x[1]));
        grad_ok(&shapes, seed, |x| x[1].minimum(&x[0]));
        let mask = random_input(&b, seed + 1).relu().unwrap();
        grad_ok(&shapes, seed, |x| Tensor::where_(&mask, &x[0], &x[1]));
        grad_ok(&shapes, seed, |x| Tensor::where_(&mask, &x[1], &x[0]));
    }
}

#[test]
fn gradcheck_softmax_cross_entropy_smoothed() {
    for (classes, smoothing) in [(1usize, 0.2f32), (2, 0.1), (5, 0.2), (7, 1.0)] {
        let labels: Vec<u32> = (0..4).map(|r| r % classes as u32).collect();
        grad_ok(&[vec![4, classes]], classes as u64, |x| {
            x[0].mul_scalar(4.0)?
                .softmax_cross_entropy_smoothed(&labels, smoothing)
        });
    }
}

//! Finite-difference gradient checks (f64, CPU reference) for every differentiable op.
//! Run just these with `cargo test -- gradcheck`. The CNN ops (pooling, concatenation and
//! slicing, layer norm, the newer activations, label smoothing) come last.

use kiln_tensor::gradcheck::{check, random_input, Tolerance};
use kiln_tensor::{Conv2dOptions, Gelu, Padding, Pool2dOptions, Result, Tensor};
use proptest::prelude::*;

// ANCHOR: grad_ok
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
// ANCHOR_END: grad_ok

// ANCHOR: strategies
/// A dimension: 1, small primes and odd sizes.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![Just(1usize), 2usize..=5]
}

fn shape(rank: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<usize>> {
    rank.prop_flat_map(|r| proptest::collection::vec(dim(), r))
}

/// A shape and a second shape that broadcasts against it (some axes set to 1 or dropped).
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape(1..=4).prop_flat_map(|a| {
        let rank = a.len();
        (
            Just(a.clone()),
            proptest::collection::vec(any::<bool>(), rank),
            0..=rank,
        )
            .prop_map(|(a, ones, drop)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(ones)
                    .map(|(&d, one)| if one { 1 } else { d })
                    .collect();
                (a, b[drop.min(b.len())..].to_vec())
            })
    })
}
// ANCHOR_END: strategies

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    // ANCHOR: binary
    #[test]
    fn gradcheck_binary_broadcast((a, b) in broadcast_pair(), swap in any::<bool>(), seed in 0u64..1000) {
        let (a, b) = if swap { (b, a) } else { (a, b) };
        let shapes = [a, b];
        grad_ok(&shapes, seed, |x| x[0].add(&x[1]));
        grad_ok(&shapes, seed, |x| x[0].sub(&x[1]));
        grad_ok(&shapes, seed, |x| x[0].mul(&x[1]));
        // Keep the divisor away from zero.
        grad_ok(&shapes, seed, |x| x[0].div(&x[1].mul(&x[1])?.add_scalar(0.5)?));
    }
    // ANCHOR_END: binary

    #[test]
    fn gradcheck_unary(s in shape(1..=3), seed in 0u64..1000) {
        let shapes = [s];
        grad_ok(&shapes, seed, |x| x[0].neg());
        grad_ok(&shapes, seed, |x| x[0].add_scalar(0.7));
        grad_ok(&shapes, seed, |x| x[0].mul_scalar(-1.3));
        grad_ok(&shapes, seed, |x| x[0].exp());
        grad_ok(&shapes, seed, |x| x[0].relu());
        grad_ok(&shapes, seed, |x| x[0].sigmoid());
        grad_ok(&shapes, seed, |x| x[0].tanh());
        // Positive arguments for log, sqrt and fractional powers.
        let positive = |x: &Tensor| x.mul(x)?.add_scalar(0.25);
        grad_ok(&shapes, seed, |x| positive(&x[0])?.log());
        grad_ok(&shapes, seed, |x| positive(&x[0])?.sqrt());
        grad_ok(&shapes, seed, |x| positive(&x[0])?.powf(1.7));
        grad_ok(&shapes, seed, |x| x[0].powf(3.0));
    }

    #[test]
    fn gradcheck_reductions(s in shape(1..=4), keepdim in any::<bool>(), pick in any::<u64>(), seed in 0u64..1000) {
        let axes: Vec<usize> = (0..s.len()).filter(|i| pick >> i & 1 == 1).collect();
        let shapes = [s];
        grad_ok(&shapes, seed, |x| x[0].sum(&axes, keepdim));
        grad_ok(&shapes, seed, |x| x[0].mean(&axes, keepdim));
        grad_ok(&shapes, seed, |x| x[0].max(&axes, keepdim));
        grad_ok(&shapes, seed, |x| x[0].sum_all());
        grad_ok(&shapes, seed, |x| x[0].mean_all());
        grad_ok(&shapes, seed, |x| x[0].max_all());
    }

    #[test]
    fn gradcheck_layout(s in shape(2..=4), seed in 0u64..1000, rot in 0usize..4) {
        let rank = s.len();
        let perm: Vec<usize> = (0..rank).map(|i| (i + rot) % rank).collect();
        let shapes = [s.clone()];
        grad_ok(&shapes, seed, |x| x[0].permute(&perm));
        grad_ok(&shapes, seed, |x| x[0].transpose(0, rank - 1));
        grad_ok(&shapes, seed, |x| x[0].flatten_from(1));
        // The lazy transpose, read by ops other than matmul (materialized) and reshaped.
        grad_ok(&shapes, seed, |x| Ok(x[0].t()));
        grad_ok(&shapes, seed, |x| x[0].t().tanh());
        grad_ok(&shapes, seed, |x| x[0].t().flatten());
        grad_ok(&shapes, seed, |x| x[0].reshape(&[s.iter().product()]));
        let mut wide = s.clone();
        wide.insert(0, 3);
        grad_ok(&shapes, seed, |x| x[0].broadcast_to(&wide));
    }

    // ANCHOR: matmul
    #[test]
    fn gradcheck_matmul(m in dim(), k in dim(), n in dim(), batch in 1usize..=3,
                        ta in any::<bool>(), tb in any::<bool>(), seed in 0u64..1000) {
        let a = if ta { vec![k, m] } else { vec![m, k] };
        let b = if tb { vec![n, k] } else { vec![k, n] };
        // `op(x)` is the lazy transpose `x.t()` where the flag is set.
        let op = |x: &Tensor, t: bool| if t { x.t() } else { x.clone() };
        let product = |x: &[Tensor]| op(&x[0], ta).matmul(&op(&x[1], tb));
        grad_ok(&[a.clone(), b.clone()], seed, product);
        let batched = |v: &Vec<usize>| [vec![batch], v.clone()].concat();
        grad_ok(&[batched(&a), batched(&b)], seed, product);
        grad_ok(&[batched(&a), b.clone()], seed, product);
        grad_ok(&[a, batched(&b)], seed, product);
    }
    // ANCHOR_END: matmul

    #[test]
    fn gradcheck_conv2d(n in 1usize..=2, c_in in 1usize..=3, c_out in 1usize..=3,
                        h in 3usize..=6, w in 3usize..=6, kh in 1usize..=3, kw in 1usize..=3,
                        stride in 1usize..=2, pad in 0usize..=1, bias in any::<bool>(),
                        seed in 0u64..1000) {
        let opts = Conv2dOptions { stride: (stride, 3 - stride), padding: Padding::uniform(pad) };
        let mut shapes = vec![vec![n, c_in, h, w], vec![c_out, c_in, kh, kw]];
        if bias {
            shapes.push(vec![c_out]);
        }
        grad_ok(&shapes, seed, |x| x[0].conv2d(&x[1], x.get(2), opts));
    }

    #[test]
    fn gradcheck_conv2d_same_padding(h in 2usize..=6, stride in 1usize..=2, seed in 0u64..1000) {
        let opts = Conv2dOptions { stride: (stride, stride), padding: Padding::Same };
        grad_ok(&[vec![2, 2, h, h + 1], vec![3, 2, 3, 2]], seed, |x| x[0].conv2d(&x[1], None, opts));
    }

    // ANCHOR: batch_norm
    #[test]
    fn gradcheck_batch_norm_train(n in 2usize..=5, c in 1usize..=3, spatial in prop_oneof![Just(vec![]), Just(vec![3]), Just(vec![2, 3])],
                                  affine in any::<bool>(), seed in 0u64..1000) {
        let mut shapes = vec![[vec![n, c], spatial].concat()];
        if affine {
            shapes.push(vec![c]);
            shapes.push(vec![c]);
        }
        grad_ok(&shapes, seed, |x| {
            Ok(x[0].batch_norm_train(x.get(1), x.get(2), 1e-3)?.0)
        });
    }

    #[test]
    fn gradcheck_batch_norm_eval(n in 1usize..=4, c in 1usize..=3, seed in 0u64..1000) {
        let mean = random_input(&[c], seed + 7);
        let var = random_input(&[c], seed + 8).mul(&random_input(&[c], seed + 8)).unwrap().add_scalar(0.5).unwrap();
        grad_ok(&[vec![n, c, 2, 2], vec![c], vec![c]], seed, |x| {
            x[0].batch_norm_eval(Some(&x[1]), Some(&x[2]), &mean, &var, 1e-5)
        });
    }
    // ANCHOR_END: batch_norm

    #[test]
    fn gradcheck_log_softmax(s in shape(1..=3), seed in 0u64..1000) {
        grad_ok(&[s], seed, |x| x[0].mul_scalar(3.0)?.log_softmax());
    }

    #[test]
    fn gradcheck_dropout(s in shape(1..=3), p in 0.0f32..0.9, seed in 0u64..1000) {
        grad_ok(&[s], seed, |x| x[0].dropout(p, seed));
    }
}

#[test]
fn gradcheck_softmax_cross_entropy_every_label() {
    for classes in [1usize, 2, 3, 7] {
        for label in 0..classes as u32 {
            let labels = [label, (label + 1) % classes as u32, 0];
            grad_ok(&[vec![3, classes]], 11 + label as u64, |x| {
                x[0].mul_scalar(4.0)?.softmax_cross_entropy(&labels)
            });
        }
    }
}

/// Composite: a 2-layer MLP with a cross-entropy loss, all parameters at once.
#[test]
fn gradcheck_mlp() {
    let labels = [0u32, 2, 1, 2, 0];
    grad_ok(
        &[vec![5, 4], vec![6, 4], vec![6], vec![3, 6], vec![3]],
        3,
        |x| {
            let h = x[0].matmul(&x[1].t())?.add(&x[2])?.tanh()?;
            h.matmul(&x[3].t())?
                .add(&x[4])?
                .softmax_cross_entropy(&labels)
        },
    );
}

// ANCHOR: composite
/// Composite: conv -> batch norm (train, affine) -> relu -> flatten -> linear -> loss.
#[test]
fn gradcheck_conv_bn_relu_linear() {
    let labels = [1u32, 0, 2];
    let opts = Conv2dOptions {
        stride: (2, 1),
        padding: Padding::uniform(1),
    };
    grad_ok(
        &[
            vec![3, 2, 5, 4],
            vec![3, 2, 3, 3],
            vec![3],
            vec![3],
            vec![3],
            vec![3, 3 * 3 * 4],
        ],
        5,
        |x| {
            let y = x[0].conv2d(&x[1], Some(&x[2]), opts)?;
            let y = y.batch_norm_train(Some(&x[3]), Some(&x[4]), 1e-3)?.0;
            let y = y.relu()?.flatten_from(1)?;
            y.matmul(&x[5].t())?.softmax_cross_entropy(&labels)
        },
    );
}
// ANCHOR_END: composite

// ANCHOR: wrong_gradient
/// The harness itself must reject a wrong gradient.
#[test]
fn gradcheck_detects_a_wrong_gradient() {
    let x = random_input(&[3, 2], 1);
    // exp(x) evaluated, but the output's weights differ from the inputs used to differentiate:
    // a function whose analytic gradient ignores half its dependence.
    let err = check(|x| x[0].mul(&x[0].detach()), &[x], Tolerance::default(), 1).unwrap_err();
    assert!(err.to_string().contains("analytic"), "{err}");
}
// ANCHOR_END: wrong_gradient

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gradcheck_activations(s in shape(1..=3), seed in 0u64..1000) {
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
    fn gradcheck_maximum_minimum_where(a in shape(1..=3), seed in 0u64..1000, keep in any::<u64>()) {
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

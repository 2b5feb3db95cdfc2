//! The public ops on edge cases, on the CPU and on the GPU: random shapes with empty and
//! size-1 axes, random arguments (invalid ones included), and inputs that may hold a NaN, an
//! infinity or 1e30. Either both devices refuse the call, or both give the same shape, values
//! and gradients. The kernel tests check each kernel on well-formed inputs; this checks whole
//! ops (argument checks, autograd, the choice of kernel) where they are easiest to get wrong.

use kiln_tensor::test_util::{assert_close, gpu_or_skip};
use kiln_tensor::{
    AdamStep, Conv2dOptions, Device, Gelu, Padding, Pool2dOptions, Result, SgdStep, Tensor,
};
use proptest::prelude::*;

/// What an op is called with: two inputs, a per-channel vector (of `a`'s axis 1, or of the
/// output channels when `b` is a convolution weight), labels for `a`'s rows, three small
/// numbers for axes, sizes and hyper-parameters, and a permutation of `a`'s axes.
#[derive(Debug)]
struct Call {
    a: Tensor,
    b: Tensor,
    channels: Tensor,
    labels: Vec<u32>,
    s: [usize; 3],
    perm: Vec<usize>,
}

impl Call {
    /// `s[i]` as a number in `[0, 0.9]`.
    fn fraction(&self, i: usize) -> f32 {
        self.s[i].min(9) as f32 / 10.0
    }

    /// Flat copies, outside autograd, of `a` as a parameter, `b` as its gradient and first
    /// moment, and `b²` as its second moment, for the optimizers' in-place updates.
    fn optimizer_state(&self) -> Result<[Tensor; 4]> {
        let b = self.b.detach().flatten()?;
        Ok([
            self.a.detach().copy()?.flatten()?,
            b.clone(),
            b.copy()?,
            b.mul(&b)?,
        ])
    }
}

type Op = fn(&Call) -> Result<Tensor>;

/// Every op family, by name.
const OPS: &[(&str, Op)] = &[
    ("add", |c| c.a.add(&c.b)),
    ("sub", |c| c.a.sub(&c.b)),
    ("mul", |c| c.a.mul(&c.b)),
    ("div", |c| c.a.div(&c.b)),
    ("maximum", |c| c.a.maximum(&c.b)),
    ("minimum", |c| c.a.minimum(&c.b)),
    ("where", |c| {
        Tensor::where_(&c.a, &c.b, &c.a.mul_scalar(3.0)?)
    }),
    ("mask_positive", |c| c.a.mask_positive(&c.b)),
    ("eq", |c| c.a.eq(&c.b)),
    ("matmul", |c| c.a.matmul(&c.b)),
    ("narrow", |c| c.a.narrow(c.s[0], c.s[1], c.s[2])),
    ("cat", |c| Tensor::cat(&[c.a.clone(), c.b.clone()], c.s[0])),
    ("sum", |c| c.a.sum(&[c.s[0]], c.s[1] % 2 == 0)),
    ("sum of two axes", |c| c.a.sum(&[c.s[0], c.s[1]], false)),
    ("mean", |c| c.a.mean(&[c.s[0], c.s[1]], true)),
    ("max", |c| c.a.max(&[c.s[0]], false)),
    ("sum_all", |c| c.a.sum_all()),
    ("mean_all", |c| c.a.mean_all()),
    ("max_all", |c| c.a.max_all()),
    ("argmax", |c| c.a.argmax()),
    ("reshape", |c| c.a.reshape(c.b.dims())),
    ("permute", |c| {
        c.a.permute(&c.perm)?.mul(&c.a.permute(&c.perm)?)
    }),
    ("transpose", |c| {
        c.a.transpose(c.s[0], c.s[1])?.mul_scalar(2.0)
    }),
    ("flatten_from", |c| c.a.flatten_from(c.s[0])?.exp()),
    ("broadcast_to", |c| c.a.broadcast_to(c.b.dims())),
    ("sum_to", |c| c.a.sum_to(c.b.shape())),
    ("conv2d", |c| {
        let opts = Conv2dOptions {
            stride: (c.s[0], c.s[1]),
            padding: Padding::uniform(c.s[2]),
        };
        c.a.conv2d(&c.b, None, opts)
    }),
    ("conv2d, same padding and bias", |c| {
        let opts = Conv2dOptions {
            stride: (c.s[0].max(1), 1),
            padding: Padding::Same,
        };
        c.a.conv2d(&c.b, Some(&c.channels), opts)
    }),
    ("max_pool2d", |c| {
        let opts = Pool2dOptions {
            kernel: (c.s[0], c.s[0]),
            stride: (c.s[1], c.s[1]),
            padding: (c.s[2], c.s[2]),
        };
        c.a.max_pool2d(opts)
    }),
    ("avg_pool2d", |c| {
        let opts = Pool2dOptions {
            kernel: (c.s[0], c.s[1]),
            stride: (c.s[1], c.s[0]),
            padding: (c.s[2], 0),
        };
        c.a.avg_pool2d(opts)
    }),
    ("global_avg_pool2d", |c| c.a.global_avg_pool2d()),
    ("global_max_pool2d", |c| c.a.global_max_pool2d()),
    ("batch_norm_train", |c| {
        let (y, _) =
            c.a.batch_norm_train(Some(&c.channels), Some(&c.channels), 1e-5)?;
        Ok(y)
    }),
    ("batch_norm_eval", |c| {
        c.a.batch_norm_eval(Some(&c.channels), None, &c.channels, &c.channels, 1e-5)
    }),
    ("layer_norm", |c| {
        let last = &c.a.dims()[c.s[0].min(c.a.rank())..];
        c.a.layer_norm(last, None, None, 1e-5)
    }),
    ("log_softmax", |c| c.a.log_softmax()),
    ("softmax_cross_entropy", |c| {
        c.a.softmax_cross_entropy(&c.labels)
    }),
    ("softmax_cross_entropy_smoothed", |c| {
        c.a.softmax_cross_entropy_smoothed(&c.labels, c.fraction(2))
    }),
    ("dropout", |c| c.a.dropout(c.fraction(0), 1)),
    ("clamp", |c| c.a.clamp(-c.fraction(0), c.fraction(1))),
    ("powf", |c| c.a.abs()?.powf(c.s[0] as f32 / 2.0)),
    ("leaky_relu", |c| c.a.leaky_relu(c.fraction(0))),
    ("exp, log, sqrt", |c| {
        c.a.exp()?.add(&c.a.abs()?.log()?)?.add(&c.a.sqrt()?)
    }),
    ("relu, sigmoid, tanh, neg", |c| {
        c.a.relu()?.add(&c.a.sigmoid()?)?.add(&c.a.tanh()?.neg()?)
    }),
    ("adam_update_", |c| {
        let [param, grad, exp_avg, exp_avg_sq] = c.optimizer_state()?;
        let hp = AdamStep {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: c.fraction(2),
            decoupled: c.s[1] % 2 == 0,
            step: c.s[0] as u32 + 1,
        };
        param.adam_update_(&grad, &exp_avg, &exp_avg_sq, &hp)?;
        Tensor::cat(&[param, exp_avg, exp_avg_sq], 0)
    }),
    ("sgd_update_", |c| {
        let [param, grad, momentum_buffer, _] = c.optimizer_state()?;
        let hp = SgdStep {
            lr: 1.0,
            momentum: c.fraction(0),
            nesterov: c.s[1] % 2 == 0,
            weight_decay: c.fraction(2),
        };
        param.sgd_update_(&grad, Some(&momentum_buffer), &hp)?;
        Tensor::cat(&[param, momentum_buffer], 0)
    }),
    ("gelu, silu", |c| {
        c.a.gelu(Gelu::Erf)?
            .add(&c.a.gelu(Gelu::Tanh)?)?
            .add(&c.a.silu()?)
    }),
];

/// Axis sizes: empty, 1, and small primes.
fn dims() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop::sample::select(vec![0usize, 1, 2, 3, 5, 7]), 0..=4)
}

/// Batches of images `[n, c, h, w]`, for the convolutions and pools (empty ones included).
fn images() -> impl Strategy<Value = Vec<usize>> {
    let small = prop::sample::select(vec![0usize, 1, 2, 3]);
    let side = prop::sample::select(vec![0usize, 1, 2, 3, 5, 7, 9]);
    (small.clone(), small, side.clone(), side).prop_map(|(n, c, h, w)| vec![n, c, h, w])
}

/// Inputs of `dims` in `[-1, 1)`, one element replaced by a NaN, an infinity or 1e30 when
/// `special` says so (its index a fraction of the length).
fn input(dims: &[usize], seed: u64, special: Option<(f64, f32)>) -> Tensor {
    let mut values = Tensor::rand_uniform(dims, -1.0, 1.0, seed)
        .to_vec()
        .unwrap();
    if let (Some((at, value)), false) = (special, values.is_empty()) {
        let i = ((at * values.len() as f64) as usize).min(values.len() - 1);
        values[i] = value;
    }
    Tensor::from_vec(values, dims).unwrap()
}

/// An output's shape and values, and the gradients of `a`, `b` and `channels`.
type Outcome = (Vec<usize>, Vec<f32>, [Option<Vec<f32>>; 3]);

/// `op` on `device`, with gradients tracked on `a`, `b` and `channels`: the gradients of
/// `Σ w · output` for seeded weights `w`.
fn run(op: Op, call: &Call, device: Device) -> Result<Outcome> {
    let leaf = |t: &Tensor| -> Result<Tensor> { Ok(t.to_device(device)?.requires_grad()) };
    let on_device = Call {
        a: leaf(&call.a)?,
        b: leaf(&call.b)?,
        channels: leaf(&call.channels)?,
        labels: call.labels.clone(),
        s: call.s,
        perm: call.perm.clone(),
    };
    let y = op(&on_device)?;
    if y.tracks_grad() {
        let w = Tensor::rand_uniform(y.dims(), -1.0, 1.0, 99).to_device(device)?;
        y.mul(&w)?.sum_all()?.backward()?;
    }
    let grad = |t: &Tensor| t.grad().map(|g| g.to_vec()).transpose();
    let c = &on_device;
    Ok((
        y.dims().to_vec(),
        y.to_vec()?,
        [grad(&c.a)?, grad(&c.b)?, grad(&c.channels)?],
    ))
}

/// Runs `op` on both devices and compares the outcomes.
fn check((name, op): (&str, Op), call: &Call, gpu: Device) {
    let what = format!(
        "{name} of a {:?}, b {:?}, s {:?}, perm {:?}",
        call.a.dims(),
        call.b.dims(),
        call.s,
        call.perm
    );
    match (run(op, call, Device::Cpu), run(op, call, gpu)) {
        (Err(_), Err(_)) => {}
        (Ok((dims, y, grads)), Ok((gpu_dims, gpu_y, gpu_grads))) => {
            assert_eq!(gpu_dims, dims, "{what}: shapes differ");
            let close = |part: &str, got: &[f32], want: &[f32]| {
                let want: Vec<f64> = want.iter().map(|&v| v.into()).collect();
                assert_close(&format!("{what}: {part}"), got, &want, 1e-3, 1e-3);
            };
            close("output", &gpu_y, &y);
            for (i, (g, c)) in gpu_grads.iter().zip(&grads).enumerate() {
                match (g, c) {
                    (Some(g), Some(c)) => close(&format!("gradient of input {i}"), g, c),
                    (None, None) => {}
                    _ => panic!("{what}: input {i} has a gradient on one device only"),
                }
            }
        }
        (Ok(_), Err(e)) => panic!("{what}: only the GPU fails: {e}"),
        (Err(e), Ok(_)) => panic!("{what}: only the CPU fails: {e}"),
    }
}

/// Calls with `a` of random dims or a batch of images, possibly holding one special value;
/// `b` shaped like `a`, at random, as a convolution weight for `a`, or like `a` with its last
/// two axes swapped (a valid right operand of a batched product); `channels` sized for `a` or
/// that weight.
fn calls() -> impl Strategy<Value = Call> {
    let special = prop::option::weighted(
        0.5,
        (
            0.0..1.0f64,
            prop::sample::select(vec![f32::NAN, f32::INFINITY, -f32::INFINITY, 1e30]),
        ),
    );
    let s = [0usize..5, 0usize..5, 0usize..5];
    (
        prop_oneof![dims(), images()],
        0..4,
        dims(),
        s,
        special,
        any::<u64>(),
        0u64..1000,
    )
        .prop_map(|(a_dims, b_kind, any_dims, s, special, shuffle, seed)| {
            let axis1 = a_dims.get(1).copied().unwrap_or(1);
            let b_dims = match b_kind {
                0 => a_dims.clone(),
                1 => any_dims,
                2 => vec![s[0] + 1, axis1, s[1] + 1, s[2] + 1],
                _ => {
                    let (mut t, n) = (a_dims.clone(), a_dims.len());
                    if n >= 2 {
                        t.swap(n - 2, n - 1);
                    }
                    t
                }
            };
            let channels = if b_kind == 2 { b_dims[0] } else { axis1 };
            let rows = a_dims.first().copied().unwrap_or(0);
            let mut perm: Vec<usize> = (0..a_dims.len()).collect();
            for i in (1..perm.len()).rev() {
                perm.swap(i, (shuffle >> (8 * i)) as usize % (i + 1));
            }
            Call {
                a: input(&a_dims, seed, special),
                b: input(&b_dims, seed + 1, None),
                channels: Tensor::rand_uniform(&[channels], 0.5, 1.5, seed + 2),
                labels: (0..rows).map(|i| (i * 7 % axis1.max(1)) as u32).collect(),
                s,
                perm,
            }
        })
}

#[test]
fn ops_agree_on_both_devices_on_edge_cases() {
    let Some(gpu) = gpu_or_skip() else { return };
    proptest!(ProptestConfig::with_cases(10_000), |(op in 0..OPS.len(), call in calls())| {
        check(OPS[op], &call, gpu);
    });
}

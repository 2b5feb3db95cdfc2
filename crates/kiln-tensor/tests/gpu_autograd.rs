//! Autograd on the GPU: the same small network (convolution, batch norm, activations,
//! broadcasting, reductions, layout changes, dropout, matmul, softmax cross-entropy) run on
//! both devices, comparing the loss and every parameter's gradient. The ops call the kernels
//! of their operands' device, so this checks that the GPU kernels compose into the same
//! gradients as the CPU reference.

use kiln_tensor::random::Rng;
use kiln_tensor::test_util::assert_close;
use kiln_tensor::test_util::gpu_or_skip;
use kiln_tensor::{Conv2dOptions, Device, Padding, Result, Tensor};

/// The network's leaves, created on the CPU.
struct Leaves {
    x: Tensor,
    conv_w: Tensor,
    conv_b: Tensor,
    gamma: Tensor,
    beta: Tensor,
    scale: Tensor,
    fc: Tensor,
}

impl Leaves {
    fn new(seed: u64, n: usize, classes: usize) -> Leaves {
        let mut rng = Rng::new(seed);
        let mut t = |dims: &[usize], lo: f32, hi: f32| {
            Tensor::from_vec(rng.uniform_vec(dims.iter().product(), lo, hi), dims).unwrap()
        };
        Leaves {
            x: t(&[n, 2, 7, 5], -1.0, 1.0),
            conv_w: t(&[3, 2, 3, 3], -0.5, 0.5),
            conv_b: t(&[3], -0.1, 0.1),
            gamma: t(&[3], 0.5, 1.5),
            beta: t(&[3], -0.5, 0.5),
            scale: t(&[1, 3, 1, 1], 0.5, 2.0),
            fc: t(&[3 * 7 * 5, classes], -0.2, 0.2),
        }
    }

    /// Copies on `device` that track gradients, in a fixed order.
    fn on(&self, device: Device) -> Vec<Tensor> {
        [
            &self.x,
            &self.conv_w,
            &self.conv_b,
            &self.gamma,
            &self.beta,
            &self.scale,
            &self.fc,
        ]
        .map(|t| t.to_device(device).unwrap().requires_grad())
        .to_vec()
    }
}

/// Loss of the network over `leaves` (as ordered by [`Leaves::on`]).
fn loss(leaves: &[Tensor], labels: &[u32]) -> Result<Tensor> {
    let [x, conv_w, conv_b, gamma, beta, scale, fc] = leaves else {
        unreachable!("seven leaves")
    };
    let opts = Conv2dOptions {
        stride: (1, 1),
        padding: Padding::Same,
    };
    let h = x.conv2d(conv_w, Some(conv_b), opts)?;
    let h = h.batch_norm_train(Some(gamma), Some(beta), 1e-5)?.0;
    let h = h.relu()?.mul(scale)?.add(&h.tanh()?)?;
    let h = h
        .sigmoid()?
        .add(&h.exp()?.div(&h.powf(2.0)?.add_scalar(1.0)?)?)?;
    let h = h
        .permute(&[0, 2, 3, 1])?
        .transpose(1, 2)?
        .dropout(0.25, 7)?;
    let n = h.dims()[0];
    let logits = h.reshape(&[n, 3 * 7 * 5])?.matmul(fc)?;
    let centered = logits.sub(&logits.mean(&[1], true)?)?;
    let ce = centered.softmax_cross_entropy(labels)?;
    let extra = logits.log_softmax()?.max(&[1], false)?.mean_all()?;
    ce.add(&extra.mul_scalar(0.1)?)
}

#[test]
fn network_gradients_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    for (seed, n) in [(1, 1), (2, 3), (3, 8)] {
        let classes = 5;
        let labels: Vec<u32> = (0..n as u32).map(|i| (i * 3 + seed as u32) % 5).collect();
        let leaves = Leaves::new(seed, n, classes);
        let (cpu_leaves, gpu_leaves) = (leaves.on(Device::Cpu), leaves.on(gpu));
        let cpu_loss = loss(&cpu_leaves, &labels).unwrap();
        let gpu_loss = loss(&gpu_leaves, &labels).unwrap();
        assert_eq!(gpu_loss.device(), Device::Gpu);
        cpu_loss.backward().unwrap();
        gpu_loss.backward().unwrap();
        let want = [f64::from(cpu_loss.item().unwrap())];
        assert_close("loss", &gpu_loss.to_vec().unwrap(), &want, 1e-4, 1e-3);
        let names = ["x", "conv_w", "conv_b", "gamma", "beta", "scale", "fc"];
        for ((name, c), g) in names.iter().zip(&cpu_leaves).zip(&gpu_leaves) {
            let gg = g
                .grad()
                .unwrap_or_else(|| panic!("{name} has a GPU gradient"));
            assert_eq!(gg.device(), Device::Gpu, "{name}");
            let want: Vec<f64> = c.grad().unwrap().to_vec_f64().unwrap();
            let what = format!("d loss / d {name} (batch {n})");
            assert_close(&what, &gg.to_vec().unwrap(), &want, 1e-4, 1e-3);
        }
    }
}

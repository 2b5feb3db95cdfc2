//! Training parity: a small conv + batch-norm + dense network trained with SGD (momentum) and
//! Adam for a few steps from the same initial weights on the GPU and on the CPU gives the same
//! losses, and the same running statistics, within f32 tolerance.

use kiln_nn::{
    cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNorm2d, BatchNormConfig, Conv2d, Flatten,
    LayerInit, Linear, Module, Momentum, Optimizer, ReLU, Sequential, Sgd, SgdConfig,
};
use kiln_tensor::{
    test_util::gpu_or_skip, with_matmul_precision, Device, MatmulPrecision, Padding, Tensor,
};

fn net() -> Sequential {
    let bn = BatchNormConfig {
        eps: 1e-3,
        momentum: Momentum::TensorFlow(0.75),
        affine: true,
    };
    let init = LayerInit::tensorflow();
    Sequential::new()
        .with(BatchNorm2d::new(3, bn).unwrap())
        .with(Conv2d::new(3, 5, (3, 3), init, 1).unwrap().stride(2))
        .with(ReLU)
        .with(BatchNorm2d::new(5, bn).unwrap())
        .with(
            Conv2d::new(5, 7, (3, 3), init, 2)
                .unwrap()
                .padding(Padding::Same),
        )
        .with(ReLU)
        .with(Flatten)
        .with(BatchNorm1d::new(7 * 5 * 5, bn).unwrap())
        .with(Linear::new(7 * 5 * 5, 11, init, 3).unwrap())
        .with(ReLU)
        .with(Linear::new(11, 4, init, 4).unwrap())
}

/// Losses of `steps` optimizer steps on one fixed batch, and the final running statistics.
fn train(device: Device, adam: bool, steps: usize) -> (Vec<f32>, Vec<f32>) {
    let mut model = net();
    model.to_device(device).unwrap();
    let mut opt: Box<dyn Optimizer> = if adam {
        Box::new(Adam::new(model.parameters(), AdamConfig::default().lr(1e-2)).unwrap())
    } else {
        let config = SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 1e-4,
        };
        Box::new(Sgd::new(model.parameters(), config).unwrap())
    };
    let x = Tensor::rand_uniform(&[13, 3, 11, 11], 0.0, 1.0, 9)
        .to_device(device)
        .unwrap();
    let labels: Vec<u32> = (0..13).map(|i| (i * 3 % 4) as u32).collect();
    let losses = (0..steps)
        .map(|_| {
            opt.zero_grad();
            let loss = cross_entropy(&model.forward(&x).unwrap(), &labels).unwrap();
            loss.backward().unwrap();
            opt.step().unwrap();
            loss.item().unwrap()
        })
        .collect();
    let stats = model
        .named_buffers()
        .iter()
        .flat_map(|(_, t)| t.to_vec().unwrap())
        .collect();
    (losses, stats)
}

fn assert_close(gpu: &[f32], cpu: &[f32], what: &str) {
    assert_eq!(gpu.len(), cpu.len());
    for (i, (g, c)) in gpu.iter().zip(cpu).enumerate() {
        assert!(
            (g - c).abs() <= 1e-3 + 1e-3 * c.abs(),
            "{what} {i}: gpu {g}, cpu {c}"
        );
    }
}

#[test]
fn training_steps_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    for adam in [false, true] {
        let (gpu_losses, gpu_stats) = train(gpu, adam, 6);
        let (cpu_losses, cpu_stats) = train(Device::Cpu, adam, 6);
        let name = if adam { "adam loss" } else { "sgd loss" };
        assert_close(&gpu_losses, &cpu_losses, name);
        assert_close(&gpu_stats, &cpu_stats, "running statistic");
        // The steps did train: the loss moved.
        assert!(
            cpu_losses.last().unwrap() < &cpu_losses[0],
            "{cpu_losses:?}"
        );
    }
}

/// Trained with f16 operands in the GPU's products and convolutions (forward and backward, on
/// the thread that trains), the network's losses follow the CPU's in f32 closely, and fall.
#[test]
fn training_steps_with_f16_operands_follow_f32() {
    let Some(gpu) = gpu_or_skip() else { return };
    let probe = Tensor::ones(&[1, 1]).to_device(gpu).unwrap();
    let f16 = |f: &mut dyn FnMut()| with_matmul_precision(MatmulPrecision::F16Operands, f);
    let mut supported = true;
    f16(&mut || {
        if let Err(e) = probe.matmul(&probe) {
            assert!(e.to_string().contains("shader-f16"), "{e}");
            supported = false;
        }
    });
    if !supported {
        eprintln!("skipped: the adapter has no shader-f16");
        return;
    }
    let mut f16_losses = Vec::new();
    f16(&mut || f16_losses = train(gpu, true, 6).0);
    let (cpu_losses, _) = train(Device::Cpu, true, 6);
    // The first loss is a forward pass from the same weights; the steps' small differences
    // then grow as the two runs' weights drift apart (2e-4 of the loss at first, 1.4e-2 after
    // five steps on lavapipe), where the loss itself falls fourteenfold.
    for (i, (h, c)) in f16_losses.iter().zip(&cpu_losses).enumerate() {
        let rtol = if i == 0 { 1e-3 } else { 5e-2 };
        assert!(
            (h - c).abs() <= rtol * c.abs(),
            "loss {i}: f16 {h}, f32 {c}"
        );
    }
    assert!(
        f16_losses.last().unwrap() < &f16_losses[0],
        "{f16_losses:?}"
    );
}

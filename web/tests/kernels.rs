//! kiln's GPU kernels in the browser (WebGPU, on Chromium's SwiftShader in CI) against its CPU
//! kernels, on awkward sizes: the native GPU-against-CPU checks, where the page runs.
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test kernels`
//! from `web/` (`webdriver.json` passes Chromium its WebGPU flags); `.ci/web` runs it.
#![cfg(target_arch = "wasm32")]

use kiln::tensor::{gpu, Conv2dOptions, Device, Padding, Tensor};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The native tests' GPU vs CPU tolerance (f32, reductions of a few hundred terms).
const ATOL: f32 = 1e-4;
const RTOL: f32 = 1e-3;

async fn open() {
    gpu::init()
        .await
        .expect("WebGPU adapter (Chromium needs --enable-unsafe-webgpu)");
}

fn random(dims: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(dims, -1.0, 1.0, seed)
}

/// `f(inputs on the GPU)` against `f(inputs on the CPU)`, element by element.
async fn same_on_both(
    what: &str,
    inputs: &[Tensor],
    f: impl Fn(&[Tensor]) -> kiln::tensor::Result<Tensor>,
) {
    let on_gpu: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.to_device(Device::Gpu).expect("upload"))
        .collect();
    let expected = f(inputs).expect("cpu").to_vec().expect("cpu read");
    let got = f(&on_gpu)
        .expect("gpu")
        .to_vec_async()
        .await
        .expect("gpu read");
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert!(
            (g - e).abs() <= ATOL + RTOL * e.abs(),
            "{what}: element {i}: gpu {g} vs cpu {e}"
        );
    }
}

#[wasm_bindgen_test]
async fn matmul_with_a_transposed_operand() {
    open().await;
    let (a, b) = (random(&[13, 37], 1), random(&[29, 37], 2));
    same_on_both("a b^T", &[a, b], |t| t[0].matmul(&t[1].t())).await;
}

#[wasm_bindgen_test]
async fn conv2d_strided_with_bias() {
    open().await;
    let inputs = [
        random(&[2, 3, 11, 9], 3),
        random(&[5, 3, 3, 3], 4),
        random(&[5], 5),
    ];
    let opts = Conv2dOptions {
        stride: (2, 1),
        padding: Padding::Same,
    };
    same_on_both("conv2d", &inputs, |t| t[0].conv2d(&t[1], Some(&t[2]), opts)).await;
}

#[wasm_bindgen_test]
async fn batch_norm_train() {
    open().await;
    let inputs = [random(&[4, 6, 5, 5], 6), random(&[6], 7), random(&[6], 8)];
    same_on_both("batch norm", &inputs, |t| {
        Ok(t[0].batch_norm_train(Some(&t[1]), Some(&t[2]), 1e-3)?.0)
    })
    .await;
}

#[wasm_bindgen_test]
async fn softmax_cross_entropy_gradient() {
    open().await;
    let labels = [3, 0, 9, 9, 1, 5, 2];
    same_on_both("d loss / d logits", &[random(&[7, 10], 9)], |t| {
        let logits = t[0].clone().requires_grad();
        logits.softmax_cross_entropy(&labels)?.backward()?;
        Ok(logits.grad().expect("logits track gradients"))
    })
    .await;
}

#[wasm_bindgen_test]
async fn reductions_and_broadcast() {
    open().await;
    let inputs = [random(&[31, 17], 10), random(&[17], 11)];
    same_on_both("relu(x + b) summed", &inputs, |t| {
        t[0].add(&t[1])?.relu()?.sum_all()
    })
    .await;
    same_on_both("argmax", &inputs[..1], |t| t[0].argmax()).await;
    same_on_both("max", &inputs[..1], |t| t[0].max_all()).await;
}

#[wasm_bindgen_test]
async fn a_blocking_read_back_is_an_error_not_a_hang() {
    open().await;
    let x = random(&[8], 12).to_device(Device::Gpu).expect("upload");
    let e = x
        .relu()
        .expect("relu")
        .to_vec()
        .expect_err("blocking read on the web");
    assert!(e.to_string().contains("to_vec_async"), "{e}");
}

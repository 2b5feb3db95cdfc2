//! Chapter 7: batch norm's statistics and running averages on four numbers, by hand.

use kiln::nn::{BatchNorm1d, BatchNormConfig, Module, Momentum};
use kiln::prelude::*;
use kiln::tensor::Result;

fn close(a: &[f32], b: &[f32]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
}

// ANCHOR: running
#[test]
fn running_statistics_by_hand() -> Result<()> {
    // One channel, four values: mean 2.5, biased variance 1.25, unbiased 1.25 * 4/3 = 5/3.
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1])?;
    for momentum in [Momentum::Torch(0.1), Momentum::TensorFlow(0.9)] {
        let config = BatchNormConfig {
            eps: 0.0,
            momentum,
            affine: false,
        };
        let mut bn = BatchNorm1d::new(1, config)?;

        // Train mode normalizes with the batch's biased variance...
        let y = bn.forward(&x)?.to_vec()?;
        let s = 1.25f32.sqrt();
        assert!(close(&y, &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]));
        // ...and moves the running statistics 10% of the way, the variance towards 5/3:
        // running_mean = 0.9 * 0 + 0.1 * 2.5, running_var = 0.9 * 1 + 0.1 * 5/3.
        assert!(close(&bn.running_mean().to_vec()?, &[0.25]));
        assert!(close(&bn.running_var().to_vec()?, &[0.9 + 0.1 * 5.0 / 3.0]));

        // Eval mode normalizes with the running statistics and leaves them alone.
        bn.eval();
        let y = no_grad(|| bn.forward(&x))?.to_vec()?;
        let s = (0.9f32 + 0.1 * 5.0 / 3.0).sqrt();
        assert!(close(&y, &[0.75 / s, 1.75 / s, 2.75 / s, 3.75 / s]));
        assert!(close(&bn.running_mean().to_vec()?, &[0.25]));
    }
    Ok(())
}
// ANCHOR_END: running

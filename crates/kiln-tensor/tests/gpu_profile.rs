//! The GPU profiler: kernel times from timestamp queries, operation counts, submissions and
//! bind-group reuse.

use kiln_tensor::gpu::profile;
use kiln_tensor::test_util::gpu_or_skip;
use kiln_tensor::{Device, Tensor};
use std::sync::Mutex;

/// The profiler is process-wide: tests that profile take turns.
static PROFILING: Mutex<()> = Mutex::new(());

/// A small training-like step: a matrix product, a nonlinearity, a loss, its gradients.
fn step(w: &Tensor, x: &Tensor) -> kiln_tensor::Result<f32> {
    w.zero_grad();
    let y = x.matmul(w)?.relu()?;
    let loss = y.mul(&y)?.mean_all()?;
    loss.backward()?;
    loss.item()
}

#[test]
fn matmul_is_timed_and_counted() {
    let Some(gpu) = gpu_or_skip() else { return };
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let (m, k, n) = (67, 45, 131);
    let a = Tensor::rand_uniform(&[m, k], -1.0, 1.0, 1);
    let b = Tensor::rand_uniform(&[k, n], -1.0, 1.0, 2);
    let (ag, bg) = (a.to_device(gpu).unwrap(), b.to_device(gpu).unwrap());
    let (c, p) = profile(|| ag.matmul(&bg)?.to_vec()).unwrap();
    let want = a.matmul(&b).unwrap().to_vec().unwrap();
    for (got, want) in c.iter().zip(&want) {
        assert!(
            (got - want).abs() <= 1e-4 + 1e-3 * want.abs(),
            "{got} vs {want}"
        );
    }
    let mm = p.kernel("matmul_batched:main").expect("matmul timed");
    assert_eq!(mm.calls, 1);
    assert_eq!(mm.flops, 2 * (m * n * k) as u64);
    assert!(mm.seconds > 0.0, "{p}");
    assert!(mm.gflops_per_s().unwrap() > 0.0);
    // The product, then the copy for the read-back: one submission.
    assert_eq!((p.dispatches, p.submissions), (1, 1), "{p}");
    assert!(p.to_string().contains("matmul_batched:main"), "{p}");
}

#[test]
fn a_repeated_step_is_one_submission_and_reuses_its_bind_groups() {
    let Some(gpu) = gpu_or_skip() else { return };
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let w = Tensor::rand_uniform(&[37, 19], -1.0, 1.0, 3)
        .to_device(gpu)
        .unwrap()
        .requires_grad();
    let x = Tensor::rand_uniform(&[23, 37], -1.0, 1.0, 4)
        .to_device(gpu)
        .unwrap();
    let want = step(
        &w.to_device(Device::Cpu).unwrap().detach().requires_grad(),
        &x.to_device(Device::Cpu).unwrap(),
    )
    .unwrap();
    let mut profiles = Vec::new();
    for _ in 0..3 {
        let (loss, p) = profile(|| step(&w, &x)).unwrap();
        assert!(
            (loss - want).abs() <= 1e-4 + 1e-3 * want.abs(),
            "{loss} vs {want}"
        );
        profiles.push(p);
    }
    let last = profiles.last().unwrap();
    assert!(last.dispatches > 5, "{last}");
    assert_eq!(last.dispatches, profiles[0].dispatches);
    // Everything up to the loss read-back goes in one command buffer.
    assert_eq!(last.submissions, 1, "{last}");
    assert_eq!(last.bind_groups_created, 0, "{last}");
    assert_eq!(last.buffers_created, 0, "{last}");
    // Together the kernels take time (one tiny kernel may read 0 on a coarse timer).
    assert!(last.seconds() > 0.0, "{last}");
}

#[test]
fn profiling_twice_at_once_is_an_error() {
    let Some(_) = gpu_or_skip() else { return };
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let (inner, outer) = profile(|| Ok(profile(|| Ok(())).map(|_| ()))).unwrap();
    let err = inner.unwrap_err().to_string();
    assert!(err.contains("already running"), "{err}");
    assert_eq!(outer.dispatches, 0);
}

#[test]
fn a_panic_inside_a_profile_ends_it() {
    let Some(gpu) = gpu_or_skip() else { return };
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let x = Tensor::ones(&[3, 3]).to_device(gpu).unwrap();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        profile(|| -> kiln_tensor::Result<()> {
            x.relu()?;
            panic!("inside the profile")
        })
    }));
    assert!(unwound.is_err());
    // Profiling is off again: a new profile starts, and GPU work goes on.
    let (sum, _) = profile(|| x.sum_all()?.item()).unwrap();
    assert_eq!(sum, 9.0);
}

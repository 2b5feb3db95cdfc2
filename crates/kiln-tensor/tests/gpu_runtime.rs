//! The GPU runtime: moving tensors between devices, fill, refused dtypes and sizes.

use kiln_tensor::test_util::gpu_or_skip;
use kiln_tensor::{DType, Device, DeviceChoice, Error, Tensor};

#[test]
fn to_device_round_trips() {
    let Some(gpu) = gpu_or_skip() else { return };
    for len in [0, 1, 7, 256, 1000, 65_537] {
        let data: Vec<f32> = (0..len).map(|i| (i as f32).sin()).collect();
        let x = Tensor::from_vec(data.clone(), &[len]).unwrap();
        let g = x.to_device(gpu).unwrap();
        assert_eq!(g.device(), Device::Gpu);
        assert_eq!(g.copy().unwrap().to_vec().unwrap(), data);
        let back = g.to_device(Device::Cpu).unwrap();
        assert_eq!(back.device(), Device::Cpu);
        assert_eq!(back.to_vec().unwrap(), data);
    }
}

#[test]
fn fill_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    let lens = [
        1, 2, 3, 5, 7, 13, 31, 97, 255, 256, 257, 511, 1021, 4099, 70_001,
    ];
    for (case, len) in lens.into_iter().chain([0, 1, 17, 300, 65_537]).enumerate() {
        let value = case as f64 * 0.75 - 2.0;
        let got = Tensor::full_on(&[len], value, DType::F32, gpu).unwrap();
        let want = Tensor::full_on(&[len], value, DType::F32, Device::Cpu).unwrap();
        assert_eq!(got.to_vec().unwrap(), want.to_vec().unwrap(), "len {len}");
    }
}

#[test]
fn f64_never_goes_to_the_gpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    let x = Tensor::from_vec_f64(vec![1.0, 2.0], &[2]).unwrap();
    let err = x.to_device(gpu).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedDType {
                dtype: DType::F64,
                device: Device::Gpu,
                ..
            }
        ),
        "{err}"
    );
    let err = Tensor::full_on(&[2], 0.0, DType::F64, gpu).unwrap_err();
    assert!(err.to_string().contains("F64"), "{err}");
}

#[test]
fn tensor_over_the_buffer_limit_is_a_clear_error() {
    let Some(gpu) = gpu_or_skip() else { return };
    let huge = 1usize << 40;
    let err = Tensor::full_on(&[huge], 0.0, DType::F32, gpu).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{} bytes", 4 * huge)) && msg.contains("largest tensor buffer"),
        "{msg}"
    );
}

#[test]
fn long_chains_with_recycled_buffers_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    // Hundreds of dispatches (several batches) whose intermediates drop and are recycled while
    // work that read them is still queued, interleaved with uploads into recycled buffers.
    let len = 1031;
    let start: Vec<f32> = (0..len).map(|i| i as f32 * 0.01).collect();
    let mut on_gpu = Tensor::from_vec(start.clone(), &[len])
        .unwrap()
        .to_device(gpu)
        .unwrap();
    let mut on_cpu = Tensor::from_vec(start, &[len]).unwrap();
    for step in 0..150 {
        let delta = Tensor::full(&[len], step as f32 * 0.5);
        on_gpu = on_gpu
            .add(&delta.to_device(gpu).unwrap())
            .unwrap()
            .mul_scalar(0.5)
            .unwrap();
        on_cpu = on_cpu.add(&delta).unwrap().mul_scalar(0.5).unwrap();
    }
    assert_eq!(on_gpu.to_vec().unwrap(), on_cpu.to_vec().unwrap());
}

#[test]
fn chains_longer_than_a_batch_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    // More dispatches than one submission holds, with no read-back or upload between them: the
    // batch is submitted when full and recording goes on in a new one.
    let len = 257;
    let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
    let x = Tensor::from_vec(x, &[len]).unwrap();
    let x_gpu = x.to_device(gpu).unwrap();
    let (mut on_gpu, mut on_cpu) = (x_gpu.clone(), x.clone());
    for _ in 0..1300 {
        on_gpu = on_gpu.mul_scalar(0.5).unwrap().add(&x_gpu).unwrap();
        on_cpu = on_cpu.mul_scalar(0.5).unwrap().add(&x).unwrap();
    }
    assert_eq!(on_gpu.to_vec().unwrap(), on_cpu.to_vec().unwrap());
}

#[test]
fn kiln_device_selects_the_device() {
    let Some(_) = gpu_or_skip() else { return };
    let select = |value: &str| {
        std::env::set_var(kiln_tensor::gpu::DEVICE_VAR, value);
        kiln_tensor::default_device()
    };
    assert_eq!(select("cpu").unwrap(), Device::Cpu);
    assert_eq!(select("gpu").unwrap(), Device::Gpu);
    let software = kiln_tensor::gpu::adapter_summary()
        .unwrap()
        .ends_with("Cpu)");
    let auto = if software { Device::Cpu } else { Device::Gpu };
    assert_eq!(select("auto").unwrap(), auto);
    assert_eq!(select("").unwrap(), auto);
    let err = select("tpu").unwrap_err().to_string();
    assert!(
        err.contains("KILN_DEVICE") && err.contains("\"tpu\""),
        "{err}"
    );
    for (name, choice) in [
        ("Auto", DeviceChoice::Auto),
        ("gpu", DeviceChoice::Gpu),
        ("CPU", DeviceChoice::Cpu),
    ] {
        assert_eq!(name.parse::<DeviceChoice>().unwrap(), choice);
    }
    assert_eq!(Device::select(DeviceChoice::Gpu).unwrap(), Device::Gpu);
    assert_eq!(Device::select(DeviceChoice::Auto).unwrap(), auto);
    assert!(
        Device::Gpu.describe().starts_with("gpu ("),
        "{}",
        Device::Gpu.describe()
    );
    assert_eq!(Device::Cpu.describe(), "cpu");
    std::env::remove_var(kiln_tensor::gpu::DEVICE_VAR);
}

#[test]
fn grids_beyond_65535_workgroups_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    // More elements (or outputs) than 65535 workgroups of 256 cover: the dispatch folds the
    // workgroups over y and the shaders unfold them.
    let len = 65_535 * 256 + 3;
    let ones = Tensor::full_on(&[len], 1.0, DType::F32, gpu).unwrap();
    // Every element counted once: the sum is exact in f32 below 2^24.
    let total = ones
        .mul_scalar(-1.0)
        .unwrap()
        .sum_all()
        .unwrap()
        .item()
        .unwrap();
    assert_eq!(total, -(len as f32));
    // A reduction with one output per element, 256 outputs per workgroup.
    let rows = ones.reshape(&[len, 1]).unwrap().max(&[1], false).unwrap();
    let total = rows.sum_all().unwrap().item().unwrap();
    assert_eq!(total, len as f32);
}

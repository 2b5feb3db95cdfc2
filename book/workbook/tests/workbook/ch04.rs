//! Chapter 4: the folded grid, the ReLU shader (validated by naga on any machine, run on a GPU
//! adapter against kiln's CPU ReLU), and the host code that runs it.

use crate::support::{binding_space, cases, entry_point, uniform, valid_module};
use kiln::tensor::Tensor;
use kiln_workbook::{ch04, Gpu};
use proptest::prelude::*;

/// Workgroup size of the ReLU shader.
const WORKGROUP: usize = 256;

/// ReLU of `x` by your shader through your host code, over a grid folded at `max_per_dim`.
fn relu_on(gpu: &Gpu, x: &[f32], max_per_dim: u32) -> Vec<f32> {
    let grid = ch04::workgroup_grid(x.len().div_ceil(WORKGROUP), max_per_dim);
    let params = uniform(&[x.len() as u32]);
    ch04::run_compute(gpu, ch04::RELU_WGSL, "main", &[x], x.len(), &params, grid)
}

/// Values that test the edges of ReLU: zeros of both signs, infinities, NaN, and a ramp.
fn awkward_values(len: usize) -> Vec<f32> {
    let special = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
    ];
    (0..len)
        .map(|i| match i % 11 {
            0..=5 => special[i % 11],
            _ => (i as f32 - len as f32 / 2.0) * 0.37,
        })
        .collect()
}

/// Asserts that `got` is kiln's ReLU of `x`, bit for bit but for the sign of zero and the
/// payload of NaN.
#[track_caller]
fn assert_relu(x: &[f32], got: &[f32]) {
    let want = Tensor::from_slice(x, &[x.len()])
        .and_then(|t| t.relu())
        .and_then(|t| t.to_vec())
        .expect("kiln's relu");
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        let same = g == w || (g.is_nan() && w.is_nan());
        assert!(same, "relu({}) at {i} is {g}, expected {w}", x[i]);
    }
}

mod workgroup_grid {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(ch04::workgroup_grid(0, 65535), [0, 1, 1]);
        assert_eq!(ch04::workgroup_grid(65535, 65535), [65535, 1, 1]);
        assert_eq!(ch04::workgroup_grid(65536, 65535), [65535, 2, 1]);
        assert_eq!(ch04::workgroup_grid(11, 4), [4, 3, 1]);
    }

    proptest! {
        #![proptest_config(cases(256))]
        #[test]
        fn covers_the_work_within_the_limit(max in 1u32..70_000, fraction in 0.0f64..1.0) {
            let max_work = max as usize * max as usize;
            let count = ((max_work as f64 * fraction * fraction) as usize).min(max_work);
            let [x, y, z] = ch04::workgroup_grid(count, max);
            prop_assert_eq!(z, 1);
            prop_assert!(x <= max && y <= max, "[{}, {}] exceeds {}", x, y, max);
            let total = x as usize * y as usize;
            prop_assert!(total >= count, "[{}, {}] < {}", x, y, count);
            // At most the last row has spare workgroups.
            prop_assert!(total - count < (x as usize).max(1), "[{}, {}] for {}", x, y, count);
            if count <= max as usize {
                prop_assert_eq!([x, y], [count as u32, 1]);
            }
        }
    }
}

mod relu_wgsl {
    use super::*;

    #[test]
    fn validates_with_naga() {
        valid_module(ch04::RELU_WGSL);
    }

    #[test]
    fn has_the_interface() {
        let module = valid_module(ch04::RELU_WGSL);
        assert_eq!(entry_point(&module, "main").workgroup_size, [256, 1, 1]);
        use naga::{AddressSpace, StorageAccess};
        assert_eq!(
            binding_space(&module, 0),
            Some(AddressSpace::Storage {
                access: StorageAccess::LOAD
            }),
            "binding 0: x, read-only storage"
        );
        assert_eq!(
            binding_space(&module, 1),
            Some(AddressSpace::Storage {
                access: StorageAccess::LOAD | StorageAccess::STORE
            }),
            "binding 1: y, read-write storage"
        );
        assert_eq!(
            binding_space(&module, 2),
            Some(AddressSpace::Uniform),
            "binding 2: params"
        );
    }

    /// Lengths around the workgroup size and one that needs many workgroups.
    #[test]
    fn matches_kiln_on_the_gpu() {
        let Some(gpu) = Gpu::for_test() else { return };
        for len in [1, 255, 256, 257, 5000] {
            let x = awkward_values(len);
            assert_relu(&x, &relu_on(&gpu, &x, 65535));
        }
    }

    /// A grid folded at 4 workgroups per row: 11 workgroups' worth of work in 3 rows of 4.
    #[test]
    fn reads_a_folded_grid_on_the_gpu() {
        let Some(gpu) = Gpu::for_test() else { return };
        let x = awkward_values(10 * WORKGROUP + 3);
        assert_relu(&x, &relu_on(&gpu, &x, 4));
    }
}

mod run_compute {
    use super::*;

    /// A shader with two inputs and a uniform block of a count and a float: it tells which
    /// buffer went to which binding.
    const PROBE: &str = "
        struct Params { len: u32, scale: f32 }
        @group(0) @binding(0) var<storage, read> a: array<f32>;
        @group(0) @binding(1) var<storage, read> b: array<f32>;
        @group(0) @binding(2) var<storage, read_write> out: array<f32>;
        @group(0) @binding(3) var<uniform> params: Params;
        @compute @workgroup_size(64)
        fn probe(@builtin(global_invocation_id) gid: vec3<u32>) {
            if gid.x < params.len {
                out[gid.x] = a[gid.x] + params.scale * b[gid.x];
            }
        }";

    #[test]
    fn binds_inputs_output_and_params_on_the_gpu() {
        let Some(gpu) = Gpu::for_test() else { return };
        let a: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..100).map(|i| (i % 7) as f32).collect();
        let params = [bytemuck::bytes_of(&70u32), bytemuck::bytes_of(&10.0f32)].concat();
        // 70 elements computed; the output has 120, the rest of which stay zero.
        let out = ch04::run_compute(&gpu, PROBE, "probe", &[&a, &b], 120, &params, [2, 1, 1]);
        assert_eq!(out.len(), 120);
        for (i, &v) in out.iter().enumerate() {
            let want = if i < 70 { a[i] + 10.0 * b[i] } else { 0.0 };
            assert_eq!(v, want, "element {i}");
        }
    }

    #[test]
    fn binds_empty_buffers_on_the_gpu() {
        let Some(gpu) = Gpu::for_test() else { return };
        let params = [bytemuck::bytes_of(&0u32), bytemuck::bytes_of(&1.0f32)].concat();
        let out = ch04::run_compute(&gpu, PROBE, "probe", &[&[], &[]], 0, &params, [1, 1, 1]);
        assert!(out.is_empty());
    }
}

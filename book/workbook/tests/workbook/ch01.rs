//! Chapter 1: strides, broadcasting and `sum_to`, against kiln's `Shape` and `Tensor::sum_to`.

use crate::support::{assert_close, cases, random};
use kiln::tensor::{Shape, Tensor};
use kiln_workbook::ch01;
use proptest::prelude::*;

/// Dimensions of rank 0 to 4, biased towards 1 (which broadcasts) and small sizes; `zero`
/// allows empty axes.
fn dims(zero: bool) -> impl Strategy<Value = Vec<usize>> {
    let low = if zero { 0 } else { 1 };
    prop::collection::vec(prop_oneof![Just(1usize), low..6usize], 0..=4)
}

/// A shape `out` and a shape that broadcasts to it: some axes of `out` set to 1, some leading
/// axes dropped.
fn broadcast_pair(zero: bool) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    dims(zero)
        .prop_flat_map(|out| {
            let rank = out.len();
            (
                Just(out),
                prop::collection::vec(any::<bool>(), rank),
                0..=rank,
            )
        })
        .prop_map(|(out, ones, drop)| {
            let small = out
                .iter()
                .zip(ones)
                .map(|(&d, one)| if one { 1 } else { d })
                .skip(drop)
                .collect();
            (out, small)
        })
}

mod strides {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(ch01::strides(&[2, 3, 4]), [12, 4, 1]);
        assert_eq!(ch01::strides(&[7]), [1]);
        assert_eq!(ch01::strides(&[]), Vec::<usize>::new());
    }

    proptest! {
        #![proptest_config(cases(64))]
        #[test]
        fn match_kiln(dims in dims(true)) {
            prop_assert_eq!(ch01::strides(&dims), Shape::new(&dims).strides());
        }
    }
}

mod broadcast_shape {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(
            ch01::broadcast_shape(&[4, 1, 3], &[5, 1]),
            Some(vec![4, 5, 3])
        );
        assert_eq!(ch01::broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(ch01::broadcast_shape(&[], &[2]), Some(vec![2]));
        assert_eq!(ch01::broadcast_shape(&[1], &[0]), Some(vec![0]));
        assert_eq!(ch01::broadcast_shape(&[2, 3], &[2]), None);
    }

    /// Both operands in both roles, and unrelated pairs that mostly do not broadcast.
    fn pairs() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        prop_oneof![
            broadcast_pair(true),
            broadcast_pair(true).prop_map(|(a, b)| (b, a)),
            (dims(true), dims(true)),
        ]
    }

    proptest! {
        #![proptest_config(cases(96))]
        #[test]
        fn matches_kiln((a, b) in pairs()) {
            let kiln = Shape::new(&a)
                .broadcast(&Shape::new(&b), "broadcast")
                .ok()
                .map(|s| s.dims().to_vec());
            prop_assert_eq!(ch01::broadcast_shape(&a, &b), kiln);
        }
    }
}

mod broadcast_strides {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(ch01::broadcast_strides(&[5, 1], &[4, 5, 3]), [0, 1, 0]);
        assert_eq!(ch01::broadcast_strides(&[2, 3], &[2, 3]), [3, 1]);
    }

    proptest! {
        #![proptest_config(cases(64))]
        #[test]
        fn match_kiln((out, small) in broadcast_pair(true)) {
            let kiln = Shape::new(&small).broadcast_strides(&Shape::new(&out));
            prop_assert_eq!(ch01::broadcast_strides(&small, &out), kiln);
        }
    }
}

mod sum_to {
    use super::*;

    #[test]
    fn by_hand() {
        let grad = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [2, 3]
        assert_eq!(ch01::sum_to(&grad, &[2, 3], &[3]), [5.0, 7.0, 9.0]);
        assert_eq!(ch01::sum_to(&grad, &[2, 3], &[2, 1]), [6.0, 15.0]);
        assert_eq!(ch01::sum_to(&grad, &[2, 3], &[1, 1]), [21.0]);
        assert_eq!(ch01::sum_to(&grad, &[2, 3], &[2, 3]), grad);
    }

    proptest! {
        #![proptest_config(cases(64))]
        #[test]
        fn matches_kiln((from, to) in broadcast_pair(false), seed in 0u64..1000) {
            let grad = random(from.iter().product(), seed);
            let kiln = Tensor::from_vec_f64(grad.clone(), &from)
                .and_then(|g| g.sum_to(&Shape::new(&to)))
                .and_then(|s| s.to_vec_f64())
                .expect("kiln's sum_to");
            assert_close(&ch01::sum_to(&grad, &from, &to), &kiln, 1e-12, 1e-12, "sum_to");
        }
    }
}

//! Chapter 10: steps to reach a loss level, by hand and by its defining properties.

use crate::support::cases;
use kiln_workbook::ch10;
use proptest::prelude::*;

mod steps_to_level {
    use super::*;

    #[test]
    fn by_hand() {
        let losses = [2.0, 1.0, 0.6, 0.2, 0.1];
        assert_eq!(ch10::steps_to_level(&losses, 1.0, 1), Some(2));
        // Trailing means over 2: 2, 1.5, 0.8, 0.4, 0.15.
        assert_eq!(ch10::steps_to_level(&losses, 1.0, 2), Some(3));
        assert_eq!(ch10::steps_to_level(&losses, 0.15, 2), Some(5));
        assert_eq!(ch10::steps_to_level(&losses, 0.1, 2), None);
        // The first means average fewer steps: 2, then 1.5 over both.
        assert_eq!(ch10::steps_to_level(&losses, 1.5, 10), Some(2));
        assert_eq!(ch10::steps_to_level(&[], 1.0, 3), None);
    }

    #[test]
    fn never_counts_a_nan() {
        let losses = [3.0, f32::NAN, 0.1, 0.1, 0.1];
        assert_eq!(ch10::steps_to_level(&losses, 1.0, 2), Some(4));
        assert_eq!(ch10::steps_to_level(&losses, 1.0, 1), Some(3));
        assert_eq!(ch10::steps_to_level(&[f32::NAN; 3], f32::INFINITY, 1), None);
    }

    /// The mean of `losses` over the window that ends at step `step` (from 1).
    fn trailing_mean(losses: &[f32], step: usize, window: usize) -> f32 {
        let recent = &losses[step.saturating_sub(window)..step];
        recent.iter().sum::<f32>() / recent.len() as f32
    }

    proptest! {
        #![proptest_config(cases(128))]
        /// The answer is a step whose mean is at or below the level, after steps whose means are
        /// all above it; a lower level is never reached sooner.
        #[test]
        fn is_the_first_step_at_or_below(
            losses in prop::collection::vec(0.0f32..3.0, 0..40),
            level in 0.0f32..3.0,
            window in 1usize..12,
        ) {
            let found = ch10::steps_to_level(&losses, level, window);
            let last = found.unwrap_or(losses.len() + 1);
            for step in 1..last.min(losses.len() + 1) {
                let mean = trailing_mean(&losses, step, window);
                prop_assert!(mean > level, "step {} is already at or below: {}", step, mean);
            }
            if let Some(step) = found {
                prop_assert!(step >= 1 && step <= losses.len());
                prop_assert!(trailing_mean(&losses, step, window) <= level);
                let lower = ch10::steps_to_level(&losses, level / 2.0, window);
                prop_assert!(lower.is_none_or(|s| s >= step));
            }
        }
    }
}

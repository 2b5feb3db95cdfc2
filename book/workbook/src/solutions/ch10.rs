//! Chapter 10, solutions: how many steps a run needs to reach a loss.

/// The first step (counting from 1) at which the trailing mean of the last `window` training
/// losses (fewer at the start: the mean of all losses so far) is at or below `level`, or
/// `None` if it never is. A NaN loss makes every mean that includes it NaN, never below a
/// level. `window` is at least 1.
pub fn steps_to_level(losses: &[f32], level: f32, window: usize) -> Option<usize> {
    assert!(window >= 1, "the window holds at least one step");
    (0..losses.len())
        .find(|&i| {
            let recent = &losses[(i + 1).saturating_sub(window)..=i];
            recent.iter().sum::<f32>() / recent.len() as f32 <= level
        })
        .map(|i| i + 1)
}

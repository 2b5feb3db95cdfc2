//! Chapter 10: how many steps a run needs to reach a loss.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch10`.

/// The first step (counting from 1) at which the trailing mean of the last `window` training
/// losses (fewer at the start: the mean of all losses so far) is at or below `level`, or
/// `None` if it never is. A NaN loss makes every mean that includes it NaN, never below a
/// level. `window` is at least 1.
///
/// Hint: this is the number the experiment's report gives for each loss level, with a window
/// of 10 steps. `(i + 1).saturating_sub(window)` is where the window of step `i` (from 0)
/// starts.
pub fn steps_to_level(losses: &[f32], level: f32, window: usize) -> Option<usize> {
    todo!()
}

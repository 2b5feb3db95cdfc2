//! Learning-rate schedules: the learning rate of each step as a factor of a base rate.
//!
//! A [`Schedule`] is a pure function of the step (counted from 0, the first optimizer step), so
//! a resumed run recomputes the rate from the step it resumes at. A [`Scheduler`] applies one to
//! an optimizer (SGD or Adam alike) before each step, and saves its position and a description
//! of the schedule in a checkpoint: loading refuses a checkpoint written under another
//! schedule, naming both.
//!
//! ```
//! use kiln_nn::schedule::{Schedule, Scheduler};
//! use kiln_nn::{Optimizer, Sgd, SgdConfig};
//! use kiln_tensor::Tensor;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let w = Tensor::zeros(&[3]).requires_grad();
//! let mut sgd = Sgd::new(vec![w], SgdConfig::default())?;
//! // Linear warm-up over 2 steps to 0.4, then linear decay to 0 at step 10.
//! let schedule = Schedule::one_cycle(10, 0.2)?;
//! let mut scheduler = Scheduler::new(schedule, 0.4)?;
//! let mut rates = Vec::new();
//! for _ in 0..10 {
//!     scheduler.apply(&mut sgd); // sets this step's rate
//!     rates.push(sgd.learning_rate());
//!     // ... forward, backward, sgd.step() ...
//!     scheduler.advance();
//! }
//! assert_eq!(rates[2], 0.4);
//! assert!((rates[6] - 0.2).abs() < 1e-6);
//! # Ok(())
//! # }
//! ```

use crate::optim::Optimizer;
use crate::state_dict::{CheckpointError, CheckpointResult, StateDict};
use kiln_tensor::{Error, Result};
use std::f64::consts::PI;
use std::fmt;

/// The learning rate of step `t` (from 0) as a factor of the base rate.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Factor 1 at every step.
    Constant,
    /// Factor `gamma^(t / every)` (integer division): PyTorch's `StepLR(step_size=every,
    /// gamma)`.
    Step {
        /// Steps between decays (at least 1).
        every: u64,
        /// Multiplier at each decay.
        gamma: f32,
    },
    /// Linear warm-up from `1 / (warmup + 1)` to 1 over the first `warmup` steps, then cosine
    /// annealing from 1 to `min_factor` at step `total` (and `min_factor` after it):
    /// `min + (1 - min) (1 + cos(π (t - warmup) / (total - warmup))) / 2`.
    CosineWarmup {
        /// Warm-up steps (may be 0).
        warmup: u64,
        /// The step at which the cosine reaches `min_factor` (more than `warmup`).
        total: u64,
        /// The final factor.
        min_factor: f32,
    },
    /// Linear interpolation between `(step, factor)` points, steps increasing; constant before
    /// the first point and after the last. One-cycle schedules are of this kind
    /// ([`Schedule::one_cycle`]).
    PiecewiseLinear(Vec<(u64, f32)>),
}

impl Schedule {
    // ANCHOR: one_cycle
    /// The one-cycle schedule of the fast CIFAR-10 recipes, which interpolate the points
    /// `(0, 0)`, `(peak, 1)`, `(total, 0)` linearly: from 0 at step 0 to 1 at
    /// `peak_fraction · total` (rounded, and before `total`), then to 0 at `total`, a step
    /// after the last one taken. A peak that rounds to step 0 starts the schedule at 1.
    /// PyTorch's `OneCycleLR(anneal_strategy="linear", three_phase=False)` has the same shape
    /// one step earlier: its peak at `peak_fraction · total - 1` and its end at `total - 1`.
    pub fn one_cycle(total: u64, peak_fraction: f32) -> Result<Schedule> {
        if total == 0 || !(0.0..1.0).contains(&peak_fraction) {
            return Err(Error::invalid(
                "Schedule::one_cycle",
                format!(
                    "needs total >= 1 and 0 <= peak_fraction < 1, got total {total}, \
                     peak_fraction {peak_fraction}"
                ),
            ));
        }
        // The peak is a step before the last; at step 0 the schedule starts there.
        let peak = ((peak_fraction as f64 * total as f64).round() as u64).min(total - 1);
        let mut points = vec![(peak, 1.0), (total, 0.0)];
        if peak > 0 {
            points.insert(0, (0, 0.0));
        }
        Ok(Schedule::PiecewiseLinear(points))
    }
    // ANCHOR_END: one_cycle

    /// Checks the parameters: an error naming the schedule and the value that is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::invalid("Schedule", format!("{self}: {msg}")));
        match self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every, gamma } => {
                if *every == 0 {
                    bad("every must be at least 1".into())
                } else if !gamma.is_finite() || *gamma < 0.0 {
                    bad(format!(
                        "gamma must be finite and non-negative, got {gamma}"
                    ))
                } else {
                    Ok(())
                }
            }
            Schedule::CosineWarmup {
                warmup,
                total,
                min_factor,
            } => {
                if total <= warmup {
                    bad(format!("total ({total}) must exceed warmup ({warmup})"))
                } else if !min_factor.is_finite() || *min_factor < 0.0 {
                    bad(format!(
                        "min_factor must be finite and non-negative, got {min_factor}"
                    ))
                } else {
                    Ok(())
                }
            }
            Schedule::PiecewiseLinear(points) => {
                if points.is_empty() {
                    bad("needs at least one point".into())
                } else if points.windows(2).any(|w| w[1].0 <= w[0].0) {
                    bad("steps must increase".into())
                } else if points.iter().any(|p| !p.1.is_finite() || p.1 < 0.0) {
                    bad("factors must be finite and non-negative".into())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The factor of step `t`.
    pub fn factor(&self, t: u64) -> f32 {
        match self {
            Schedule::Constant => 1.0,
            Schedule::Step { every, gamma } => {
                let decays = t / (*every).max(1);
                (*gamma as f64).powf(decays as f64) as f32
            }
            Schedule::CosineWarmup {
                warmup,
                total,
                min_factor,
            } => {
                if t < *warmup {
                    (t + 1) as f32 / (*warmup + 1) as f32
                } else if t >= *total {
                    *min_factor
                } else {
                    let progress = (t - warmup) as f64 / (total - warmup) as f64;
                    let min = *min_factor as f64;
                    (min + (1.0 - min) * 0.5 * (1.0 + (PI * progress).cos())) as f32
                }
            }
            Schedule::PiecewiseLinear(points) => {
                let Some(&(first_step, first)) = points.first() else {
                    return 1.0;
                };
                if t <= first_step {
                    return first;
                }
                for w in points.windows(2) {
                    let ((s0, f0), (s1, f1)) = (w[0], w[1]);
                    if t <= s1 {
                        let a = (t - s0) as f64 / (s1 - s0) as f64;
                        return (f0 as f64 + a * (f1 as f64 - f0 as f64)) as f32;
                    }
                }
                points.last().map_or(1.0, |p| p.1)
            }
        }
    }
}

/// The schedule as a checkpoint records it, e.g. `step(every=30, gamma=0.1)`.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Step { every, gamma } => write!(f, "step(every={every}, gamma={gamma})"),
            Schedule::CosineWarmup {
                warmup,
                total,
                min_factor,
            } => write!(
                f,
                "cosine_warmup(warmup={warmup}, total={total}, min_factor={min_factor})"
            ),
            Schedule::PiecewiseLinear(points) => {
                write!(f, "piecewise_linear(")?;
                for (i, (step, factor)) in points.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{step}:{factor}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// A [`Schedule`] applied to an optimizer: `base_lr · factor(step)`, the step advancing once
/// per optimizer step.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    schedule: Schedule,
    base_lr: f32,
    step: u64,
}

/// Checkpoint names under the scheduler's prefix.
const STEP_COUNTER: &str = "step";
const DESCRIPTION_KEY: &str = "schedule";

impl Scheduler {
    /// A scheduler at step 0: an error naming the value when the schedule's parameters are
    /// invalid ([`Schedule::validate`]) or the base rate is negative or not finite.
    pub fn new(schedule: Schedule, base_lr: f32) -> Result<Scheduler> {
        schedule.validate()?;
        if !base_lr.is_finite() || base_lr < 0.0 {
            return Err(Error::invalid(
                "Scheduler",
                format!("base_lr must be finite and non-negative, got {base_lr}"),
            ));
        }
        Ok(Scheduler {
            schedule,
            base_lr,
            step: 0,
        })
    }

    /// The step the next [`Scheduler::apply`] sets the rate for.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The learning rate of the current step.
    pub fn learning_rate(&self) -> f32 {
        self.base_lr * self.schedule.factor(self.step)
    }

    /// Sets the current step's learning rate on `optimizer`.
    pub fn apply(&self, optimizer: &mut dyn Optimizer) {
        optimizer.set_learning_rate(self.learning_rate());
    }

    /// Moves to the next step (call once per optimizer step).
    pub fn advance(&mut self) {
        self.step += 1;
    }

    /// Adds the position (`{prefix}step`) and a description of the schedule and base rate
    /// (metadata `{prefix}schedule`) to `dict`.
    pub fn save_state(&self, prefix: &str, dict: &mut StateDict) {
        dict.insert_counter(format!("{prefix}{STEP_COUNTER}"), self.step);
        dict.insert_metadata(format!("{prefix}{DESCRIPTION_KEY}"), self.description());
    }

    /// Restores the position saved by [`Scheduler::save_state`]. A checkpoint written under
    /// another schedule or base rate is refused, naming both.
    pub fn load_state(&mut self, prefix: &str, dict: &StateDict) -> CheckpointResult<()> {
        let key = format!("{prefix}{DESCRIPTION_KEY}");
        let stored = dict
            .metadata(&key)
            .ok_or_else(|| CheckpointError::Missing { name: key.clone() })?;
        if stored != self.description() {
            return Err(CheckpointError::Mismatch {
                name: key,
                detail: format!(
                    "the checkpoint was written under {stored}, this run has {}",
                    self.description()
                ),
            });
        }
        self.step = dict.counter(&format!("{prefix}{STEP_COUNTER}"))?;
        Ok(())
    }

    /// The schedule and base rate, as the checkpoint records them.
    fn description(&self) -> String {
        format!("{} with base lr {}", self.schedule, self.base_lr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64) -> bool {
        (a as f64 - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn step_decay_is_torch_step_lr() {
        let s = Schedule::Step {
            every: 3,
            gamma: 0.1,
        };
        let got: Vec<f32> = (0..7).map(|t| s.factor(t)).collect();
        let want = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01];
        for (g, w) in got.iter().zip(want) {
            assert!(close(*g, w), "{got:?}");
        }
    }

    #[test]
    fn cosine_warms_up_then_anneals_to_its_floor() {
        let s = Schedule::CosineWarmup {
            warmup: 4,
            total: 14,
            min_factor: 0.1,
        };
        assert!(close(s.factor(0), 0.2));
        assert!(close(s.factor(3), 0.8));
        assert!(close(s.factor(4), 1.0));
        // Half-way through the cosine: the mean of 1 and the floor.
        assert!(close(s.factor(9), 0.55));
        assert!(close(s.factor(14), 0.1));
        assert!(close(s.factor(1000), 0.1));
        // Monotone after the warm-up.
        assert!((4..14).all(|t| s.factor(t + 1) <= s.factor(t)));
    }

    #[test]
    fn one_cycle_rises_to_its_peak_and_falls_to_zero() {
        let s = Schedule::one_cycle(100, 0.25).unwrap();
        assert_eq!(s.factor(0), 0.0);
        assert!(close(s.factor(10), 0.4));
        assert_eq!(s.factor(25), 1.0);
        assert!(close(s.factor(75), 1.0 / 3.0));
        assert_eq!(s.factor(100), 0.0);
        assert_eq!(s.factor(150), 0.0);
        assert!(Schedule::one_cycle(0, 0.2).is_err());
        // Runs too short for a warm-up peak at once, then fall to 0, as valid schedules.
        for (total, fraction) in [(1, 0.2), (2, 0.2), (2, 0.9), (3, 0.0)] {
            let s = Schedule::one_cycle(total, fraction).unwrap();
            s.validate().unwrap();
            let peak = (0..total).map(|t| s.factor(t)).fold(0.0, f32::max);
            assert_eq!(peak, 1.0, "total {total}, fraction {fraction}");
            assert_eq!(s.factor(total), 0.0);
        }
        assert!(Schedule::one_cycle(10, 1.0).is_err());
    }

    #[test]
    fn invalid_parameters_are_named() {
        let err = Schedule::Step {
            every: 0,
            gamma: 0.5,
        }
        .validate()
        .unwrap_err();
        assert!(
            err.to_string().contains("every must be at least 1"),
            "{err}"
        );
        let err = Schedule::PiecewiseLinear(vec![(5, 1.0), (5, 0.0)])
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("steps must increase"), "{err}");
        let err = Schedule::CosineWarmup {
            warmup: 5,
            total: 5,
            min_factor: 0.0,
        }
        .validate()
        .unwrap_err();
        assert!(
            err.to_string().contains("total (5) must exceed warmup (5)"),
            "{err}"
        );
        assert!(Schedule::one_cycle(10, 0.3).unwrap().validate().is_ok());
    }

    #[test]
    fn a_checkpoint_restores_the_position_and_refuses_another_schedule() {
        let schedule = Schedule::one_cycle(20, 0.3).unwrap();
        let mut run = Scheduler::new(schedule.clone(), 0.4).unwrap();
        (0..7).for_each(|_| run.advance());
        let mut dict = StateDict::new();
        run.save_state("scheduler.", &mut dict);
        let dict = StateDict::from_bytes(&dict.to_bytes().unwrap()).unwrap();

        let mut resumed = Scheduler::new(schedule, 0.4).unwrap();
        resumed.load_state("scheduler.", &dict).unwrap();
        assert_eq!(resumed, run);
        assert_eq!(resumed.learning_rate(), run.learning_rate());

        let mut other = Scheduler::new(Schedule::Constant, 0.4).unwrap();
        assert!(Scheduler::new(Schedule::Constant, f32::NAN).is_err());
        let err = other
            .load_state("scheduler.", &dict)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("piecewise_linear(0:0, 6:1, 20:0) with base lr 0.4")
                && err.contains("constant with base lr 0.4"),
            "{err}"
        );
    }
}

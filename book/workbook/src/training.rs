//! The settings and the outcome of chapter 11's end-to-end training run.

/// How [`crate::ch11::train_end_to_end`] trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Records in each of the five training files (`data_batch_1.bin` .. `data_batch_5.bin`):
    /// 10,000 for CIFAR-10.
    pub records_per_file: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Adam's learning rate (`β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`, no weight decay).
    pub lr: f32,
    /// Seed of the model's initial weights.
    pub seed: u64,
}

/// What [`crate::ch11::train_end_to_end`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// The training loss of every step's batch, before that step's update.
    pub losses: Vec<f32>,
    /// Accuracy of the trained model, in eval mode, on every training image.
    pub train_accuracy: f32,
}

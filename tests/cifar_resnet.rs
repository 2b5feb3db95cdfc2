//! Runs the `cifar_resnet` example's code path end to end on tiny settings (synthetic data, a
//! narrow ResNet-9, a few steps): `summary.json` must agree with the curves in `train.csv` and
//! `eval.csv`, the sweep must pick the largest rate that does not diverge, and a run stopped part way and
//! resumed from its checkpoints must give exactly the numbers of an uninterrupted run.

mod common;

use kiln::data::{Cifar10, DataOrigin, DataSource, Dataset, SyntheticConfig};
use kiln::tensor::Device;
use kiln_experiments::cifar_resnet::report::{Summary, TARGETS};
use kiln_experiments::cifar_resnet::{self as experiment, ResNetConfig, Study};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn tiny_config(out: &Path) -> ResNetConfig {
    ResNetConfig {
        device: Device::Cpu,
        protocol: "tiny",
        study: Study::Bn,
        width: 4,
        batch_size: 16,
        epochs: 2,
        sweep_epochs: 1,
        eval_limit: Some(24),
        lr: 0.4,
        no_bn_lr: None,
        seed: 3,
        out: out.to_path_buf(),
        checkpoint_every: 1,
        resume: None,
        progress: false,
    }
}

/// Synthetic CIFAR-10-format data: 64 training and 24 test images, cached in `dir/data`.
fn synthetic(dir: &Path) -> (Dataset, Dataset, DataOrigin) {
    let config = SyntheticConfig {
        seed: 2,
        train: 64,
        test: 24,
    };
    Cifar10::load_or_synthetic(&dir.join("data"), DataSource::Synthetic(config)).unwrap()
}

/// The rows of a CSV the example wrote, as fields (header dropped).
fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn summary(out: &Path) -> Summary {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn cifar_resnet_runs_end_to_end_and_its_files_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin) = synthetic(dir.path());
    let out = dir.path().join("out");
    let config = tiny_config(&out);
    let s = experiment::run(&config, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    let file = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(
        file,
        serde_json::to_string_pretty(&s).unwrap(),
        "the returned summary is the file's"
    );
    for file in ["train.csv", "eval.csv", "curves.png", "curves.svg"] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    assert!(s.synthetic && s.dataset.contains("synthetic"));
    assert_eq!((s.width, s.batch_size, s.study.as_str()), (4, 16, "bn"));

    // The sweep: rates from the largest down, stopping at the first that does not diverge, whose rate
    // the run without batch norm takes.
    let rates: Vec<f32> = config.sweep_runs().iter().map(|r| r.lr).collect();
    assert!(!s.sweep.is_empty());
    for (point, rate) in s.sweep.iter().zip(&rates) {
        assert_eq!(point.lr, *rate);
    }
    let (last, earlier) = s.sweep.split_last().unwrap();
    assert!(earlier.iter().all(|p| p.diverged));
    let names: Vec<&str> = s.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["no-bn", "bn"]);
    let no_bn_lr = if !last.diverged {
        last.lr
    } else {
        assert_eq!(
            s.sweep.len(),
            rates.len(),
            "the sweep stopped before a rate did not diverge"
        );
        *rates.last().unwrap()
    };
    assert_eq!(s.runs[0].lr, no_bn_lr);
    assert_eq!(s.runs[1].lr, 0.4);

    let train_rows = rows(&out.join("train.csv"));
    let eval_rows = rows(&out.join("eval.csv"));
    let steps_per_epoch = 64 / 16;
    for p in &s.sweep {
        let name = format!("sweep-{}", p.lr);
        let losses: Vec<f32> = train_rows
            .iter()
            .filter(|r| r[0] == name)
            .map(|r| r[3].parse().unwrap())
            .collect();
        assert_eq!(losses.len(), p.steps, "{name}'s steps");
        assert_eq!(p.steps, steps_per_epoch, "one epoch per sweep run");
        assert_eq!(p.first_loss, losses.first().copied(), "{name}");
        let mean = losses.iter().sum::<f32>() / losses.len() as f32;
        assert!((p.final_loss.unwrap() - mean).abs() < 1e-5, "{name}");
        let diverged = losses.iter().any(|l| !l.is_finite()) || mean > losses[0];
        assert_eq!(p.diverged, diverged, "{name}'s verdict");
    }
    for r in &s.runs {
        let losses: Vec<&Vec<String>> = train_rows.iter().filter(|row| row[0] == r.name).collect();
        assert_eq!(losses.len(), r.steps, "{}: rows of train.csv", r.name);
        assert_eq!(r.steps, 2 * steps_per_epoch, "{}: two epochs", r.name);
        assert_eq!(r.epochs, 2.0);
        let evals: Vec<&Vec<String>> = eval_rows.iter().filter(|row| row[0] == r.name).collect();
        // One evaluation per epoch, at its last step.
        let eval_steps: Vec<usize> = evals.iter().map(|e| e[1].parse().unwrap()).collect();
        assert_eq!(eval_steps, [4, 8], "{}", r.name);
        let accuracy: Vec<f32> = evals.iter().map(|e| e[5].parse().unwrap()).collect();
        assert_eq!(r.final_test_accuracy, accuracy.last().copied());
        assert_eq!(
            r.best_test_accuracy,
            accuracy.iter().copied().reduce(f32::max)
        );
        let final_loss: f32 = evals.last().unwrap()[4].parse().unwrap();
        assert_eq!(r.final_test_loss, Some(final_loss));
        for t in TARGETS {
            let first = evals
                .iter()
                .find(|e| e[5].parse::<f32>().unwrap() >= t)
                .map(|e| (e[2].parse::<f64>().unwrap(), e[3].parse::<f64>().unwrap()));
            let reached = r.to_accuracy[&format!("{t}")].map(|v| (v.epochs, v.train_seconds));
            assert_eq!(reached, first, "{}: first evaluation at {t}", r.name);
        }
        assert!(r.images_per_second > 0.0 && r.wall_seconds > 0.0);
        assert_eq!(r.stopped, None);
    }
    for (key, ratio) in &s.epoch_ratio {
        let epochs = |i: usize| s.runs[i].to_accuracy[key].map(|v| v.epochs);
        let want = epochs(0).zip(epochs(1)).map(|(a, b)| a / b);
        assert_eq!(*ratio, want, "ratio at {key}");
    }
}

/// `(run, step, loss)` rows of train.csv and `(run, step, test loss, accuracy)` rows of
/// eval.csv: every number of a run but its timings.
fn numbers(out: &Path) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let pick = |rows: Vec<Vec<String>>, columns: &[usize]| {
        rows.into_iter()
            .map(|r| columns.iter().map(|&c| r[c].clone()).collect())
            .collect()
    };
    (
        pick(rows(&out.join("train.csv")), &[0, 1, 3]),
        pick(rows(&out.join("eval.csv")), &[0, 1, 4, 5]),
    )
}

#[test]
fn a_stopped_run_resumed_from_its_checkpoints_gives_the_uninterrupted_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin) = synthetic(dir.path());
    let whole = dir.path().join("whole");
    let mut config = tiny_config(&whole);
    config.no_bn_lr = Some(0.05);
    experiment::run(&config, &train, &test, &origin, &AtomicBool::new(false)).unwrap();

    // The same runs, stopped as a signal would once the first checkpoint is written (so some
    // steps are done and others are not), then resumed in their folder.
    let parts = dir.path().join("parts");
    let stop = AtomicBool::new(false);
    let stopped = ResNetConfig {
        out: parts.clone(),
        ..config.clone()
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let first = parts.join("checkpoints/no-bn.safetensors");
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !first.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            stop.store(true, Ordering::Relaxed);
        });
        experiment::run(&stopped, &train, &test, &origin, &stop).unwrap();
    });
    let partial = summary(&parts);
    assert!(
        partial.runs[0]
            .stopped
            .as_deref()
            .is_some_and(|s| s.starts_with("interrupted")),
        "{:?}",
        partial.runs[0].stopped
    );
    assert!(partial.runs[0].steps < 8, "stopped before the end");
    let resumed = ResNetConfig {
        resume: Some(parts.clone()),
        ..stopped
    };
    experiment::run(&resumed, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    // The interruption added an evaluation at the step it stopped after; the others are the
    // epochs' ones.
    let (losses, evals) = numbers(&parts);
    let stopped_at = partial.runs[0].steps.to_string();
    let epoch_evals: Vec<Vec<String>> = evals
        .into_iter()
        .filter(|e| {
            !(e[0] == "no-bn" && e[1] == stopped_at) || partial.runs[0].steps.is_multiple_of(4)
        })
        .collect();
    assert_eq!((losses, epoch_evals), numbers(&whole));
    assert!(summary(&parts).runs.iter().all(|r| r.stopped.is_none()));

    // A checkpoint of other settings is refused, naming both.
    let other = ResNetConfig {
        resume: Some(parts.clone()),
        out: dir.path().join("other"),
        width: 8,
        ..config
    };
    let err = experiment::run(&other, &train, &test, &origin, &AtomicBool::new(false)).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("other settings") && message.contains("width 8"),
        "{message}"
    );
}

/// The program itself: tiny settings on the CPU, on the synthetic stand-in in `data`.
fn cifar_resnet(data: &Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(common::example_binary("cifar_resnet"))
        .args(["--device", "cpu", "--synthetic", "--no-download", "--data"])
        .arg(data)
        .args(["--width", "4", "--batch-size", "16", "--epochs", "1"])
        .args([
            "--train-images",
            "32",
            "--eval-images",
            "16",
            "--no-bn-lr",
            "0.1",
        ])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_program_says_how_it_differs_from_the_record_and_resumes_only_its_own_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = cifar_resnet(dir.path(), &["--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for said in [
        "differs from the record: width 4 instead of 64, batch 16 instead of 512, 1 epochs \
         instead of 24, the first 32 of 50000 training images",
        "no-bn lr: 0.1 (given)",
        "SYNTHETIC data",
    ] {
        assert!(stdout.contains(said), "missing {said:?} in\n{stdout}");
    }
    assert!(summary(&out).runs.iter().all(|r| r.steps == 2));

    let refused = cifar_resnet(
        dir.path(),
        &["--resume", out.to_str().unwrap(), "--seed", "5"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("--seed 5 (the run has 0)"),
        "the contradicting flag is named with both values: {stderr}"
    );
    let foreign = std::process::Command::new(common::example_binary("cifar_resnet"))
        .args(["--device", "cpu", "--resume"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&foreign.stderr);
    assert!(
        !foreign.status.success() && stderr.contains("not an output folder of cifar_resnet"),
        "{stderr}"
    );
    // The record study has no run without batch norm: a rate for one is refused, not ignored.
    let ignored = cifar_resnet(dir.path(), &["--study", "record"]);
    let stderr = String::from_utf8_lossy(&ignored.stderr);
    assert!(
        !ignored.status.success()
            && stderr.contains("--no-bn-lr has no effect with --study record"),
        "{stderr}"
    );
}

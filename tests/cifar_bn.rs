//! Runs the `cifar_bn` example's code path end to end on tiny settings: synthetic data, a few
//! steps, narrow dense layers; then checks the files it writes and that `summary.json` agrees
//! with the curves in `train.csv` and `eval.csv`.

use kiln_experiments::cifar_bn as experiment;

use experiment::report::{smoothed, steps_to, LEVELS};
use experiment::{BnPlacement, ExperimentConfig, Protocol, Study};
use kiln::data::{Cifar10, DataOrigin, DataSource, Dataset, SyntheticConfig};
use kiln::tensor::Device;
use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::task::Poll;

fn tiny_config(out: &std::path::Path, study: Study) -> ExperimentConfig {
    ExperimentConfig {
        device: Device::Cpu,
        protocol: Protocol {
            name: "tiny",
            batch_size: 40,
            steps_no_bn: 6,
            steps_bn: 4,
            eval_every: 3,
        },
        study,
        placement: BnPlacement::Input,
        affine: true,
        dropout: false,
        hidden: (32, 16),
        eval_limit: Some(50),
        seed: 1,
        lr: 1e-3,
        out: out.to_path_buf(),
        checkpoint_every: 2,
        resume: None,
        progress: false,
    }
}

/// Synthetic CIFAR-10-format data of `train` and `test` images from `seed`, cached in
/// `dir/data`.
fn synthetic(
    dir: &std::path::Path,
    seed: u64,
    train: usize,
    test: usize,
) -> (Dataset, Dataset, DataOrigin) {
    let config = SyntheticConfig { seed, train, test };
    Cifar10::load_or_synthetic(&dir.join("data"), DataSource::Synthetic(config)).unwrap()
}

/// Reads a CSV written by the example into rows of fields (header dropped).
fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn cifar_bn_runs_end_to_end_and_its_files_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin) = synthetic(dir.path(), 3, 200, 60);
    assert!(origin.is_synthetic());
    let out = dir.path().join("out");
    let config = tiny_config(&out, Study::Bn);
    let summary =
        experiment::run(&config, &train, &test, &origin, &AtomicBool::new(false)).unwrap();

    for file in [
        "train.csv",
        "eval.csv",
        "summary.json",
        "loss.png",
        "loss.svg",
    ] {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.len() > 0, "{file} is empty");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["device"], "cpu");
    assert_eq!(json["synthetic"], true);
    assert!(json["dataset"].as_str().unwrap().contains("synthetic"));
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["name"], "no-bn");
    assert_eq!(runs[1]["name"], "bn");
    assert_eq!(runs[0]["steps"], 6);
    assert_eq!(runs[1]["steps"], 4);

    let train_rows = rows(&out.join("train.csv"));
    let eval_rows = rows(&out.join("eval.csv"));
    for (i, run) in runs.iter().enumerate() {
        let name = run["name"].as_str().unwrap();
        let losses: Vec<f32> = train_rows
            .iter()
            .filter(|r| r[0] == name)
            .map(|r| r[2].parse().unwrap())
            .collect();
        assert_eq!(losses.len(), run["steps"].as_u64().unwrap() as usize);
        assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0));
        let smooth = smoothed(&losses);
        let final_loss = run["final_train_loss"].as_f64().unwrap() as f32;
        assert!((final_loss - smooth.last().unwrap()).abs() < 1e-6);
        for level in LEVELS {
            let reported = &run["steps_to_loss"][format!("{level}")];
            match steps_to(&smooth, level) {
                Some(s) => assert_eq!(reported.as_u64(), Some(s as u64)),
                None => assert!(reported.is_null()),
            }
        }
        // Evaluations every 3 steps and after the last one.
        let evals: Vec<(usize, f32)> = eval_rows
            .iter()
            .filter(|r| r[0] == name)
            .map(|r| (r[1].parse().unwrap(), r[3].parse().unwrap()))
            .collect();
        let expected: Vec<usize> = if i == 0 { vec![3, 6] } else { vec![3, 4] };
        assert_eq!(evals.iter().map(|e| e.0).collect::<Vec<_>>(), expected);
        let best = evals.iter().map(|e| e.1).fold(0.0f32, f32::max);
        assert!((run["best_test_accuracy"].as_f64().unwrap() as f32 - best).abs() < 1e-6);
        assert!((0.0..=1.0).contains(&best));
        assert!(run["images_per_second"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(summary.runs.len(), 2);
    // The printed table carries the same numbers.
    let table = experiment::report::table(&summary);
    assert!(table.contains("no-bn") && table.contains("synthetic"));

    // Resuming from the checkpoints continues each run where it stopped: the same losses as the
    // uninterrupted run, step for step.
    let resumed_out = dir.path().join("resumed");
    let mut short = tiny_config(&dir.path().join("partial"), Study::Bn);
    short.protocol.steps_no_bn = 4;
    short.protocol.steps_bn = 2;
    experiment::run(&short, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    let mut resumed = tiny_config(&resumed_out, Study::Bn);
    resumed.resume = Some(dir.path().join("partial"));
    experiment::run(&resumed, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    let column = |rows: &[Vec<String>]| -> Vec<(String, String)> {
        rows.iter().map(|r| (r[0].clone(), r[2].clone())).collect()
    };
    assert_eq!(
        column(&rows(&resumed_out.join("train.csv"))),
        column(&train_rows)
    );
}

#[test]
fn cifar_bn_follow_up_studies_name_their_runs() {
    let config = tiny_config(std::path::Path::new("unused"), Study::Dropout);
    let runs = config.runs();
    assert_eq!(runs[0].name, "dropout-no-bn");
    assert!(!runs[0].batch_norm && runs[0].dropout.is_some());
    assert!(runs[1].batch_norm && runs[1].placement == BnPlacement::PreActivation);
    let affine = ExperimentConfig {
        study: Study::Affine,
        ..config.clone()
    };
    let runs = affine.runs();
    assert!(runs[0].affine && !runs[1].affine);
    // The models build, and the input placement has a batch norm in front of every layer.
    let input = experiment::model::build(&runs[0], (8, 4), 0).unwrap();
    let pre = experiment::model::build(
        &experiment::config::RunSpec {
            placement: BnPlacement::PreActivation,
            ..runs[0].clone()
        },
        (8, 4),
        0,
    )
    .unwrap();
    use kiln::nn::Module;
    let bn_count = |m: &kiln::nn::Sequential| {
        m.named_tensors()
            .iter()
            .filter(|(n, _, _)| n.ends_with("running_mean"))
            .count()
    };
    assert_eq!(bn_count(&input), 6);
    assert_eq!(bn_count(&pre), 5);
}

#[test]
fn cifar_bn_diverging_runs_stop_with_their_step_and_the_comparison_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin) = synthetic(dir.path(), 4, 120, 40);
    let out = dir.path().join("out");
    // An absurd learning rate overflows the weights within a few steps.
    let config = ExperimentConfig {
        lr: 1e30,
        checkpoint_every: 0,
        ..tiny_config(&out, Study::Bn)
    };
    let summary =
        experiment::run(&config, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    assert_eq!(summary.runs.len(), 2, "both runs are reported");
    for run in &summary.runs {
        let why = run
            .stopped
            .as_deref()
            .unwrap_or_else(|| panic!("{} did not stop", run.name));
        assert!(why.starts_with("diverged at step"), "{why}");
        assert!(run.steps < 6, "{} ran {} steps", run.name, run.steps);
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(json["runs"][1]["stopped"]
        .as_str()
        .unwrap()
        .contains("diverged"));
}

#[test]
fn seeds_that_differ_by_a_multiple_of_a_large_power_of_two_give_other_weights() {
    let config = tiny_config(std::path::Path::new("unused"), Study::Bn);
    let spec = &config.runs()[0];
    use kiln::nn::Module;
    let weights = |seed: u64| {
        let net = experiment::model::build(spec, (8, 4), seed).unwrap();
        net.named_parameters()
            .iter()
            .filter(|(name, _)| name.ends_with("weight"))
            .map(|(_, t)| t.to_vec().unwrap())
            .collect::<Vec<_>>()
    };
    for other in [1u64 << 61, 1 << 63, 1000] {
        let (a, b) = (weights(0), weights(other));
        assert!(
            a.iter().zip(&b).all(|(x, y)| x != y),
            "seed {other} shares a layer's weights with seed 0"
        );
    }
}

/// A finished run of 2 + 2 steps on seeded synthetic data in `dir/out`: its data and settings.
fn short_run(dir: &std::path::Path) -> (Dataset, Dataset, DataOrigin, ExperimentConfig) {
    let (train, test, origin) = synthetic(dir, 5, 120, 40);
    let mut config = tiny_config(&dir.join("out"), Study::Bn);
    config.protocol.steps_no_bn = 2;
    config.protocol.steps_bn = 2;
    experiment::run(&config, &train, &test, &origin, &AtomicBool::new(false)).unwrap();
    (train, test, origin, config)
}

/// The error of resuming `config`'s run on `data` into `into`, with its causes.
fn resume_error(
    config: &ExperimentConfig,
    into: PathBuf,
    (train, test, origin): (&Dataset, &Dataset, &DataOrigin),
) -> String {
    let resumed = ExperimentConfig {
        resume: Some(config.out.clone()),
        out: into,
        ..config.clone()
    };
    let err = experiment::run(&resumed, train, test, origin, &AtomicBool::new(false)).unwrap_err();
    format!("{err:#}")
}

#[test]
fn resume_refuses_a_checkpoint_made_on_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin, config) = short_run(dir.path());
    let (other, _, _) = synthetic(&dir.path().join("other"), 6, 120, 40);
    for train in [other, train.first(100)] {
        let into = dir.path().join("resumed");
        let message = resume_error(&config, into, (&train, &test, &origin));
        assert!(message.contains("made with other settings"), "{message}");
        assert!(message.contains("train 120 images"), "{message}");
    }
}

#[test]
fn resume_refuses_a_progress_record_it_could_not_have_written() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, origin, config) = short_run(dir.path());
    let path = config.out.join("checkpoints/no-bn.safetensors");
    let original = kiln::nn::StateDict::load(&path).unwrap();
    let record = original.metadata("cifar_bn.record").unwrap().to_string();
    for seconds in ["-5", "1e300"] {
        let mut dict = original.clone();
        let edited = record.replacen(
            "\"wall_seconds\":",
            &format!("\"wall_seconds\":{seconds},\"x\":"),
            1,
        );
        dict.insert_metadata("cifar_bn.record", edited);
        dict.save(&path).unwrap();
        let into = dir.path().join(format!("resumed{seconds}"));
        let message = resume_error(&config, into, (&train, &test, &origin));
        assert!(message.contains("implausible times"), "{message}");
        assert!(message.contains("no-bn.safetensors"), "{message}");
    }
}

/// A yield that suspends once, as the page's does, and counts how often it is awaited.
fn counting_yield(count: Rc<Cell<usize>>) -> experiment::live::Yield {
    Box::new(move || {
        count.set(count.get() + 1);
        let mut suspended = false;
        Box::pin(std::future::poll_fn(move |cx| {
            if std::mem::replace(&mut suspended, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }))
    })
}

/// The page's driver (`live`, which never waits for the device) trains exactly as `cifar_bn`
/// does: the same losses and evaluations, step for step, though it lets the page run between
/// the parts of a step.
#[test]
fn the_live_comparison_matches_the_runs_of_cifar_bn() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, _) = synthetic(dir.path(), 5, 90, 30);
    let config = ExperimentConfig {
        checkpoint_every: 0,
        ..tiny_config(&dir.path().join("out"), Study::Bn)
    };
    let started = std::time::Instant::now();
    let clock = Box::new(move || started.elapsed().as_secs_f64());
    let yields = Rc::new(Cell::new(0));
    let yield_now = counting_yield(yields.clone());
    let mut live =
        experiment::live::Live::new(config.clone(), &train, &test, clock, yield_now).unwrap();
    let mut progress = Vec::new();
    while let Some(p) = pollster::block_on(live.step()).unwrap() {
        progress.push(p);
    }
    let stop = AtomicBool::new(false);
    for (i, spec) in config.runs().iter().enumerate() {
        let native = experiment::train::run(&config, spec, &train, &test, &stop).unwrap();
        let steps: Vec<_> = progress.iter().filter(|p| p.run == i).collect();
        let losses: Vec<f32> = steps.iter().map(|p| p.loss).collect();
        assert_eq!(losses, native.record.train_loss, "{}", spec.name);
        let evals: Vec<_> = steps.iter().filter_map(|p| p.eval).collect();
        let native_evals = &native.record.evals;
        assert_eq!(evals.len(), native_evals.len(), "{}", spec.name);
        for (e, n) in evals.iter().zip(native_evals) {
            assert_eq!((e.step, e.loss, e.accuracy), (n.step, n.loss, n.accuracy));
        }
    }
    // An epoch is 2 batches of 40 here: the runs went through several.
    assert_eq!(progress.len(), 6 + 4);
    // After the one test batch of each of the 4 evaluations, and after recording the first
    // step of each run and the step after its first evaluation.
    assert_eq!(yields.get(), 4 + 2 * 2);
}

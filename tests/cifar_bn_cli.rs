//! The `cifar_bn` program as a user (or a crash) meets it: a run killed at any moment resumes
//! to the same losses as an uninterrupted run, signals write what was measured and exit
//! non-zero, output folders are never written over unasked, resume refuses settings that
//! contradict the run's, and bad flags are named.
//!
//! These tests run the example's binary, which `cargo test` builds with the tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    common::example_binary("cifar_bn")
}

/// A data folder with the synthetic stand-in, made once per test process.
fn data_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let status = command(dir.path(), &["--synthetic", "--steps-no-bn", "1"])
            .args(["--steps-bn", "1", "--out"])
            .arg(dir.path().join("warm-up"))
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", stderr(&status));
        dir
    })
    .path()
}

/// The binary on the CPU, reading data from `data` only.
fn bare(data: &Path) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(["--device", "cpu", "--no-download", "--data"])
        .arg(data)
        .stdin(Stdio::null());
    cmd
}

/// The binary with tiny settings on the CPU; `data` is the data folder.
fn command(data: &Path, extra: &[&str]) -> Command {
    let mut cmd = bare(data);
    cmd.args([
        "--train-images",
        "200",
        "--eval-images",
        "40",
        "--hidden",
        "16",
        "8",
        "--batch-size",
        "20",
        "--eval-every",
        "3",
    ])
    .args(extra);
    cmd
}

/// The program on the shared synthetic data.
fn cifar_bn(extra: &[&str]) -> Command {
    command(data_dir(), extra)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(run, loss)` of every training step in `folder/train.csv`.
fn losses(folder: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(folder.join("train.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect()
}

const STEPS: [&str; 4] = ["--steps-no-bn", "10", "--steps-bn", "6"];

#[test]
fn a_run_killed_at_any_moment_resumes_to_the_uninterrupted_losses() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    let out = cifar_bn(&STEPS)
        .args(["--checkpoint-every", "1", "--out"])
        .arg(&reference)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = losses(&reference);
    assert_eq!(expected.len(), 16);

    // When a run claims its folder and when it ends, to spread the kills over its training.
    let started = Instant::now();
    let timing = dir.path().join("timing");
    let mut child = cifar_bn(&STEPS)
        .args(["--checkpoint-every", "1", "--out"])
        .arg(&timing)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    while !timing.join("run.json").exists() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let claimed = started.elapsed().mul_f64(0.9);
    assert!(child.wait().unwrap().success());
    let training = started.elapsed() - claimed;

    let kills = 16;
    let (mut resumed_mid_run, mut fresh) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(50);
    for k in 0..kills {
        if Instant::now() > deadline {
            break;
        }
        let folder = dir.path().join(format!("killed-{k}"));
        let mut child = cifar_bn(&STEPS)
            .args(["--checkpoint-every", "1", "--out"])
            .arg(&folder)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(claimed + training.mul_f64(k as f64 / kills as f64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        if !folder.join("run.json").exists() {
            // Killed before the run claimed its folder: nothing to resume, and resume says so.
            let out = cifar_bn(&[]).arg("--resume").arg(&folder).output().unwrap();
            assert!(!out.status.success());
            assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
            fresh += 1;
            continue;
        }
        let out = cifar_bn(&[]).arg("--resume").arg(&folder).output().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "kill {k}: {err}");
        assert!(
            err.contains("resumed at step") || err.contains("starting from step 0"),
            "kill {k}: {err}"
        );
        if err.contains("resumed at step") {
            resumed_mid_run += 1;
        }
        assert_eq!(losses(&folder), expected, "kill {k} ({err})");
    }
    assert!(resumed_mid_run > 0, "no kill landed during training");
    eprintln!("{resumed_mid_run} resumed mid-run, {fresh} killed before starting");
}

/// Waits (a minute at most) for the first checkpoint of run `no-bn` in `folder`; its path.
fn first_checkpoint(folder: &Path) -> PathBuf {
    let checkpoint = folder.join("checkpoints").join("no-bn.safetensors");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !checkpoint.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    checkpoint
}

/// Starts a long run into `folder` and waits for its first checkpoint.
fn long_run(folder: &Path) -> std::process::Child {
    let child = cifar_bn(&["--steps-no-bn", "100000", "--checkpoint-every", "1"])
        .arg("--out")
        .arg(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    first_checkpoint(folder);
    child
}

/// Starts a long run, waits for its first checkpoint, sends `signal`, and returns the output.
fn interrupted_by(signal: i32) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let child = long_run(&dir.path().join("out"));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    (child.wait_with_output().unwrap(), dir)
}

/// The output of `command`, which must end within a minute (it is killed otherwise).
fn output_within_a_minute(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_folder_that_a_run_is_writing_into_is_refused_to_other_runs() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    let mut child = long_run(&folder);
    let mut resume = cifar_bn(&[]);
    resume.arg("--resume").arg(&folder);
    let resumed = output_within_a_minute(resume);
    let mut overwrite = cifar_bn(&["--overwrite", "--out"]);
    overwrite.arg(&folder);
    let overwritten = output_within_a_minute(overwrite);
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    for (what, out) in [("--resume", resumed), ("--overwrite", overwritten)] {
        let err = stderr(&out);
        assert!(!out.status.success(), "{what} ran");
        assert!(err.contains("another run is writing"), "{what}: {err}");
    }
    assert!(folder
        .join("checkpoints")
        .join("no-bn.safetensors")
        .exists());
    // Once the run has ended, however it ended (here by SIGKILL), the folder is free.
    let out = cifar_bn(&[
        "--overwrite",
        "--steps-no-bn",
        "2",
        "--steps-bn",
        "2",
        "--out",
    ])
    .arg(&folder)
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn sigterm_and_sigint_write_what_was_measured_and_exit_non_zero() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let (out, dir) = interrupted_by(signal);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap())
                .unwrap();
        let stopped = summary["runs"][0]["stopped"].as_str().unwrap();
        assert!(stopped.starts_with("interrupted at step"), "{stopped}");
        assert!(!losses(&dir.path().join("out")).is_empty());
        assert!(
            summary["runs"].as_array().unwrap().len() == 1,
            "the next run did not start"
        );
    }
}

#[test]
fn an_output_folder_with_an_earlier_run_is_refused_unless_overwrite_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    let run = |extra: &[&str]| {
        cifar_bn(&[
            "--steps-no-bn",
            "3",
            "--steps-bn",
            "2",
            "--checkpoint-every",
            "1",
        ])
        .args(extra)
        .arg("--out")
        .arg(&folder)
        .output()
        .unwrap()
    };
    assert!(run(&[]).status.success());
    let summary = std::fs::read(folder.join("summary.json")).unwrap();
    let out = run(&["--seed", "5"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds an earlier run"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--overwrite"), "{}", stderr(&out));
    assert_eq!(std::fs::read(folder.join("summary.json")).unwrap(), summary);

    // With --overwrite the earlier files go, checkpoints included.
    let out = cifar_bn(&["--steps-no-bn", "3", "--steps-bn", "2", "--overwrite"])
        .arg("--out")
        .arg(&folder)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!folder.join("checkpoints").exists());

    // A file where the folder should be is named.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = cifar_bn(&[]).arg("--out").arg(&file).output().unwrap();
    assert!(stderr(&out).contains("is a file"), "{}", stderr(&out));
}

#[test]
fn simultaneous_starts_get_folders_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = ["bn", "affine"]
        .iter()
        .map(|study| {
            cifar_bn(&["--steps-no-bn", "2", "--steps-bn", "2", "--study", study])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let folders: Vec<_> = std::fs::read_dir(dir.path().join("runs/cifar_bn"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 2, "{folders:?}");
    let studies: std::collections::BTreeSet<String> = folders
        .iter()
        .map(|f| {
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(f.join("summary.json")).unwrap()).unwrap();
            json["study"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(studies.len(), 2);
}

#[test]
fn resume_takes_the_stored_settings_and_refuses_contradicting_ones() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    let out = cifar_bn(&["--steps-no-bn", "4", "--steps-bn", "2", "--seed", "3"])
        .args(["--checkpoint-every", "2", "--out"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    for (flag, value, stored) in [
        ("--batch-size", "32", "20"),
        ("--lr", "0.01", "0.001"),
        ("--train-images", "100", "200"),
        ("--protocol", "article", "\"cpu\""),
        ("--study", "affine", "\"bn\""),
        ("--seed", "4", "3"),
    ] {
        let out = bare(data_dir())
            .args([flag, value])
            .arg("--resume")
            .arg(&folder)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!out.status.success(), "{flag} {value} was accepted");
        assert!(err.contains(&format!("(the run has {stored})")), "{err}");
        assert!(err.contains(flag), "{err}");
    }

    // The same values, or none, continue (here: the runs are complete, so nothing changes).
    let before = losses(&folder);
    let out = bare(data_dir())
        .args(["--seed", "3", "--resume"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(losses(&folder), before);

    // A mistyped path, or a folder this program did not write, is an error.
    for path in [dir.path().join("typo"), dir.path().to_path_buf()] {
        let out = cifar_bn(&[]).arg("--resume").arg(&path).output().unwrap();
        assert!(!out.status.success());
        assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
    }
}

/// The program continuing the run in `folder`, with no other flag.
fn resume(folder: &Path) -> Output {
    bare(data_dir())
        .arg("--resume")
        .arg(folder)
        .output()
        .unwrap()
}

/// Rewrites `folder/run.json` as `edit` changes it.
fn rewrite_run_file(folder: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = folder.join("run.json");
    let mut run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut run);
    std::fs::write(&path, serde_json::to_vec(&run).unwrap()).unwrap();
}

/// `folder/run.json` with its setting `key` replaced by `value`.
fn edit_run_file(folder: &Path, key: &str, value: serde_json::Value) {
    rewrite_run_file(folder, |run| run["settings"][key] = value);
}

#[test]
fn resume_continues_on_the_data_the_run_had_and_checks_the_stored_settings() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    // The shared data folder has no CIFAR-10: this run falls back to the synthetic stand-in,
    // and `run.json` records that.
    let out = cifar_bn(&["--steps-no-bn", "2", "--steps-bn", "2"])
        .arg("--out")
        .arg(&folder)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["settings"]["synthetic"], true, "{run}");

    // A run on CIFAR-10 does not continue on the stand-in when CIFAR-10 is gone.
    edit_run_file(&folder, "synthetic", false.into());
    let out = resume(&folder);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("trained on CIFAR-10"), "{err}");
    assert!(!err.contains("using synthetic"), "{err}");
    edit_run_file(&folder, "synthetic", true.into());

    // Stored values the flags would refuse are refused, naming the flag and the value.
    for (key, value, said) in [
        ("eval_every", serde_json::json!(0), "'0' for '--eval-every"),
        ("hidden", serde_json::json!([16]), "'--hidden <H1> <H2>'"),
        ("lr", serde_json::json!(-0.5), "'-0.5' for '--lr"),
        ("study", serde_json::json!("bnn"), "'bnn' for '--study"),
    ] {
        let stored = run["settings"][key].clone();
        edit_run_file(&folder, key, value);
        let out = resume(&folder);
        let err = stderr(&out);
        assert!(!out.status.success(), "{key} was accepted");
        assert!(err.contains("run.json is damaged"), "{err}");
        assert!(err.contains(said), "{err}");
        edit_run_file(&folder, key, stored);
    }

    // So are settings of the wrong type (named), unknown or missing ones, settings that are
    // not an object, and another version's file.
    let original = std::fs::read(folder.join("run.json")).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(Edit, &str); 5] = [
        (
            |run| run["settings"]["seed"] = serde_json::Value::Null,
            "seed: invalid type: null",
        ),
        (
            |run| run["settings"]["colour"] = "red".into(),
            "unknown setting `colour`",
        ),
        (
            |run| drop(run["settings"].as_object_mut().unwrap().remove("seed")),
            "no setting `seed`",
        ),
        (
            |run| {
                let values = run["settings"].as_object().unwrap().values().cloned();
                run["settings"] = serde_json::Value::Array(values.collect());
            },
            "its settings are not an object",
        ),
        (
            |run| run["version"] = "0.0.1".into(),
            "`kiln cifar_bn 0.0.1`",
        ),
    ];
    for (edit, said) in edits {
        rewrite_run_file(&folder, edit);
        let out = resume(&folder);
        let err = stderr(&out);
        assert!(!out.status.success(), "{said}: accepted");
        assert!(err.contains(said), "{err}");
        std::fs::write(folder.join("run.json"), &original).unwrap();
    }
    let out = resume(&folder);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_resumed_run_keeps_the_checkpoint_cadence_it_had() {
    let (out, dir) = interrupted_by(libc::SIGINT);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let folder = dir.path().join("out");
    let checkpoint = folder.join("checkpoints").join("no-bn.safetensors");
    let modified = || std::fs::metadata(&checkpoint).unwrap().modified().unwrap();
    let saved = modified();
    let child = cifar_bn(&[])
        .arg("--resume")
        .arg(&folder)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while modified() == saved && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let rewritten = modified() != saved;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(rewritten, "no checkpoint after resuming: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
}

#[test]
fn the_cpu_default_takes_its_sizes_from_the_protocol_and_says_how_it_differs() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    // No --protocol, --hidden, --train-images or --eval-images: the cpu protocol's apply.
    let out = bare(data_dir())
        .args([
            "--batch-size",
            "20",
            "--steps-no-bn",
            "1",
            "--steps-bn",
            "1",
        ])
        .arg("--out")
        .arg(&folder)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let header = String::from_utf8_lossy(&out.stdout);
    for phrase in [
        "protocol: cpu (batch 20,",
        "dense widths 500/100 instead of 3500/700",
        "the first 10000 of 50000 training images",
        "--protocol article for the real thing",
    ] {
        assert!(header.contains(phrase), "{phrase:?} missing from\n{header}");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("run.json")).unwrap()).unwrap();
    let settings = &run["settings"];
    assert_eq!(settings["protocol"], "cpu");
    assert_eq!(settings["hidden"], serde_json::json!([500, 100]));
    assert_eq!(settings["train_images"], 10000);
    assert_eq!(settings["eval_images"], 1000);

    // The stored sizes are the run's: giving another width on resume is refused.
    let out = bare(data_dir())
        .args(["--hidden", "3500", "700", "--resume"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("(the run has [500,100])"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_are_named_with_their_values() {
    for (flags, flag, value) in [
        (&["--eval-every", "0"][..], "--eval-every", "0"),
        (&["--eval-images", "0"], "--eval-images", "0"),
        (&["--train-images", "0"], "--train-images", "0"),
        (&["--batch-size", "0"], "--batch-size", "0"),
        (&["--lr", "nan"], "--lr", "nan"),
        (&["--lr=-1"], "--lr", "-1"),
        (&["--hidden", "0", "0"], "--hidden", "0"),
    ] {
        let out = Command::new(binary()).args(flags).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = stderr(&out);
        assert!(
            err.contains(flag) && err.contains(&format!("'{value}'")),
            "{err}"
        );
    }
    // A flag whose setting the chosen study sets itself is refused, not ignored.
    for (flags, said) in [
        (
            &["--study", "dropout", "--bn-placement", "input"][..],
            "--bn-placement has no effect with --study dropout",
        ),
        (
            &["--study", "placement", "--bn-placement", "pre-activation"],
            "--bn-placement has no effect with --study placement",
        ),
        (
            &["--study", "affine", "--no-affine"],
            "--no-affine has no effect with --study affine",
        ),
    ] {
        let out = cifar_bn(flags).output().unwrap();
        assert!(!out.status.success(), "{flags:?}");
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
    }
}

#[test]
fn a_closed_stdout_does_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    let mut child = cifar_bn(&["--steps-no-bn", "3", "--steps-bn", "2", "--out"])
        .arg(&folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // as `| head -0` would
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(folder.join("summary.json").exists());
}

/// A CIFAR-10 folder in `dir` whose files all have the right sizes (sparse: zero bytes) except
/// `data_batch_3.bin`, which is truncated.
fn damaged_cifar10(dir: &Path) {
    let folder = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&folder).unwrap();
    let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    std::fs::write(folder.join("batches.meta.txt"), names).unwrap();
    for file in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()])
    {
        let size = if file == "data_batch_3.bin" {
            3073 * 9999
        } else {
            3073 * 10000
        };
        let f = std::fs::File::create(folder.join(file)).unwrap();
        f.set_len(size).unwrap();
    }
}

#[test]
fn a_damaged_dataset_is_an_error_naming_the_file_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    damaged_cifar10(dir.path());
    let out = command(dir.path(), &["--steps-no-bn", "1", "--steps-bn", "1"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("data_batch_3.bin"), "{err}");
    assert!(!err.contains("synthetic"), "{err}");
    assert!(
        !dir.path().join("runs").exists(),
        "no output folder for a run that never ran"
    );
}

#[test]
fn require_real_data_never_falls_back_to_the_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), &["--require-real-data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("data_batch_1.bin"), "{err}");
    assert!(!dir.path().join("runs").exists());
    let out = command(dir.path(), &["--require-real-data", "--synthetic"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the two flags conflict");
}

#[test]
fn a_second_signal_exits_at_once_without_finishing_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out");
    // A large batch and wide dense layers: a step takes seconds, long enough for two signals
    // to land inside it, sent a second apart so that they are never merged into one.
    let mut child = bare(data_dir())
        .args([
            "--train-images",
            "1000",
            "--batch-size",
            "1000",
            "--hidden",
            "3500",
            "700",
        ])
        .args([
            "--steps-no-bn",
            "100000",
            "--checkpoint-every",
            "1",
            "--out",
        ])
        .arg(&folder)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = first_checkpoint(&folder);
    for _ in 0..2 {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        std::thread::sleep(Duration::from_millis(1000));
    }
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert!(
        !folder.join("summary.json").exists(),
        "the second signal did not wait for the step and the files"
    );
    // The last complete checkpoint is still there to resume from.
    assert!(checkpoint.exists());
}

//! What the example programs' command lines share: flag parsers, the device flag, `--resume`'s
//! settings check, and the signals that stop a run.

use crate::folder::{self, FolderLock, Program, RUN_FILE};
use anyhow::{anyhow, bail, Context};
use clap::parser::ValueSource;
use clap::ArgMatches;
use kiln::data::{Cifar10, DataOrigin, DataSource, Dataset};
use kiln::tensor::{Device, DeviceChoice};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

/// The device `--device arg` selects; an error names the flag.
pub fn device(arg: DeviceArg) -> anyhow::Result<Device> {
    let choice = match arg {
        DeviceArg::Auto => DeviceChoice::Auto,
        DeviceArg::Cpu => DeviceChoice::Cpu,
        DeviceArg::Gpu => DeviceChoice::Gpu,
    };
    Device::select(choice).with_context(|| format!("--device {arg:?}").to_lowercase())
}

/// How a device is named in a program's header: the adapter, or the CPU's thread count.
pub fn describe(device: Device) -> String {
    match device {
        Device::Gpu => device.describe(),
        Device::Cpu => format!("cpu ({} threads)", rayon::current_num_threads()),
    }
}

/// The flags every example program has besides the settings of its runs: device, data, output
/// folder, checkpoints and `--resume`. A program flattens them into its arguments, beside a
/// settings group that has a `synthetic` flag.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Where to train.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// Folder holding (or receiving) `cifar-10-batches-bin/`, and the synthetic data cache.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Do not try to download CIFAR-10 when it is missing.
    #[arg(long)]
    pub no_download: bool,
    /// Fail instead of falling back to synthetic data when real CIFAR-10 cannot be had.
    #[arg(long, conflicts_with = "synthetic")]
    pub require_real_data: bool,
    /// Output folder [default: a new folder in runs/, named for the program and the start
    /// time]; it must not hold an earlier run.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the earlier run's files in --out.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    /// Save a checkpoint every N steps into the output folder's checkpoints/ (0: never);
    /// with --resume, the run's own cadence unless given.
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Continue the run in this output folder from its checkpoints, with its settings.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: Option<PathBuf>,
}

impl RunArgs {
    /// The settings of the runs: with `--resume`, those stored in its folder (see
    /// [`resumed_settings`]), and its checkpoint cadence unless `--checkpoint-every` is given;
    /// else `given`.
    pub fn settings<S: Clone + clap::Args + serde::Serialize + serde::de::DeserializeOwned>(
        &mut self,
        program: &Program,
        given: &S,
        matches: &ArgMatches,
    ) -> anyhow::Result<S> {
        let Some(folder) = &self.resume else {
            return Ok(given.clone());
        };
        if let Some(out) = self.out.as_ref().filter(|out| *out != folder) {
            bail!(
                "--resume {} continues in its own folder; --out {} names another",
                folder.display(),
                out.display()
            );
        }
        let stored = folder::stored(program, folder)?;
        if matches.value_source("checkpoint_every") != Some(ValueSource::CommandLine) {
            self.checkpoint_every = stored.checkpoint_every;
        }
        resumed_settings(folder, stored.settings, given, matches)
    }

    /// Training and test sets: synthetic when `synthetic` is set, else CIFAR-10 from `--data`
    /// (downloaded unless `--no-download`), falling back to the synthetic stand-in unless
    /// `--require-real-data` or `--resume`. Sets `synthetic` to the data's kind, so that the
    /// settings stored in `run.json` say which data the run trains on, and `--resume` loads
    /// the same kind again: a run that fell back to synthetic data continues on it, and a run
    /// on CIFAR-10 does not continue without it.
    pub fn load_data(
        &self,
        synthetic: &mut bool,
    ) -> anyhow::Result<(Dataset, Dataset, DataOrigin)> {
        let download = !self.no_download;
        let source = if *synthetic {
            DataSource::Synthetic(Default::default())
        } else if self.require_real_data || self.resume.is_some() {
            DataSource::Real { download }
        } else {
            DataSource::Auto { download }
        };
        let loaded = Cifar10::load_or_synthetic(&self.data, source);
        let (train, test, origin) = match (&self.resume, loaded) {
            (Some(folder), Err(e)) if !*synthetic => {
                bail!(
                    "--resume {}: the run trained on CIFAR-10, which cannot be loaded from \
                     --data {}: {e}",
                    folder.display(),
                    self.data.display()
                )
            }
            (_, loaded) => loaded?,
        };
        *synthetic = origin.is_synthetic();
        Ok((train, test, origin))
    }

    /// The output folder, locked for this process while the lock lives: `--resume`'s, or a
    /// new one claimed with `settings` (see [`folder::create`]) at `--out` or under
    /// `runs/<program>/`.
    pub fn output_folder(
        &self,
        program: &Program,
        settings: &impl serde::Serialize,
    ) -> anyhow::Result<(PathBuf, FolderLock)> {
        if let Some(folder) = &self.resume {
            let lock =
                folder::lock(folder).with_context(|| format!("--resume {}", folder.display()))?;
            return Ok((folder.clone(), lock));
        }
        folder::create(
            program,
            self.out.as_deref(),
            &Path::new("runs").join(program.name),
            self.overwrite,
            &settings_json(settings)?,
            self.checkpoint_every,
        )
    }
}

/// Fails when one of the `overridden` flags (argument ids) is on the command line although the
/// chosen `study` sets that setting itself, so that no flag is silently ignored.
pub fn refuse_overridden(
    matches: &ArgMatches,
    study: impl clap::ValueEnum,
    overridden: &[&str],
) -> anyhow::Result<()> {
    let study = study.to_possible_value().expect("every study has a name");
    for id in overridden {
        if matches.value_source(id) == Some(ValueSource::CommandLine) {
            bail!(
                "--{} has no effect with --study {}, which sets it itself",
                id.replace('_', "-"),
                study.get_name()
            );
        }
    }
    Ok(())
}

/// Parses a count of at least 1.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses a positive finite number.
pub fn positive_finite(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive finite number".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Settings as JSON, numbers as written (`0.01`, not the `f64` nearest the `f32`).
pub fn settings_json(settings: &impl serde::Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::from_str(&serde_json::to_string(settings)?)?)
}

/// `--resume folder`: the settings `stored_json` in the folder's `run.json`, after checking
/// that none of `given` set on the command line (per `matches`) contradicts them (each one named
/// with both values), that they are the settings `S` has, no more and no fewer, and that the
/// flags' own checks accept them (a damaged or edited file is refused with the flag and its
/// value).
pub fn resumed_settings<S: clap::Args + serde::Serialize + serde::de::DeserializeOwned>(
    folder: &Path,
    stored_json: serde_json::Value,
    given: &S,
    matches: &ArgMatches,
) -> anyhow::Result<S> {
    let given_json = settings_json(given)?;
    let mut conflicts = Vec::new();
    for (key, value) in given_json.as_object().expect("settings are an object") {
        let on_command_line = matches.value_source(key) == Some(ValueSource::CommandLine);
        let stored = &stored_json[key];
        if on_command_line && stored != value {
            let flag = key.replace('_', "-");
            conflicts.push(format!("--{flag} {value} (the run has {stored})"));
        }
    }
    let run_file = folder.join(RUN_FILE);
    if !conflicts.is_empty() {
        bail!(
            "--resume {}: these flags contradict the run's settings in {}: {}; drop them to \
             continue the run as it was",
            folder.display(),
            run_file.display(),
            conflicts.join(", ")
        );
    }
    let damaged = || {
        format!(
            "--resume {}: {} is damaged",
            folder.display(),
            run_file.display()
        )
    };
    let keys = |json: &serde_json::Value| -> BTreeSet<String> {
        json.as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (stored_keys, given_keys) = (keys(&stored_json), keys(&given_json));
    if let Some(unknown) = stored_keys.difference(&given_keys).next() {
        return Err(anyhow!("unknown setting `{unknown}`")).with_context(damaged);
    }
    if let Some(missing) = given_keys.difference(&stored_keys).next() {
        return Err(anyhow!("no setting `{missing}`")).with_context(damaged);
    }
    check_as_flags::<S>(&stored_json).with_context(damaged)?;
    // The error names the setting whose value does not fit its type.
    serde_path_to_error::deserialize(stored_json).with_context(damaged)
}

/// Fails unless `S`'s flags accept `settings` (as stored in `run.json`) given on a command
/// line, so that stored values get the checks of the flags (`--eval-every 0`, one width for
/// `--hidden`) and a damaged or edited file is refused with the flag and its value.
fn check_as_flags<S: clap::Args>(settings: &serde_json::Value) -> anyhow::Result<()> {
    let command = S::augment_args(clap::Command::new(RUN_FILE).no_binary_name(true));
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut argv = Vec::new();
    for (key, value) in settings.as_object().into_iter().flatten() {
        let arg = command.get_arguments().find(|arg| arg.get_id() == key);
        let Some(long) = arg.and_then(|arg| arg.get_long()) else {
            continue;
        };
        match value {
            serde_json::Value::Null | serde_json::Value::Bool(false) => {}
            serde_json::Value::Bool(true) => argv.push(format!("--{long}")),
            serde_json::Value::Array(items) => {
                argv.push(format!("--{long}"));
                argv.extend(items.iter().map(text));
            }
            single => argv.push(format!("--{long}={}", text(single))),
        }
    }
    if let Err(e) = command.try_get_matches_from(&argv) {
        let message = e.to_string();
        let first = message.lines().next().unwrap_or_default();
        bail!("{}", first.trim_start_matches("error: "));
    }
    Ok(())
}

/// The first signal (SIGINT or SIGTERM) sets `stop` and records its number; a second one ends
/// the process at once with status 128 + signal.
pub struct Signals {
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Registers the handlers.
    pub fn register() -> anyhow::Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let (stop, which) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the earlier signal left it.
            signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, stop.clone())?;
            signal_hook::flag::register(signal, stop.clone())?;
            signal_hook::flag::register_usize(signal, which.clone(), signal as usize)?;
        }
        Ok(Signals { stop, which })
    }

    /// Whether a signal asked the run to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The exit status: 128 + the signal's number (130 SIGINT, 143 SIGTERM) after one, else
    /// success.
    pub fn exit_code(&self) -> ExitCode {
        if !self.stopped() {
            return ExitCode::SUCCESS;
        }
        let signal = self.which.load(Ordering::Relaxed);
        note!("stopped by signal {signal}; what was measured is written");
        ExitCode::from(128 + signal as u8)
    }
}

/// Runs a program's `run`, printing its error (with its causes) on stderr.
pub fn main(run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! Output folders of the example programs: a fresh one per run, never an earlier run's unless
//! asked, and the run's settings (`run.json`) that `--resume` continues from.

use anyhow::{bail, Context};
use kiln::nn::checkpoint::{create_atomically, write_atomically};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The file that marks a folder as this program's output and holds the run's settings.
pub const RUN_FILE: &str = "run.json";
/// The folder of checkpoints inside an output folder.
pub const CHECKPOINTS: &str = "checkpoints";
/// The file a running program holds locked in its output folder.
const LOCK_FILE: &str = ".lock";

/// An exclusive lock on an output folder, held while a program writes into it: another run
/// (a `--resume`, an `--overwrite`) cannot take the folder until it is dropped or the process
/// ends, however it ends.
#[must_use = "the folder is unlocked when this is dropped"]
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// Locks `folder` for this process: an error naming the folder when another run holds it.
pub fn lock(folder: &Path) -> anyhow::Result<FolderLock> {
    let path = folder.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(FolderLock { _file: file }),
        Err(TryLockError::WouldBlock) => bail!(
            "{}: another run is writing into this folder (it holds {} locked); wait for it to \
             end, or stop it",
            folder.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// A program that writes output folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// Its name in `run.json` and in messages (`cifar_bn`).
    pub name: &'static str,
    /// Every file and folder it writes into an output folder besides [`RUN_FILE`] and
    /// [`CHECKPOINTS`]: what `--overwrite` removes.
    pub outputs: &'static [&'static str],
}

impl Program {
    /// Every file and folder the program writes into its output folder.
    fn written(&self) -> impl Iterator<Item = &'static str> {
        [RUN_FILE, CHECKPOINTS]
            .into_iter()
            .chain(self.outputs.iter().copied())
    }

    /// The name `run.json` records.
    fn signature(&self) -> String {
        format!("kiln {}", self.name)
    }
}

/// What `run.json` holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RunFile {
    program: String,
    version: String,
    settings: serde_json::Value,
    /// The run's `--checkpoint-every`, which `--resume` keeps unless given again.
    checkpoint_every: usize,
}

/// What an earlier run stored in its `run.json`, for `--resume`.
#[derive(Debug)]
pub struct Stored {
    /// The settings of its runs, a JSON object.
    pub settings: serde_json::Value,
    /// Its `--checkpoint-every`.
    pub checkpoint_every: usize,
}

/// Creates a new output folder of `program`, locks it, and claims it with `run.json` holding
/// `settings` and the checkpoint cadence `checkpoint_every`.
///
/// With `out`, the folder may exist if it holds none of the files the program writes, or with
/// `overwrite`, which first removes those (an earlier run's outputs; nothing else). Without
/// it, a folder `base/<timestamp>` is created; starts in the same second get `-2`, `-3`, ...
/// (the folder is created exclusively, so simultaneous starts never share one).
pub fn create(
    program: &Program,
    out: Option<&Path>,
    base: &Path,
    overwrite: bool,
    settings: &serde_json::Value,
    checkpoint_every: usize,
) -> anyhow::Result<(PathBuf, FolderLock)> {
    let (folder, lock) = match out {
        Some(out) => (
            out.to_path_buf(),
            prepare_explicit(program, out, overwrite)?,
        ),
        None => {
            let folder = create_unique(base)?;
            let lock = lock(&folder)?;
            (folder, lock)
        }
    };
    let run = RunFile {
        program: program.signature(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        settings: settings.clone(),
        checkpoint_every,
    };
    claim(&folder.join(RUN_FILE), &serde_json::to_vec_pretty(&run)?)?;
    Ok((folder, lock))
}

/// What [`create`] stored in `folder/run.json` for `program`, for `--resume folder`: refused
/// when another program or another version of kiln wrote it, or its settings are not an object.
pub fn stored(program: &Program, folder: &Path) -> anyhow::Result<Stored> {
    let path = folder.join(RUN_FILE);
    if !folder.is_dir() {
        bail!(
            "--resume {}: no such folder (give an output folder of an earlier run)",
            folder.display()
        );
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "--resume {}: not an output folder of {} (reading {}: {e})",
            folder.display(),
            program.name,
            path.display()
        )
    })?;
    let damaged = || {
        format!(
            "--resume {}: {} is damaged",
            folder.display(),
            path.display()
        )
    };
    let run: RunFile = serde_json::from_slice(&bytes).with_context(damaged)?;
    let this = (program.signature(), env!("CARGO_PKG_VERSION"));
    if (run.program.as_str(), run.version.as_str()) != (this.0.as_str(), this.1) {
        bail!(
            "--resume {}: {} was written by `{} {}`, not by {} {}",
            folder.display(),
            path.display(),
            run.program,
            run.version,
            this.0,
            this.1
        );
    }
    if !run.settings.is_object() {
        return Err(anyhow::anyhow!("its settings are not an object")).with_context(damaged);
    }
    Ok(Stored {
        settings: run.settings,
        checkpoint_every: run.checkpoint_every,
    })
}

/// Makes sure `out` can receive a new run, and locks it (before removing anything).
fn prepare_explicit(program: &Program, out: &Path, overwrite: bool) -> anyhow::Result<FolderLock> {
    if !out.exists() {
        std::fs::create_dir_all(out)
            .with_context(|| format!("--out {}: creating the folder", out.display()))?;
    } else if !out.is_dir() {
        bail!("--out {}: is a file, not a folder", out.display());
    }
    let lock = lock(out).with_context(|| format!("--out {}", out.display()))?;
    let earlier: Vec<&str> = program
        .written()
        .filter(|name| out.join(name).exists())
        .collect();
    if earlier.is_empty() {
        return Ok(lock);
    }
    if !overwrite {
        bail!(
            "--out {}: holds an earlier run ({}); choose another folder, continue it with \
             --resume {}, or replace it with --overwrite",
            out.display(),
            earlier.join(", "),
            out.display()
        );
    }
    for name in earlier {
        let path = out.join(name);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("--overwrite: removing {}", path.display()))?;
    }
    Ok(lock)
}

/// Creates `base/<timestamp>` (or `-2`, `-3`, ...), exclusively.
fn create_unique(base: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(base).with_context(|| format!("creating {}", base.display()))?;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    for n in 1..=1000 {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let folder = base.join(name);
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", folder.display())),
        }
    }
    bail!("creating a folder in {}: 1000 names taken", base.display())
}

/// Writes `path` atomically, failing if it already exists (two runs racing for one folder:
/// one wins, the other is told).
fn claim(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    create_atomically(path, bytes)
        .with_context(|| format!("claiming {} (another run started here?)", path.display()))
}

/// Writes `bytes` to `folder/name` atomically (a kill leaves the old file or the new one).
pub fn write_output(folder: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(write_atomically(&folder.join(name), bytes)?)
}

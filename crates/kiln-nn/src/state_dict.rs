//! Named tensors, counters and metadata, and their file format: a checkpoint's contents.
//!
//! A [`StateDict`] is written as safetensors (tensors as `F32`/`F64` with their shapes, counters
//! as `U64` scalars, metadata as strings) through an atomic write, with a CRC-32 of every entry
//! and of the metadata that loading verifies. It knows nothing of modules or optimizers: they
//! fill and read it (see [`crate::checkpoint`]).

use crate::durable::write_atomically;
pub use crate::durable::FileError;
use kiln_tensor::{DType, Shape, Tensor};
use safetensors::{Dtype, SafeTensors};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Where the optimizer's state lives in a checkpoint.
pub(crate) const OPTIMIZER_PREFIX: &str = "optimizer.";
/// Metadata key of the checksum kiln writes (CRC-32 of entries and metadata, 8 hex digits).
const CHECKSUM_KEY: &str = "kiln.crc32";
/// Metadata key and value that mark a file as kiln's, written beside the checksum (and covered
/// by it): a file with the mark but no checksum key has a damaged header, not a foreign one.
const FORMAT_KEY: &str = "kiln.format";
const FORMAT_VERSION: &str = "1";
/// Metadata key of the training step a checkpoint was taken after.
const STEP_KEY: &str = "kiln.step";

/// What went wrong saving or loading a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("checkpoint: {0}")]
    Io(#[from] FileError),
    /// Loading the file at `path` failed (the message includes the cause's).
    #[error("checkpoint {}: {cause}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        cause: Box<CheckpointError>,
    },
    /// The contents do not match the checksum stored with them: the file is damaged.
    #[error(
        "contents do not match their checksum (stored {stored:08x}, computed {computed:08x}): \
         the file is damaged"
    )]
    Corrupt {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the contents as read.
        computed: u32,
    },
    /// The checkpoint's step and its optimizer state's step differ.
    #[error("checkpoint is at step {checkpoint} but its optimizer state is at step {optimizer}")]
    StepMismatch {
        /// The step recorded with [`StateDict::set_step`].
        checkpoint: u64,
        /// The largest step counter of the optimizer state.
        optimizer: u64,
    },
    /// The bytes are not a safetensors file, or hold a dtype kiln does not load.
    #[error("checkpoint format: {0}")]
    Format(String),
    /// A tensor or counter the module or optimizer needs is not in the checkpoint.
    #[error("checkpoint has no entry named `{name}`")]
    Missing {
        /// The entry's name.
        name: String,
    },
    /// An entry is a counter where a tensor is needed, or a tensor where a counter is (such as
    /// PyTorch's optimizer steps, kept as `f32` tensors).
    #[error("checkpoint entry `{name}` is {found}, not {expected}")]
    WrongKind {
        /// The entry's name.
        name: String,
        /// What is needed: "a tensor" or "a counter (a U64 scalar)".
        expected: &'static str,
        /// What the entry is.
        found: &'static str,
    },
    /// Two of a module's tensors have the same name, so a checkpoint could hold only one of
    /// them (a custom module whose walk does not prefix its children's names).
    #[error(
        "the module has two tensors named `{name}`; a module's visit_tensors must give each a \
         name of its own (prefix each child's names)"
    )]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A tensor's shape in the checkpoint differs from the module's.
    #[error("checkpoint tensor `{name}` has shape {found}, the model expects {expected}")]
    ShapeMismatch {
        /// The tensor's name.
        name: String,
        /// The shape of the module's (or optimizer's) tensor.
        expected: Shape,
        /// The shape in the checkpoint.
        found: Shape,
    },
    /// A tensor's dtype in the checkpoint differs from the module's (and no cast was asked
    /// for: [`LoadOptions::cast`](crate::checkpoint::LoadOptions::cast)).
    #[error(
        "checkpoint tensor `{name}` has dtype {found}, the model expects {expected:?} \
         (load with LoadOptions {{ cast: true, .. }} to convert)"
    )]
    DTypeMismatch {
        /// The tensor's name.
        name: String,
        /// The dtype of the module's (or optimizer's) tensor.
        expected: DType,
        /// The dtype in the file (`F64`, `F16`, `BF16`, ...).
        found: String,
    },
    /// The checkpoint holds a module tensor that the module does not have.
    #[error("checkpoint tensor `{name}` does not belong to the model")]
    Unexpected {
        /// The tensor's name.
        name: String,
    },
    /// The optimizer state does not fit the optimizer (another number of parameters).
    #[error("checkpoint optimizer state: {0}")]
    Incompatible(String),
    /// The checkpoint was written under another configuration of a component that must match
    /// (a learning-rate schedule, say).
    #[error("checkpoint entry `{name}` does not match this run: {detail}")]
    Mismatch {
        /// The entry compared.
        name: String,
        /// Both sides.
        detail: String,
    },
    /// A tensor operation failed (reading back, moving to a device).
    #[error(transparent)]
    Tensor(#[from] kiln_tensor::Error),
}

impl CheckpointError {
    /// `error` found in the file at `path`.
    pub(crate) fn in_file(path: &Path, error: CheckpointError) -> CheckpointError {
        CheckpointError::InFile {
            path: path.to_path_buf(),
            cause: Box::new(error),
        }
    }

    /// What went wrong, without the file it went wrong in: the cause of an
    /// [`InFile`](CheckpointError::InFile) error, else the error itself.
    pub fn cause(&self) -> &CheckpointError {
        match self {
            CheckpointError::InFile { cause, .. } => cause.cause(),
            other => other,
        }
    }
}

/// `Result` with a [`CheckpointError`].
pub type CheckpointResult<T> = std::result::Result<T, CheckpointError>;

/// Named tensors, `u64` counters and string metadata: the contents of a checkpoint file.
/// Names sort the file.
#[derive(Debug, Default, Clone)]
pub struct StateDict {
    tensors: BTreeMap<String, Tensor>,
    counters: BTreeMap<String, u64>,
    metadata: BTreeMap<String, String>,
    /// Tensors decoded to `f32` from a float type kiln does not compute in (`F16`, `BF16`),
    /// with that type's name: they load only with [`LoadOptions::cast`](crate::checkpoint::LoadOptions::cast).
    decoded_from: BTreeMap<String, String>,
    /// Entries of a dtype or shape kiln does not hold (integer or bool tensors of PyTorch's
    /// buffers, say), with a description: an error when a module needs them, reported as
    /// unexpected otherwise, and not written back by [`StateDict::to_bytes`].
    unloadable: BTreeMap<String, String>,
}

impl StateDict {
    /// An empty dictionary.
    pub fn new() -> StateDict {
        StateDict::default()
    }

    /// Adds (or replaces) a tensor. The dictionary holds a handle: values are read when the
    /// dictionary is serialized.
    pub fn insert_tensor(&mut self, name: impl Into<String>, tensor: Tensor) {
        self.tensors.insert(name.into(), tensor);
    }

    /// Adds (or replaces) a counter.
    pub fn insert_counter(&mut self, name: impl Into<String>, value: u64) {
        self.counters.insert(name.into(), value);
    }

    /// Adds (or replaces) a metadata entry: a string stored in the file's header (a run's
    /// progress as JSON, say). Keys starting with `kiln.` are kiln's own.
    pub fn insert_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// The metadata entry `key`, if there is one.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Records that this checkpoint was taken after `step` training steps; loading it into an
    /// optimizer then checks that the optimizer state agrees.
    pub fn set_step(&mut self, step: u64) {
        self.insert_metadata(STEP_KEY, step.to_string());
    }

    /// The step recorded by [`StateDict::set_step`], if any.
    pub fn step(&self) -> CheckpointResult<Option<u64>> {
        self.metadata(STEP_KEY)
            .map(|s| {
                s.parse().map_err(|_| {
                    CheckpointError::Format(format!("metadata `{STEP_KEY}` is `{s}`, not a step"))
                })
            })
            .transpose()
    }

    /// The tensor named `name` (a CPU tensor after loading from a file).
    pub fn tensor(&self, name: &str) -> CheckpointResult<&Tensor> {
        self.tensors.get(name).ok_or_else(|| self.absent(name))
    }

    /// The counter named `name`.
    pub fn counter(&self, name: &str) -> CheckpointResult<u64> {
        self.counters
            .get(name)
            .copied()
            .ok_or_else(|| self.absent(name))
    }

    /// Why the tensor or counter `name` cannot be had: it is the other kind, or missing.
    fn absent(&self, name: &str) -> CheckpointError {
        const TENSOR: &str = "a tensor";
        const COUNTER: &str = "a counter (a U64 scalar)";
        let kind = |expected, found| CheckpointError::WrongKind {
            name: name.to_string(),
            expected,
            found,
        };
        if self.tensors.contains_key(name) {
            kind(COUNTER, TENSOR)
        } else if self.counters.contains_key(name) {
            kind(TENSOR, COUNTER)
        } else if let Some(what) = self.unloadable.get(name) {
            CheckpointError::Format(format!(
                "entry `{name}` has {what}; kiln loads F32, F64, F16 and BF16 tensors and U64 \
                 and I64 scalars"
            ))
        } else {
            CheckpointError::Missing {
                name: name.to_string(),
            }
        }
    }

    /// Whether there is an entry named `name`: a tensor, a counter, or one kiln cannot hold.
    pub fn contains(&self, name: &str) -> bool {
        self.has_tensor(name)
            || self.counters.contains_key(name)
            || self.unloadable.contains_key(name)
    }

    /// Whether there is a tensor named `name`.
    pub fn has_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor names, sorted.
    pub fn tensor_names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The names of the entries kiln cannot hold, sorted.
    pub(crate) fn unloadable_names(&self) -> impl Iterator<Item = &str> {
        self.unloadable.keys().map(String::as_str)
    }

    /// Copies the tensor named `name` into `dst`, in place and on `dst`'s device, after
    /// [`StateDict::check`].
    pub fn copy_into(&self, name: &str, dst: &Tensor) -> CheckpointResult<()> {
        let src = self.check(name, dst)?;
        Ok(crate::inplace::overwrite(dst, src)?)
    }

    /// The tensor named `name`, if it can be loaded into `dst`: present, with `dst`'s shape
    /// and dtype.
    pub fn check(&self, name: &str, dst: &Tensor) -> CheckpointResult<&Tensor> {
        let src = self.tensor(name)?;
        if src.shape() != dst.shape() {
            return Err(CheckpointError::ShapeMismatch {
                name: name.to_string(),
                expected: dst.shape().clone(),
                found: src.shape().clone(),
            });
        }
        let stored = self.decoded_from.get(name);
        if src.dtype() != dst.dtype() || stored.is_some() {
            return Err(CheckpointError::DTypeMismatch {
                name: name.to_string(),
                expected: dst.dtype(),
                found: stored
                    .cloned()
                    .unwrap_or_else(|| format!("{:?}", src.dtype())),
            });
        }
        Ok(src)
    }

    /// The tensor named `name` ready to be copied into `dst`: as [`StateDict::check`], or with
    /// `cast` converted to `dst`'s dtype.
    pub(crate) fn prepared(
        &self,
        name: &str,
        dst: &Tensor,
        cast: bool,
    ) -> CheckpointResult<Tensor> {
        match self.check(name, dst) {
            Ok(src) => Ok(src.clone()),
            Err(CheckpointError::DTypeMismatch { .. }) if cast => {
                let src = self.tensor(name)?;
                Ok(match dst.dtype() {
                    DType::F32 => Tensor::from_vec(src.to_vec()?, src.dims())?,
                    DType::F64 => Tensor::from_vec_f64(src.to_vec_f64()?, src.dims())?,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The safetensors encoding, with the checksum in the metadata. Reads every tensor back to
    /// the host.
    pub fn to_bytes(&self) -> CheckpointResult<Vec<u8>> {
        let mut entries = Vec::with_capacity(self.tensors.len() + self.counters.len());
        for (name, t) in &self.tensors {
            let (dtype, data) = match t.dtype() {
                DType::F32 => (Dtype::F32, le_bytes(t.to_vec()?, f32::to_le_bytes)),
                DType::F64 => (Dtype::F64, le_bytes(t.to_vec_f64()?, f64::to_le_bytes)),
            };
            entries.push((name.as_str(), Entry::new(dtype, t.dims().to_vec(), data)));
        }
        for (name, &value) in &self.counters {
            let data = value.to_le_bytes().to_vec();
            entries.push((name.as_str(), Entry::new(Dtype::U64, Vec::new(), data)));
        }
        let mut metadata: HashMap<String, String> = self
            .metadata
            .iter()
            .filter(|(k, _)| ![CHECKSUM_KEY, FORMAT_KEY].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        metadata.insert(FORMAT_KEY.to_string(), FORMAT_VERSION.to_string());
        let sum = checksum(
            entries
                .iter()
                .map(|(n, e)| (*n, e.dtype, e.shape.as_slice(), e.data.as_slice())),
            &metadata,
        );
        metadata.insert(CHECKSUM_KEY.to_string(), format!("{sum:08x}"));
        safetensors::serialize(entries, Some(metadata)).map_err(format_error)
    }

    /// Decodes a safetensors encoding: `F32` and `F64` tensors become CPU tensors (`F16` and
    /// `BF16` ones too, decoded to `f32`), `U64` and `I64` scalars counters, the header's
    /// metadata metadata; other entries are kept as names only, an error if used. A checksum
    /// written by kiln is verified; a file marked as kiln's whose checksum key is missing
    /// (damaged) is refused.
    pub fn from_bytes(bytes: &[u8]) -> CheckpointResult<StateDict> {
        let file = SafeTensors::deserialize(bytes).map_err(format_error)?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(format_error)?;
        let mut metadata = header.metadata().clone().unwrap_or_default();
        let stored = metadata.remove(CHECKSUM_KEY);
        if stored.is_none() && metadata.contains_key(FORMAT_KEY) {
            return Err(CheckpointError::Format(format!(
                "metadata `{FORMAT_KEY}` marks the file as kiln's, but its checksum \
                 `{CHECKSUM_KEY}` is missing: the header is damaged"
            )));
        }
        if let Some(stored) = stored {
            let stored = u32::from_str_radix(&stored, 16).map_err(|_| {
                CheckpointError::Format(format!("metadata `{CHECKSUM_KEY}` is `{stored}`"))
            })?;
            let views = file.iter().collect::<Vec<_>>();
            let computed = checksum(
                views
                    .iter()
                    .map(|(n, v)| (*n, v.dtype(), v.shape(), v.data())),
                &metadata,
            );
            if computed != stored {
                return Err(CheckpointError::Corrupt { stored, computed });
            }
        }
        metadata.remove(FORMAT_KEY);
        let mut dict = StateDict {
            metadata: metadata.into_iter().collect(),
            ..StateDict::default()
        };
        for (name, view) in file.iter() {
            let (shape, data) = (view.shape(), view.data());
            match view.dtype() {
                Dtype::F32 => {
                    let values = from_le_bytes(data, f32::from_le_bytes);
                    dict.insert_tensor(name, Tensor::from_vec(values, shape)?);
                }
                Dtype::F64 => {
                    let values = from_le_bytes(data, f64::from_le_bytes);
                    dict.insert_tensor(name, Tensor::from_vec_f64(values, shape)?);
                }
                Dtype::F16 | Dtype::BF16 => {
                    let decode = match view.dtype() {
                        Dtype::F16 => |b: [u8; 2]| half::f16::from_le_bytes(b).to_f32(),
                        _ => |b: [u8; 2]| half::bf16::from_le_bytes(b).to_f32(),
                    };
                    dict.insert_tensor(name, Tensor::from_vec(from_le_bytes(data, decode), shape)?);
                    dict.decoded_from
                        .insert(name.to_string(), format!("{:?}", view.dtype()));
                }
                Dtype::U64 if shape.is_empty() => {
                    dict.insert_counter(name, from_le_bytes(data, u64::from_le_bytes)[0]);
                }
                // PyTorch's batch-norm step counter, `num_batches_tracked`, is an I64 scalar.
                Dtype::I64 if shape.is_empty() => {
                    let value = from_le_bytes(data, i64::from_le_bytes)[0];
                    let value = u64::try_from(value).map_err(|_| {
                        CheckpointError::Format(format!("counter `{name}` is negative: {value}"))
                    })?;
                    dict.insert_counter(name, value);
                }
                other => {
                    let what = format!("dtype {other:?} and shape {shape:?}");
                    dict.unloadable.insert(name.to_string(), what);
                }
            }
        }
        Ok(dict)
    }

    /// Writes the safetensors encoding to `path` with [`write_atomically`]: a crash leaves the
    /// previous file or this one, whole.
    pub fn save(&self, path: impl AsRef<Path>) -> CheckpointResult<()> {
        Ok(write_atomically(path.as_ref(), &self.to_bytes()?)?)
    }

    /// Reads a safetensors file; errors about its contents name it.
    pub fn load(path: impl AsRef<Path>) -> CheckpointResult<StateDict> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(FileError::wrap("reading", path))?;
        StateDict::from_bytes(&bytes).map_err(|e| CheckpointError::in_file(path, e))
    }

    /// Fails unless the optimizer state's largest step counter equals the step recorded by
    /// [`StateDict::set_step`] (when there is one).
    pub(crate) fn check_steps(&self) -> CheckpointResult<()> {
        let Some(checkpoint) = self.step()? else {
            return Ok(());
        };
        let optimizer = self
            .counters
            .iter()
            .filter(|(name, _)| name.starts_with(OPTIMIZER_PREFIX) && name.ends_with(".step"))
            .map(|(_, &step)| step)
            .max()
            .unwrap_or(0);
        if optimizer != checkpoint {
            return Err(CheckpointError::StepMismatch {
                checkpoint,
                optimizer,
            });
        }
        Ok(())
    }
}

/// CRC-32 of the entries (name, dtype, shape and bytes, in name order) and of the metadata.
fn checksum<'a>(
    entries: impl Iterator<Item = (&'a str, Dtype, &'a [usize], &'a [u8])>,
    metadata: &HashMap<String, String>,
) -> u32 {
    let mut entries: Vec<_> = entries.collect();
    entries.sort_by_key(|e| e.0);
    let mut hasher = crc32fast::Hasher::new();
    for (name, dtype, shape, data) in entries {
        hasher.update(name.as_bytes());
        hasher.update(format!("{dtype:?}{shape:?}").as_bytes());
        hasher.update(data);
    }
    let mut metadata: Vec<_> = metadata.iter().collect();
    metadata.sort();
    for (key, value) in metadata {
        hasher.update(key.as_bytes());
        hasher.update(&[0]);
        hasher.update(value.as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize()
}

fn format_error(e: safetensors::SafeTensorError) -> CheckpointError {
    CheckpointError::Format(e.to_string())
}

/// Concatenated little-endian encodings of `values`.
fn le_bytes<T, const N: usize>(values: Vec<T>, encode: fn(T) -> [u8; N]) -> Vec<u8> {
    values.into_iter().flat_map(encode).collect()
}

/// The values of a little-endian byte buffer (safetensors data is little-endian).
fn from_le_bytes<T, const N: usize>(bytes: &[u8], decode: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| decode(c.try_into().expect("chunks of N bytes")))
        .collect()
}

/// One tensor's bytes for [`safetensors::serialize`].
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Entry {
    fn new(dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) -> Entry {
        Entry { dtype, shape, data }
    }
}

impl safetensors::View for Entry {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

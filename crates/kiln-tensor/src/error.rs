//! The error type of every fallible tensor operation.

use crate::{DType, Device, Shape};

/// What went wrong in a tensor operation. Messages name the operation and the shapes involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two shapes that had to agree did not.
    #[error("{op}: shape mismatch between {lhs} and {rhs}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// The first operand's shape.
        lhs: Shape,
        /// The second operand's shape.
        rhs: Shape,
    },
    /// An argument was invalid for the given shape (bad axis, wrong element count, ...).
    #[error("{op}: {msg}")]
    Invalid {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// Operands live on different devices.
    #[error("{op}: operands on different devices ({lhs} and {rhs}); move one with to_device")]
    DeviceMismatch {
        /// The operation.
        op: &'static str,
        /// The first operand's device.
        lhs: Device,
        /// The second operand's device.
        rhs: Device,
    },
    /// Operands have different element types.
    #[error("{op}: operands of different dtypes ({lhs:?} and {rhs:?})")]
    DTypeMismatch {
        /// The operation.
        op: &'static str,
        /// The first operand's element type.
        lhs: DType,
        /// The second operand's element type.
        rhs: DType,
    },
    /// `backward` was called on a tensor with more than one element.
    #[error("backward: the output must have one element, it has shape {shape}")]
    BackwardNotScalar {
        /// The output's shape.
        shape: Shape,
    },
    /// `backward` was called on a tensor that no tensor requiring gradients flows into (a
    /// result computed under `no_grad`, say).
    #[error("backward: the output does not depend on any tensor that requires grad")]
    BackwardNoGraph,
    /// `backward` reached a part of the graph that an earlier backward pass already freed.
    #[error("backward: the graph was already freed by an earlier backward pass")]
    GraphFreed,
    /// A tensor that an operation of the graph read or produced was written in place (by
    /// `assign` or an optimizer update) after that operation ran, so its gradient would be
    /// computed from other values than the forward pass used.
    #[error(
        "backward: a tensor of shape {shape} that the graph used was modified in place (assign, \
         an optimizer update) after the forward pass; call backward before updating it"
    )]
    ModifiedInPlace {
        /// The shape it had in the graph.
        shape: Shape,
    },
    /// The device cannot hold this element type: the GPU runs `f32` only (`f64` is for CPU
    /// gradient checks).
    #[error("{op}: {dtype:?} tensors cannot go to the {device}, which runs F32 only (F64 is for CPU gradient checks)")]
    UnsupportedDType {
        /// The operation.
        op: &'static str,
        /// The element type refused.
        dtype: DType,
        /// The device that refused it.
        device: Device,
    },
    /// The GPU device could not be used (for a reason other than those below).
    #[error("gpu: {0}")]
    Gpu(String),
    /// No GPU adapter with compute shaders was found: the GPU device is unavailable on this
    /// machine (the CPU device still works).
    #[error(
        "gpu: no GPU adapter with compute shaders found (searched {searched}); a GPU driver \
         provides one, or Mesa's lavapipe (mesa-vulkan-drivers) a software one"
    )]
    NoGpuAdapter {
        /// The graphics backends searched.
        searched: String,
    },
    /// The GPU has no memory for `what`, even after kiln's buffer pool let go of its free
    /// buffers. Freeing tensors (or a smaller batch) may let a retry succeed.
    #[error("gpu: out of memory on {adapter} for {what}: {detail}")]
    GpuOutOfMemory {
        /// The adapter's name.
        adapter: String,
        /// What was being allocated ("a tensor of 4096 bytes", ...).
        what: String,
        /// The driver's report.
        detail: String,
    },
    /// The GPU device was lost (a driver reset or crash, the device removed or destroyed): no
    /// further GPU work can run in this process, and GPU tensors' contents are gone.
    #[error("gpu: the device {adapter} was lost: {reason}")]
    GpuDeviceLost {
        /// The adapter's name.
        adapter: String,
        /// Why, as the driver reports it.
        reason: String,
    },
    /// Host memory for a result of `len` elements could not be allocated.
    #[error("{op}: cannot allocate {len} elements of {element_bytes} bytes ({}) in host memory", bytes_text(*.len, *.element_bytes))]
    OutOfMemory {
        /// The operation.
        op: &'static str,
        /// Elements asked for.
        len: usize,
        /// Size of one element.
        element_bytes: usize,
    },
}

/// `len * element_bytes` as a byte count, or a note that it does not fit in `usize`.
fn bytes_text(len: usize, element_bytes: usize) -> String {
    match len.checked_mul(element_bytes) {
        Some(bytes) => format!("{bytes} bytes"),
        None => "more bytes than an address space holds".to_string(),
    }
}

/// `std::result::Result` with kiln's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Invalid`] for `op` with the given message.
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Invalid {
            op,
            msg: msg.into(),
        }
    }
}

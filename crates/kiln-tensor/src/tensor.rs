//! The `Tensor` type: shared storage, a shape, and the autograd record.

use crate::autograd::{self, Node, Var};
use crate::cpu::{pool, CpuKernels};
use crate::gpu::{GpuContext, GpuKernels};
use crate::kernels::Kernels;
use crate::storage::SharedStorage;
use crate::{DType, Device, Error, Result, Shape, Storage};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};

// ANCHOR: tensor
/// An n-dimensional array in contiguous row-major order, with reverse-mode autograd.
///
/// Cloning is cheap: clones share storage and gradient. Reshaping shares storage too (except
/// the reshape of a lazy transpose, [`Tensor::t`], which copies); every other operation
/// allocates its result. Operations return [`Result`]: invalid shapes, devices
/// or dtypes are reported before any kernel runs.
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) storage: Arc<SharedStorage>,
    pub(crate) shape: Shape,
    pub(crate) device: Device,
    /// A lazy transpose ([`Tensor::t`]): the storage holds the tensor with its last two axes
    /// swapped. Matrix products read it through their transpose flags; every other reader gets
    /// a materialized copy from [`Tensor::try_storage`].
    pub(crate) transposed: bool,
    /// The tensor's place in the autograd graph. The graph links these, not tensors, so an
    /// op result whose values no backward rule needs is freed as soon as its handles drop.
    pub(crate) var: Arc<Var>,
}
// ANCHOR_END: tensor

// ANCHOR: kernels_for
/// The kernel implementation of a device.
pub(crate) fn kernels_for(device: Device) -> Result<&'static dyn Kernels> {
    match device {
        Device::Cpu => Ok(&CpuKernels),
        Device::Gpu => GpuContext::get().map(|_| &GpuKernels as &dyn Kernels),
    }
}
// ANCHOR_END: kernels_for

impl Tensor {
    /// A tensor over `storage` with no autograd record.
    pub(crate) fn from_storage(storage: Storage, shape: Shape) -> Tensor {
        Tensor::with_storage(SharedStorage::new(storage), shape, false, None)
    }

    pub(crate) fn with_storage(
        storage: Arc<SharedStorage>,
        shape: Shape,
        requires_grad: bool,
        node: Option<Node>,
    ) -> Tensor {
        Tensor::with_layout(storage, shape, false, requires_grad, node)
    }

    /// As [`Tensor::with_storage`], with the storage laid out transposed when `transposed`.
    pub(crate) fn with_layout(
        storage: Arc<SharedStorage>,
        shape: Shape,
        transposed: bool,
        requires_grad: bool,
        node: Option<Node>,
    ) -> Tensor {
        let device = storage.read().expect("storage lock").device();
        Tensor(Arc::new(Inner {
            storage,
            shape,
            device,
            transposed,
            var: Arc::new(Var::new(requires_grad, node)),
        }))
    }

    /// A CPU tensor holding `data` with the given shape.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        let shape = check_len("from_vec", data.len(), shape)?;
        Ok(Tensor::from_storage(Storage::F32(data), shape))
    }

    /// A CPU tensor copied from `data` with the given shape.
    pub fn from_slice(data: &[f32], shape: &[usize]) -> Result<Tensor> {
        let shape = check_len("from_slice", data.len(), shape)?;
        let mut copy = pool::with_capacity(data.len()).map_err(|e| e.during("from_slice"))?;
        copy.extend_from_slice(data);
        Ok(Tensor::from_storage(Storage::F32(copy), shape))
    }

    /// A CPU `f64` tensor, for gradient checks of the reference kernels.
    pub fn from_vec_f64(data: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        let shape = check_len("from_vec_f64", data.len(), shape)?;
        Ok(Tensor::from_storage(Storage::F64(data), shape))
    }

    /// A scalar (shape `[]`) on the CPU.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::from_storage(Storage::F32(vec![value]), Shape::new(&[]))
    }

    /// A tensor of `value` everywhere, of the given dtype, on `device`; an error naming the
    /// shape or the size when it does not fit in memory.
    pub fn full_on(shape: &[usize], value: f64, dtype: DType, device: Device) -> Result<Tensor> {
        let shape = Shape::checked("full", shape)?;
        let storage = kernels_for(device)?.fill(dtype, shape.numel(), value)?;
        Ok(Tensor::from_storage(storage, shape))
    }

    /// A CPU `f32` tensor of `value` everywhere.
    ///
    /// # Panics
    ///
    /// When the shape does not fit in memory, naming it and the size; [`Tensor::full_on`]
    /// returns that as an error instead.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        host_tensor("full", shape, |_| value)
    }

    /// A CPU tensor of zeros.
    ///
    /// # Panics
    ///
    /// As [`Tensor::full`].
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A CPU tensor of ones.
    ///
    /// # Panics
    ///
    /// As [`Tensor::full`].
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// A tensor of zeros with this tensor's shape, dtype and device.
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::full_on(self.dims(), 0.0, self.dtype(), self.device())
    }

    /// `[0, 1, ..., n-1]` as a CPU `f32` vector.
    ///
    /// # Panics
    ///
    /// As [`Tensor::full`].
    pub fn arange(n: usize) -> Tensor {
        host_tensor("arange", &[n], |i| i as f32)
    }

    /// Uniform values in `[low, high)` from the seeded [`Rng`](crate::random::Rng) (same seed,
    /// same values, on every platform and version of kiln's dependencies).
    ///
    /// # Panics
    ///
    /// As [`Tensor::full`].
    pub fn rand_uniform(shape: &[usize], low: f32, high: f32, seed: u64) -> Tensor {
        let mut rng = crate::random::Rng::new(seed);
        host_tensor("rand_uniform", shape, |_| rng.range(low, high))
    }

    /// Normal values with the given mean and standard deviation (its absolute value) from the
    /// seeded [`Rng`](crate::random::Rng); a NaN or infinite deviation gives NaN or infinite
    /// values.
    ///
    /// # Panics
    ///
    /// As [`Tensor::full`].
    pub fn rand_normal(shape: &[usize], mean: f32, std: f32, seed: u64) -> Tensor {
        let mut rng = crate::random::Rng::new(seed);
        host_tensor("rand_normal", shape, |_| {
            mean + std.abs() * rng.normal() as f32
        })
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        self.0.shape.dims()
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.shape.rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.shape.numel()
    }

    /// The device holding the storage.
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.raw_storage().dtype()
    }

    /// The kernels of this tensor's device.
    pub(crate) fn kernels(&self) -> Result<&'static dyn Kernels> {
        kernels_for(self.device())
    }

    /// Whether this is a lazy transpose (see [`Tensor::t`]).
    pub(crate) fn is_transposed(&self) -> bool {
        self.0.transposed
    }

    /// Read access to the elements in this tensor's own row-major layout: the shared storage,
    /// or for a lazy transpose a materialized copy (one transpose kernel), which fails when the
    /// device cannot make it (out of memory, device lost).
    pub(crate) fn try_storage(&self) -> Result<StorageRef<'_>> {
        if !self.0.transposed {
            return Ok(StorageRef::Shared(self.raw_storage()));
        }
        // The storage is `[..., n, m]` for this tensor's `[..., m, n]`.
        let stored = self.shape().transposed();
        let r = stored.rank();
        let mut perm: Vec<usize> = (0..r).collect();
        perm.swap(r - 1, r - 2);
        let copy = self
            .kernels()?
            .permute(&self.raw_storage(), &stored, &perm)?;
        Ok(StorageRef::Owned(copy))
    }

    /// Read access to the storage as laid out (transposed for a lazy transpose).
    pub(crate) fn raw_storage(&self) -> RwLockReadGuard<'_, Storage> {
        self.0.storage.read().expect("storage lock poisoned")
    }

    /// The shared storage cell itself (clones and reshapes of this tensor share it).
    pub(crate) fn storage_handle(&self) -> Arc<SharedStorage> {
        self.0.storage.clone()
    }

    /// The storage cell holding this tensor in its own layout: the shared one, or for a lazy
    /// transpose a new cell with a materialized copy.
    pub(crate) fn layout_storage(&self) -> Result<Arc<SharedStorage>> {
        match self.try_storage()? {
            StorageRef::Shared(_) => Ok(self.0.storage.clone()),
            StorageRef::Owned(copy) => Ok(SharedStorage::new(copy)),
        }
    }

    /// Write access to the storage, for in-place updates. Bypasses autograd, but counts the
    /// write in the storage's version, which backward checks.
    pub(crate) fn storage_mut(&self) -> RwLockWriteGuard<'_, Storage> {
        self.0.storage.bump_version();
        self.0.storage.write().expect("storage lock poisoned")
    }

    /// Whether two tensors share storage (clones, reshapes, views).
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// The elements as `f32`, copied to the host.
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        Ok(self.to_vec_f64()?.into_iter().map(|v| v as f32).collect())
    }

    /// The elements as `f64`, copied to the host.
    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        self.kernels()?.read_f64(&*self.try_storage()?)
    }

    /// The value of a one-element tensor.
    pub fn item(&self) -> Result<f32> {
        self.check_one_element("item")?;
        Ok(self.to_vec()?[0])
    }

    /// A copy on `device` (the same tensor if it is already there). The copy is a new leaf.
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if device == self.device() {
            return Ok(self.clone());
        }
        let storage = kernels_for(device)?.upload(&*self.try_storage()?)?;
        Ok(Tensor::from_storage(storage, self.shape().clone()))
    }

    /// A deep copy with its own storage, detached from the graph.
    pub fn copy(&self) -> Result<Tensor> {
        let storage = self.kernels()?.duplicate(&*self.try_storage()?)?;
        Ok(Tensor::from_storage(storage, self.shape().clone()))
    }

    /// The same storage, cut from the graph: no gradient flows through the result.
    pub fn detach(&self) -> Tensor {
        let (shape, transposed) = (self.shape().clone(), self.0.transposed);
        Tensor::with_layout(self.0.storage.clone(), shape, transposed, false, None)
    }

    /// This tensor as a leaf that accumulates gradients (shares storage with `self`).
    pub fn requires_grad(self) -> Tensor {
        let (shape, transposed) = (self.shape().clone(), self.0.transposed);
        Tensor::with_layout(self.0.storage.clone(), shape, transposed, true, None)
    }

    /// Whether gradients flow to or through this tensor.
    pub fn tracks_grad(&self) -> bool {
        self.0.var.requires_grad
    }

    /// The gradient accumulated by [`Tensor::backward`] calls, for a leaf that requires grad.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.var.grad.lock().expect("grad lock").clone()
    }

    /// Forgets the accumulated gradient.
    pub fn zero_grad(&self) {
        *self.0.var.grad.lock().expect("grad lock") = None;
    }

    /// Back-propagates from this scalar: accumulates `d self / d leaf` into every leaf that
    /// requires grad. Frees the graph as it goes, so it runs once per graph.
    pub fn backward(&self) -> Result<()> {
        autograd::backward(self)
    }

    /// Whether two handles refer to the same tensor.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A tensor's elements for reading: the shared storage under its read lock, or a copy that
/// materializes a lazy transpose.
pub(crate) enum StorageRef<'a> {
    /// The storage itself.
    Shared(RwLockReadGuard<'a, Storage>),
    /// A materialized copy.
    Owned(Storage),
}

impl Deref for StorageRef<'_> {
    type Target = Storage;

    fn deref(&self) -> &Storage {
        match self {
            StorageRef::Shared(guard) => guard,
            StorageRef::Owned(storage) => storage,
        }
    }
}

/// The shape `dims`, checked to fit in memory and to hold exactly `len` values.
fn check_len(op: &'static str, len: usize, dims: &[usize]) -> Result<Shape> {
    let shape = Shape::checked(op, dims)?;
    if len != shape.numel() {
        return Err(Error::invalid(
            op,
            format!(
                "{len} values do not fill shape {shape} ({} elements)",
                shape.numel()
            ),
        ));
    }
    Ok(shape)
}

/// A CPU `f32` tensor of `shape` whose element `i` is `value(i)`, for the constructors that
/// return a tensor rather than a result: a shape that does not fit in memory, or an allocation
/// the allocator refuses, panics with the error naming `op` and the size.
fn host_tensor(op: &'static str, dims: &[usize], value: impl FnMut(usize) -> f32) -> Tensor {
    let built = Shape::checked(op, dims).and_then(|shape| {
        let mut data = pool::with_capacity(shape.numel()).map_err(|e| e.during(op))?;
        data.extend((0..shape.numel()).map(value));
        Ok(Tensor::from_storage(Storage::F32(data), shape))
    });
    built.unwrap_or_else(|e| panic!("{e}"))
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor(shape={}, device={}, dtype={:?}",
            self.shape(),
            self.device(),
            self.dtype()
        )?;
        if self.numel() <= 16 {
            if let Ok(v) = self.to_vec_f64() {
                write!(f, ", data={v:?}")?;
            }
        }
        write!(f, ")")
    }
}

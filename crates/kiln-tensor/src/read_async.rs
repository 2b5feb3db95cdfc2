//! Reading tensors back without blocking: [`Tensor::to_vec_async`] and [`Tensor::item_async`].
//!
//! A GPU read-back starts when called (everything recorded is submitted and a copy of the
//! tensor is queued) and completes when the device has run it. In the browser that is the only
//! way to read a GPU tensor: a training loop can start reading step `k`'s loss, record step
//! `k + 1`, and receive the loss while the GPU runs. Natively the future is ready by the time it
//! is returned, and [`Tensor::to_vec`] waits for the same read-back.

use crate::storage::Storage;
use crate::{Error, Result, Tensor};
use std::future::Future;
use std::pin::Pin;

/// A read-back in flight: host elements already there, or a GPU copy on its way.
enum Reading {
    Host(Vec<f32>),
    Gpu(Pin<Box<dyn Future<Output = Result<Vec<f32>>>>>),
}

impl Tensor {
    /// The elements as `f32`, copied to the host once the device has computed them. The
    /// read-back starts now; the future does not borrow the tensor.
    pub fn to_vec_async(&self) -> impl Future<Output = Result<Vec<f32>>> + 'static {
        let reading = self.start_reading();
        async move {
            match reading? {
                Reading::Host(values) => Ok(values),
                Reading::Gpu(copy) => copy.await,
            }
        }
    }

    /// The value of a one-element tensor, once the device has computed it (see
    /// [`Tensor::to_vec_async`]).
    pub fn item_async(&self) -> impl Future<Output = Result<f32>> + 'static {
        let checked = self.check_one_element("item_async");
        let values = self.to_vec_async();
        async move {
            checked?;
            Ok(values.await?[0])
        }
    }

    fn start_reading(&self) -> Result<Reading> {
        match &*self.try_storage()? {
            Storage::Gpu(buffer) => Ok(Reading::Gpu(Box::pin(buffer.read_async()?))),
            Storage::F32(_) | Storage::F64(_) => self.to_vec().map(Reading::Host),
        }
    }

    /// An error naming `op` unless the tensor has exactly one element.
    pub(crate) fn check_one_element(&self, op: &'static str) -> Result<()> {
        if self.numel() == 1 {
            return Ok(());
        }
        Err(Error::invalid(
            op,
            format!("expected one element, tensor has shape {}", self.shape()),
        ))
    }
}

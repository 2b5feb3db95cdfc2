//! Reading a buffer back to the host. The core is asynchronous: [`map_and_read`] asks wgpu to
//! map a buffer and returns a future that the mapping's callback completes. Natively it then
//! waits for the device, so the future is ready once returned and [`block_on`] (the blocking
//! API) costs no more than a blocking map did. In the browser the callback runs from the page's
//! event loop, so the future completes while the page goes on: nothing may block there, and
//! [`block_on`] is an error. A leaf of the runtime: it knows wgpu and the error type, nothing of
//! the context.

use super::lock;
use crate::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

// ANCHOR: map_and_read
/// Starts mapping `buffer` (a `MAP_READ` buffer with a copy recorded into it and submitted) and
/// returns the future of its bytes.
pub(super) fn map_and_read(device: &wgpu::Device, buffer: wgpu::Buffer) -> Mapped {
    let state = Arc::new(Mutex::new(State::default()));
    let done = state.clone();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let mut state = lock(&done);
        state.result = Some(r);
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    });
    #[cfg(not(target_arch = "wasm32"))]
    if let Err(e) = device.poll(wgpu::PollType::wait_indefinitely()) {
        return Mapped {
            state,
            buffer,
            failed: Some(Error::Gpu(format!("waiting for the device: {e}"))),
        };
    }
    // WebGPU has no waiting: the browser maps the buffer when the device is done.
    #[cfg(target_arch = "wasm32")]
    let _ = device;
    Mapped {
        state,
        buffer,
        failed: None,
    }
}
// ANCHOR_END: map_and_read

/// The mapping's outcome, set by wgpu's callback, and who to wake when it is.
#[derive(Default)]
struct State {
    result: Option<std::result::Result<(), wgpu::BufferAsyncError>>,
    waker: Option<Waker>,
}

/// The bytes of a buffer being mapped ([`map_and_read`]).
pub(super) struct Mapped {
    state: Arc<Mutex<State>>,
    buffer: wgpu::Buffer,
    /// Why the mapping cannot complete (natively, waiting for the device failed).
    failed: Option<Error>,
}

impl Future for Mapped {
    type Output = Result<Vec<u8>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<u8>>> {
        if let Some(e) = self.failed.take() {
            return Poll::Ready(Err(e));
        }
        let mut state = lock(&self.state);
        let Some(result) = state.result.take() else {
            state.waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        drop(state);
        Poll::Ready(
            result
                .map_err(|e| Error::Gpu(format!("mapping the read-back buffer: {e}")))
                .and_then(|()| read_mapped(&self.buffer)),
        )
    }
}

/// The bytes of a mapped buffer, which is unmapped after.
fn read_mapped(buffer: &wgpu::Buffer) -> Result<Vec<u8>> {
    let bytes = buffer
        .get_mapped_range(..)
        .map_err(|e| Error::Gpu(format!("reading the read-back buffer: {e}")))?
        .to_vec();
    buffer.unmap();
    Ok(bytes)
}

/// Waits for a read-back natively. In the browser, where the page's only thread cannot wait
/// for the GPU, the read-back's result if it is already there, else an error that points to the
/// asynchronous read-backs.
pub(crate) fn block_on<T>(read: impl Future<Output = Result<T>>) -> Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    return pollster::block_on(read);
    #[cfg(target_arch = "wasm32")]
    match std::pin::pin!(read).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(Error::Gpu(
            "a blocking GPU read-back cannot wait in the browser: await Tensor::to_vec_async \
             or Tensor::item_async instead"
                .into(),
        )),
    }
}

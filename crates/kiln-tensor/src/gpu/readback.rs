//! Reading a buffer back to the host: map it, wait for the device, copy the bytes out. A leaf
//! of the runtime: it knows wgpu and the error type, nothing of the context.

use crate::{Error, Result};
use std::sync::mpsc;

/// Maps `buffer` (a `MAP_READ` buffer with a copy recorded into it and submitted), waits for
/// the device, and returns its bytes.
pub(super) fn map_and_read(device: &wgpu::Device, buffer: &wgpu::Buffer) -> Result<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        // The receiver waits below; a send can only fail once it is gone.
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
    rx.recv()
        .map_err(|_| Error::Gpu("read-back was never mapped".into()))?
        .map_err(|e| Error::Gpu(format!("mapping the read-back buffer: {e}")))?;
    let bytes = buffer
        .get_mapped_range(..)
        .map_err(|e| Error::Gpu(format!("reading the read-back buffer: {e}")))?
        .to_vec();
    buffer.unmap();
    Ok(bytes)
}

//! Catching the validation or out-of-memory error of one wgpu call.

/// Runs `make` inside an error scope of `filter`: what it made, or the error it raised.
/// Natively the scope's result is waited for. In the browser it is a promise the page's only
/// thread cannot wait for, so no scope is opened: the error reaches the device's uncaptured-error
/// handler and is reported at the next read-back.
pub(super) fn catching<T>(
    device: &wgpu::Device,
    filter: wgpu::ErrorFilter,
    make: impl FnOnce() -> T,
) -> Result<T, wgpu::Error> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let scope = device.push_error_scope(filter);
        let made = make();
        match pollster::block_on(scope.pop()) {
            Some(e) => Err(e),
            None => Ok(made),
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (device, filter);
        Ok(make())
    }
}

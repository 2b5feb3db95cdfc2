// Exercise (chapter 4): y = max(x, 0) elementwise, one invocation per element.
//
// The interface that your `run_compute` binds and the tests check:
//   @group(0) @binding(0)  x: var<storage, read> array<f32>
//   @group(0) @binding(1)  y: var<storage, read_write> array<f32>, as long as x
//   @group(0) @binding(2)  params: var<uniform>, a struct holding `len: u32` (the host pads it)
//   entry point `main`, @workgroup_size(256)
//
// Hints:
// - The grid may be folded over x and y (`workgroup_grid`): the element of an invocation is
//   gid.x + gid.y * nwg.x * 256, with gid = @builtin(global_invocation_id) and
//   nwg = @builtin(num_workgroups). The last workgroups run past the end: check `i < len`.
// - NaN stays NaN (kiln's rule). WGSL's max() may return either operand when one is NaN, and a
//   driver may fold `v != v` away: recognize NaN from its bits,
//   (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u.

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // `todo()` is not WGSL: like Rust's `todo!()`, it keeps this stub from compiling until you
    // replace it with the kernel (and declare the bindings above).
    todo();
}

// Index helpers for dispatches folded over x and y (`GpuContext::grid` and `grid_for` on the
// host keep each dimension under the per-dimension workgroup limit). `WG`, the workgroup size,
// comes from the generated header. A file that uses these names `grid.wgsl` in its
// `// requires:` header and is compiled after it.

// The element of invocation `gid` in a one-invocation-per-element dispatch of `WG`-wide
// workgroups (`grid_for`).
fn linear_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// The linear index of workgroup `wid` in a dispatch of a workgroup count (`grid`).
fn workgroup_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

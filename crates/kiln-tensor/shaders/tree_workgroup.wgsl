// The workgroup-memory tree of batch_norm.wgsl's reductions (the default), compiled before it:
// `tree` merges the WG values of `slots` (declared there, with `merge`) into slot 0 in
// log2(WG) halving rounds, a barrier after each.

// The builtins a reduction entry point takes.
struct Invocation {
    @builtin(local_invocation_index) index: u32,
}

// ANCHOR: tree
// Merges the workgroup's slots into slot 0 (Chan merges when `statistics`, else sums); every
// invocation calls it, having written its own slot.
fn tree(inv: Invocation, statistics: bool) {
    let l = inv.index;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if l < s {
            slots[l] = merge(slots[l], slots[l + s], statistics);
        }
        workgroupBarrier();
    }
}
// ANCHOR_END: tree

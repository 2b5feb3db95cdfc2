// The subgroup tree of batch_norm.wgsl's reductions (opt-in: `with_subgroup_reductions`),
// compiled before it in place of tree_workgroup.wgsl: `tree` merges the WG values of `slots`
// (declared there, with `merge`) into slot 0, first within each subgroup by shuffles, which
// need no barrier, then the subgroups' results within the first subgroup. Any subgroup size
// that divides WG works (8 on lavapipe, 32 on NVIDIA, 32 or 64 on AMD).

// The builtins a reduction entry point takes.
struct Invocation {
    @builtin(local_invocation_index) index: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
    @builtin(subgroup_id) subgroup: u32,
    @builtin(num_subgroups) subgroups: u32,
}

// ANCHOR: tree
// `value` of every lane of the subgroup merged into lane 0's: at distance d = size/2, .., 1,
// lane i merges lane i + d's value (lanes with no such partner keep theirs).
fn subgroup_merge(inv: Invocation, value: vec4<f32>, statistics: bool) -> vec4<f32> {
    var acc = value;
    for (var d = inv.size / 2u; d > 0u; d = d / 2u) {
        let other = subgroupShuffleDown(acc, d);
        if inv.lane + d < inv.size {
            acc = merge(acc, other, statistics);
        }
    }
    return acc;
}

// Merges the workgroup's slots into slot 0 (Chan merges when `statistics`, else sums); every
// invocation calls it, having written its own slot.
fn tree(inv: Invocation, statistics: bool) {
    let own = subgroup_merge(inv, slots[inv.index], statistics);
    // Every invocation has read its own slot before lane 0s overwrite the first ones.
    workgroupBarrier();
    if inv.lane == 0u {
        slots[inv.subgroup] = own;
    }
    workgroupBarrier();
    if inv.subgroup == 0u {
        var acc = vec4(0.0);
        for (var s = inv.lane; s < inv.subgroups; s += inv.size) {
            acc = merge(acc, slots[s], statistics);
        }
        acc = subgroup_merge(inv, acc, statistics);
        if inv.lane == 0u {
            slots[0] = acc;
        }
    }
    workgroupBarrier();
}
// ANCHOR_END: tree

//! Bind groups kept for reuse: a training step binds the same pooled buffers to the same
//! pipelines in the same order every step, so after the first step its dispatches find their
//! bind groups here instead of creating them (creating one costs more host time than recording
//! the dispatch itself). The key includes the dispatch's slot in the batch's parameter buffer,
//! so the reuse holds when every step starts a batch, as a loop that reads its loss back each
//! step does; steps that share a batch land on other slots and create new groups.

use super::lock;
use super::pipeline::Pipeline;
use super::GpuBuffer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Cached bind groups beyond which the cache starts over.
const CAPACITY: usize = 4096;

/// What one bind group binds: a pipeline's group 0, storage buffers in binding order, and the
/// parameter slot (offset and size in the parameter ring) when the kernel takes parameters.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    pipeline: wgpu::ComputePipeline,
    buffers: Vec<wgpu::Buffer>,
    params: Option<(u64, u64)>,
}

/// Bind groups by what they bind. A cached group keeps its buffers alive, so the groups that
/// bind a buffer are dropped when it leaves the pool for good ([`BindGroupCache::forget`]).
#[derive(Default)]
pub(super) struct BindGroupCache {
    groups: Mutex<HashMap<Key, wgpu::BindGroup>>,
    created: AtomicU64,
}

impl BindGroupCache {
    // ANCHOR: get
    /// The bind group of `pipeline` binding `buffers` at `0..n` and, if given, the parameter
    /// slot `(offset, size)` of `ring` at binding `n`: cached, or created and cached.
    pub(super) fn get(
        &self,
        device: &wgpu::Device,
        pipeline: &Pipeline,
        buffers: &[&GpuBuffer],
        ring: &wgpu::Buffer,
        params: Option<(u64, u64)>,
    ) -> wgpu::BindGroup {
        let key = Key {
            pipeline: pipeline.pipeline.clone(),
            buffers: buffers.iter().map(|b| b.raw().clone()).collect(),
            params,
        };
        let mut groups = lock(&self.groups);
        if let Some(group) = groups.get(&key) {
            return group.clone();
        }
        let mut entries: Vec<_> = key
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        if let Some((offset, size)) = params {
            entries.push(wgpu::BindGroupEntry {
                binding: buffers.len() as u32,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: ring,
                    offset,
                    size: wgpu::BufferSize::new(size),
                }),
            });
        }
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        self.created.fetch_add(1, Ordering::Relaxed);
        if groups.len() >= CAPACITY {
            groups.clear();
        }
        groups.insert(key, group.clone());
        group
    }
    // ANCHOR_END: get

    /// Drops the cached groups that bind any of `buffers`, and with them their hold on those.
    pub(super) fn forget(&self, buffers: &[wgpu::Buffer]) {
        lock(&self.groups).retain(|key, _| !key.buffers.iter().any(|b| buffers.contains(b)));
    }

    /// Drops every cached group, and with them their hold on buffers.
    pub(super) fn clear(&self) {
        lock(&self.groups).clear();
    }

    /// Bind groups created so far.
    pub(super) fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::BindGroupCache;
    use crate::gpu::elementwise::FILL;
    use crate::gpu::pipeline::PipelineCache;
    use crate::gpu::GpuContext;
    use crate::test_util::gpu_or_skip;

    #[test]
    fn forgetting_a_buffer_drops_only_the_groups_that_bind_it() {
        let Some(_) = gpu_or_skip() else { return };
        let ctx = GpuContext::get().unwrap();
        let device = &ctx.device;
        let pipeline = PipelineCache::default().get(device, &FILL, "fill").unwrap();
        let ring = device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 512,
            usage: wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: false,
        });
        let (a, b) = (ctx.alloc(64).unwrap(), ctx.alloc(64).unwrap());
        let cache = BindGroupCache::default();
        let bind = |buffer| cache.get(device, &pipeline, &[buffer], &ring, Some((256, 16)));
        bind(&a);
        bind(&b);
        bind(&a);
        assert_eq!(cache.created(), 2, "the second binding of `a` is cached");
        cache.forget(&[a.raw().clone()]);
        bind(&b);
        assert_eq!(cache.created(), 2, "the group of `b` survives");
        bind(&a);
        assert_eq!(cache.created(), 3, "the group of `a` is created again");
    }
}

//! Bind groups kept for reuse: a training step binds the same pooled buffers to the same
//! pipelines in the same order every step, so after the first step its dispatches find their
//! bind groups here instead of creating them (creating one costs more host time than recording
//! the dispatch itself).

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

/// Bind groups by what they bind. A cached group keeps its buffers alive, so the cache is
/// cleared whenever a buffer leaves the pool for good ([`BindGroupCache::clear`]).
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
        let mut groups = self.groups.lock().expect("bind group cache");
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

    /// Drops every cached group, and with them their hold on buffers.
    pub(super) fn clear(&self) {
        self.groups.lock().expect("bind group cache").clear();
    }

    /// Bind groups created so far.
    pub(super) fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
}

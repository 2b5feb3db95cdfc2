// requires: grid.wgsl
// Fused optimizer updates, in place, one parameter per invocation; the formulas are those of
// kiln-tensor's cpu/optim.rs. As there (and in PyTorch), Adam's L2 term and SGD's decay are
// added only for a nonzero decay, so a NaN weight reaches the state only through a real one.

struct AdamParams {
    len: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    // 1: AdamW (decay applied to the weights), 0: Adam (L2 added to the gradient).
    decoupled: u32,
    // The bias corrections folded in: lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t).
    step_size: f32,
    inv_root_c2: f32,
}

struct SgdParams {
    len: u32,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    nesterov: u32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;

// adam: param, grad, m, v
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> adam_params: AdamParams;

// sgd_momentum: param, grad, velocity; sgd: param, grad
@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(3) var<uniform> momentum_params: SgdParams;
@group(0) @binding(2) var<uniform> plain_params: SgdParams;

// SGD's gradient with its decay term, when the decay is nonzero.
fn decayed(g: f32, p: f32, weight_decay: f32) -> f32 {
    if weight_decay == 0.0 {
        return g;
    }
    return g + weight_decay * p;
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let hp = adam_params;
    let i = linear_index(gid, nwg);
    if i >= hp.len {
        return;
    }
    var p = param[i];
    var g = grad[i];
    if hp.decoupled == 1u {
        p = p - hp.lr * hp.weight_decay * p;
    } else if hp.weight_decay != 0.0 {
        g = g + hp.weight_decay * p;
    }
    let m_new = hp.beta1 * m[i] + (1.0 - hp.beta1) * g;
    let v_new = hp.beta2 * v[i] + (1.0 - hp.beta2) * g * g;
    m[i] = m_new;
    v[i] = v_new;
    param[i] = p - hp.step_size * m_new / (sqrt(v_new) * hp.inv_root_c2 + hp.eps);
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let hp = momentum_params;
    let i = linear_index(gid, nwg);
    if i >= hp.len {
        return;
    }
    let g = decayed(grad[i], param[i], hp.weight_decay);
    let vel = hp.momentum * velocity[i] + g;
    velocity[i] = vel;
    let direction = select(vel, g + hp.momentum * vel, hp.nesterov == 1u);
    param[i] = param[i] - hp.lr * direction;
}

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let hp = plain_params;
    let i = linear_index(gid, nwg);
    if i < hp.len {
        param[i] = param[i] - hp.lr * decayed(grad[i], param[i], hp.weight_decay);
    }
}

"""Writes torch_optim.safetensors: four steps of PyTorch's SGD and AdamW from one start and four
gradients, for tests/torch_optim.rs. Run from this folder: python3 torch_optim.py"""
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
start = torch.randn(7)
grads = torch.randn(4, 7)
configs = {
    "sgd_plain": lambda p: torch.optim.SGD([p], lr=0.1),
    "sgd_momentum_l2": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov_l2": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True,
                                                weight_decay=0.01),
    "adam_l2": lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1),
}
out = {"start": start, "grads": grads}
for name, make in configs.items():
    p = start.clone().requires_grad_(True)
    opt = make(p)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    out[name] = p.detach().clone()
save_file(out, "torch_optim.safetensors")

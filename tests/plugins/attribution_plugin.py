"""An attribution method written outside the package, in one file: gradient × input.

On a linear model its answer is known by hand (the weight of each feature times the
feature), which the plugin tests check.
"""

import torch

import deepaudit as da


@da.register_attribution("gradient_x_input", label="Gradient × input", gradient=True)
def gradient_x_input(forward, inputs, targets, baselines, seed):
    """The gradient of the explained score times the input (Shrikumar et al., 2016)."""
    inputs = inputs.clone().requires_grad_(True)
    scores = forward(inputs)
    picked = scores.gather(1, targets[:, None]).sum() if targets is not None else scores.sum()
    (grad,) = torch.autograd.grad(picked, inputs)
    return grad * inputs

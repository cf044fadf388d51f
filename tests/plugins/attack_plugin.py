"""An attack and a natural perturbation written outside the package, in one file.

The attack is the fast gradient sign method written from scratch: one step of ε along the
sign of the cross-entropy's input gradient, so its accuracy under attack must equal the
family's own FGSM (captum's) at the same ε.
"""

import torch
from torch.nn import functional as F

import deepaudit as da


@da.register_attack("my_fgsm", label="FGSM (plugin)", norms=("Linf",))
def my_fgsm(forward, inputs, labels, epsilon, scale, norm, seed):
    inputs = inputs.clone().requires_grad_(True)
    loss = F.cross_entropy(forward(inputs), labels, reduction="sum")
    (grad,) = torch.autograd.grad(loss, inputs)
    return inputs + epsilon * scale * grad.sign()


@da.register_perturbation("dim", severities=(0.3, 0.6, 0.9), modalities=("image",))
def dim(inputs, severity, rng):
    """Darken the image towards black."""
    return inputs * (1 - severity)

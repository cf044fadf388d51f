"""deepaudit's PGD against the Adversarial Robustness Toolbox's, at the same ε, steps and
step size, both from the clean point: robust accuracy within one percentage point."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepaudit.audit.robustness import image_space, misclassification, pgd

art_pgd = pytest.importorskip("art.attacks.evasion")
art_estimators = pytest.importorskip("art.estimators.classification")


def _art_robust_accuracy(model, x, y, n_classes, eps, step, steps, norm) -> float:
    classifier = art_estimators.PyTorchClassifier(
        model=model,
        loss=nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=n_classes,
        clip_values=(0.0, 1.0),
        device_type="cpu",
    )
    attack = art_pgd.ProjectedGradientDescentPyTorch(
        classifier,
        norm=np.inf if norm == "Linf" else 2,
        eps=eps,
        eps_step=step,
        max_iter=steps,
        num_random_init=0,
        batch_size=len(x),
        verbose=False,
    )
    adversarial = attack.generate(x.numpy(), y=y.numpy())
    predicted = classifier.predict(adversarial).argmax(axis=1)
    return float(np.mean(predicted == y.numpy()))


def _ours(model, x, y, eps, step, steps, norm, mode="last") -> float:
    space = image_space(x, (0.0, 1.0), lambda inputs, rows: model(inputs))
    result = pgd(
        space,
        torch.arange(len(x)),
        misclassification(y),
        eps,
        norm=norm,
        steps=steps,
        relative_step_size=step / eps,
        mode=mode,
    )
    return float((~result.success).double().mean())


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.head = nn.Linear(6 * 4 * 4, 4)

    def forward(self, x):
        return self.head(nn.functional.max_pool2d(torch.relu(self.conv(x)), 2).flatten(1))


@pytest.mark.parametrize(("norm", "eps", "step"), [("Linf", 0.1, 0.02), ("L2", 0.6, 0.12)])
def test_pgd_matches_art_on_a_tiny_model(norm, eps, step):
    torch.manual_seed(0)
    model = Small().eval()
    x = torch.rand(200, 1, 8, 8)
    with torch.no_grad():
        y = model(x).argmax(1)  # clean accuracy 100%: the attack decides everything
    ours = _ours(model, x, y, eps, step, 10, norm)
    theirs = _art_robust_accuracy(model, x, y, 4, eps, step, 10, norm)
    assert 0.2 < theirs < 0.9  # ε chosen so that the comparison means something
    assert abs(ours - theirs) <= 0.01
    # Early stopping keeps the first adversarial point: never weaker than the last iterate.
    assert _ours(model, x, y, eps, step, 10, norm, mode="early_stop") <= ours


@pytest.mark.slow
def test_pgd_matches_art_on_the_reference_cnn():
    from deepaudit.models import load_model

    target = load_model("cnn", device="cpu")
    x = target.data[:300]
    y = torch.as_tensor(target.labels[:300])
    eps, step, steps = 8 / 255, 2 / 255, 10
    ours = _ours(target.model, x, y, eps, step, steps, "Linf")
    theirs = _art_robust_accuracy(target.model, x, y, 10, eps, step, steps, "Linf")
    assert abs(ours - theirs) <= 0.01

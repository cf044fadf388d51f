"""Saved runs whose every data-controlled string is hostile: markup, Markdown links and
images, bare addresses, mentions, a template and LaTeX, in attribute names, group values,
feature names, class names, the target's name, vocabulary tokens and the run's folder.

The browser tests open every dashboard page on them and check that each string is shown
as written and that none of them makes the page fetch, link, alert or typeset anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

import deepaudit as da
from tests.conftest import TinyLSTM
from tests.dashboard.conftest import FAST_OPTIONS
from tests.reports.helpers import PLANTED_FEATURE, PLANTED_GROUP

#: Where a planted request would go: nothing listens on port 9 (discard).
TRAP_HOST = "127.0.0.1:9"

IMG = f"<img src=http://{TRAP_HOST}/x.png onerror=alert(1)>"
MD_IMAGE = f"![t](http://{TRAP_HOST}/i.png)"
MD_LINK = f"[link](http://{TRAP_HOST}/)"
HTML_LINK = f'<a href="http://{TRAP_HOST}/">sex</a>'
BARE_URL = f"https://{TRAP_HOST}/auto"
WWW = "www.example.com"
MENTION = "@someone"
JAVASCRIPT = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
LATEX = "$x$"

#: Every hostile string, and the ones the earlier report tests planted.
HOSTILE = (
    IMG,
    MD_IMAGE,
    MD_LINK,
    HTML_LINK,
    BARE_URL,
    WWW,
    MENTION,
    JAVASCRIPT,
    TEMPLATE,
    LATEX,
    PLANTED_FEATURE,
    PLANTED_GROUP,
)
#: What an ``href`` or ``src`` made from a hostile string would contain.
HOSTILE_ADDRESSES = (TRAP_HOST, "example.com", "someone", "javascript:", "host.invalid")

#: The tabular run's folder (a file name holds no ``/``): its label on every page.
RUN_FOLDER = "<img src=x onerror=alert(1)> {{7*7}} $x$ @someone www.example.com"
TABULAR_NAME = f"{HTML_LINK} {LATEX}"
TEXT_FOLDER = "hostile-text"
GENERATOR_FOLDER = "hostile-generator {{7*7}} $x$"
AUTOENCODER_FOLDER = "hostile-autoencoder"


def tabular_target(rng: np.random.Generator) -> da.Target:
    """A classifier whose feature, class, attribute and group names are hostile."""
    torch.manual_seed(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return da.Target(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)),
        modality="tabular",
        data=X,
        labels=y,
        sensitive={
            MD_LINK: np.where(X[:, 1] > 0, WWW, MENTION),
            LATEX: np.where(X[:, 2] > 0, TEMPLATE, PLANTED_GROUP),
        },
        feature_names=[IMG, MD_IMAGE, BARE_URL, PLANTED_FEATURE],
        class_names=[HTML_LINK, JAVASCRIPT],
        name=TABULAR_NAME,
        device="cpu",
    )


def text_target(rng: np.random.Generator) -> da.Target:
    """A text classifier whose vocabulary and class names are hostile."""
    torch.manual_seed(0)
    tokens = rng.integers(1, 20, size=(25, 7))
    tokens[:, 5:] = 0
    hostile = [IMG, MD_IMAGE, MD_LINK, HTML_LINK, BARE_URL, WWW, MENTION, JAVASCRIPT]
    vocab = ["<pad>", "<unk>", *hostile, TEMPLATE, LATEX, PLANTED_FEATURE]
    vocab += [f"w{i}" for i in range(20 - len(vocab))]
    return da.Target(
        TinyLSTM(),
        modality="text",
        data=tokens,
        labels=rng.integers(0, 2, 25),
        vocab=vocab,
        class_names=[TEMPLATE, IMG],
        name=f"{MD_IMAGE} text",
        device="cpu",
    )


def generator_target() -> da.Target:
    """A generator whose label model's class names are hostile."""
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(5, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4)))
    real = torch.rand(50, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    labeller = da.Target(
        nn.Sequential(nn.Flatten(), nn.Linear(16, 2)),
        modality="image",
        data=real,
        class_names=[HTML_LINK, LATEX],
        name=MD_LINK,
        device="cpu",
    )
    return da.Target(
        generator,
        kind="generator",
        modality="image",
        latent_dim=5,
        discriminator=nn.Sequential(nn.Flatten(), nn.Linear(16, 1)),
        label_model=labeller,
        reference_data=real,
        train_data=torch.rand(60, 1, 4, 4, generator=torch.Generator().manual_seed(1)),
        name=f"{BARE_URL} generator",
        device="cpu",
    )


def autoencoder_target(rng: np.random.Generator) -> da.Target:
    """An autoencoder whose feature names and target name are hostile."""
    torch.manual_seed(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    return da.Target(
        nn.Sequential(nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 6)),
        kind="autoencoder",
        modality="tabular",
        data=X[:60],
        reference_data=X[60:],
        feature_names=[IMG, MD_IMAGE, BARE_URL, WWW, MENTION, TEMPLATE],
        name=f"{JAVASCRIPT} autoencoder",
        device="cpu",
    )


def _audit(
    target: da.Target, out: Path, families: list[str], *, methods: list[str] | None = None
) -> Path:
    """Audit ``target`` into ``out`` with ``families``, on small budgets."""
    options = {f: dict(FAST_OPTIONS[f]) for f in families if f in FAST_OPTIONS}
    if methods and "explain" in options:
        options["explain"]["methods"] = methods
    config = da.AuditConfig(families=families, options=options, output_dir=out, progress=False)
    da.run_audit(target, config)
    return out


def hostile_runs(root: Path) -> dict[str, Path]:
    """Audit the four hostile targets into run folders under ``root`` (the families whose
    pages show their strings); by kind."""
    rng = np.random.default_rng(0)
    tabular = ["overview", "explain", "fairness", "robustness"]
    return {
        "tabular": _audit(
            tabular_target(rng),
            root / RUN_FOLDER,
            tabular,
            methods=["integrated_gradients", "feature_ablation"],
        ),
        "text": _audit(
            text_target(rng),
            root / TEXT_FOLDER,
            ["overview", "explain"],
            methods=["integrated_gradients", "occlusion"],
        ),
        "generator": _audit(
            generator_target(), root / GENERATOR_FOLDER, ["overview", "fairness", "generative"]
        ),
        "autoencoder": _audit(
            autoencoder_target(rng), root / AUTOENCODER_FOLDER, ["overview", "generative"]
        ),
    }

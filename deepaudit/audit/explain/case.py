"""What an explain audit explains: the samples, their classes, baselines and feature space.

A :class:`Case` is built once per audit: the explained samples (drawn with the seed,
stratified over a sensitive attribute), the class each is explained for (the predicted
one), the baseline that stands for "feature absent", a background sample for the SHAP
family, and the :class:`FeatureSpace` that turns attributions over inputs into one score
per feature: a pixel (channels summed), a token, or a logical tabular feature (a
categorical feature's one-hot columns summed, so it is reported as one feature).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from deepaudit.audit.explain.subject import Subject, find_layer, last_feature_map_layer
from deepaudit.audit.target import Target

UNKNOWN_TOKENS = ("<unk>", "[UNK]", "<UNK>", "UNK", "<oov>", "[OOV]")


@dataclass
class FeatureSpace:
    """The features attributions are scored on.

    ``groups`` lists, for tabular data, the columns of each logical feature; ``kinds``
    says whether it is ``"numeric"``, an integer-``"code"`` or a ``"onehot"`` group.
    """

    modality: str
    input_shape: tuple[int, ...]
    names: list[str]
    groups: list[list[int]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(self.names)

    def scores(self, attributions: np.ndarray) -> np.ndarray:
        """One score per feature (N×G) from attributions over the inputs."""
        a = np.asarray(attributions, dtype=np.float64)
        if self.modality == "image":
            return a.sum(axis=1).reshape(len(a), -1)
        if self.modality == "text":
            return a.reshape(len(a), -1)
        return np.stack([a[:, cols].sum(axis=1) for cols in self.groups], axis=1)

    def spread(self, scores: np.ndarray) -> np.ndarray:
        """Attributions over the inputs whose feature scores are ``scores`` (even split)."""
        s = np.asarray(scores, dtype=np.float64)
        if self.modality == "image":
            c = self.input_shape[0]
            return np.repeat(s.reshape(len(s), 1, *self.input_shape[1:]) / c, c, axis=1)
        if self.modality == "text":
            return s
        out = np.zeros((len(s), self.input_shape[0]))
        for g, cols in enumerate(self.groups):
            out[:, cols] = s[:, [g]] / len(cols)
        return out

    def removable(self, inputs: torch.Tensor) -> np.ndarray:
        """Which features of each sample can be removed (N×G; padding tokens cannot)."""
        if self.modality == "text":
            return (inputs != 0).cpu().numpy()
        return np.ones((len(inputs), self.n_features), dtype=bool)

    def to_input_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """A feature mask N×G (1 = remove) as a mask broadcastable over the inputs."""
        if self.modality == "image":
            return mask.reshape(len(mask), 1, *self.input_shape[1:])
        if self.modality == "text":
            return mask
        cols = torch.zeros(len(mask), self.input_shape[0], dtype=mask.dtype, device=mask.device)
        for g, columns in enumerate(self.groups):
            cols[:, columns] = mask[:, [g]]
        return cols

    def replace(
        self, inputs: torch.Tensor, baselines: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """``inputs`` with the features where ``mask`` (N×G) is true set to the baseline."""
        m = self.to_input_mask(mask.to(torch.bool))
        return torch.where(m, baselines, inputs)

    def captum_mask(self, n: int, window: int = 1) -> torch.Tensor:
        """captum's ``feature_mask``: the feature index of every input element."""
        if self.modality == "text":
            return torch.arange(self.input_shape[0]).expand(n, -1)
        if self.modality == "tabular":
            mask = torch.zeros(self.input_shape[0], dtype=torch.long)
            for g, cols in enumerate(self.groups):
                mask[cols] = g
            return mask.expand(n, -1)
        c, h, w = self.input_shape
        rows = torch.arange(h) // window
        cols = torch.arange(w) // window
        cells = rows[:, None] * ((w + window - 1) // window) + cols[None, :]
        return cells.expand(n, c, h, w)


@dataclass
class TabularCodec:
    """Logical features as one column each: a one-hot group becomes its category index.

    KernelSHAP and LIME perturb this representation, so a categorical feature is masked
    or resampled as a whole, never column by column.
    """

    space: FeatureSpace
    column_names: list[str]

    @property
    def categorical(self) -> list[int]:
        return [g for g, kind in enumerate(self.space.kinds) if kind != "numeric"]

    def encode(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros((len(x), self.space.n_features))
        for g, (cols, kind) in enumerate(zip(self.space.groups, self.space.kinds, strict=True)):
            if kind == "onehot":
                block = x[:, cols]
                idx = block.argmax(axis=1).astype(np.float64)
                idx[block.max(axis=1) <= 0] = len(cols)  # no category: index past the end
                out[:, g] = idx
            else:
                out[:, g] = x[:, cols[0]]
        return out

    def decode(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        out = np.zeros((len(z), self.space.input_shape[0]), dtype=np.float32)
        for g, (cols, kind) in enumerate(zip(self.space.groups, self.space.kinds, strict=True)):
            if kind == "onehot":
                idx = np.clip(np.rint(z[:, g]), 0, len(cols)).astype(int)
                rows = np.nonzero(idx < len(cols))[0]
                out[rows, np.asarray(cols)[idx[rows]]] = 1.0
            else:
                out[:, cols[0]] = z[:, g]
        return out

    def display(self, x: np.ndarray) -> np.ndarray:
        """Readable values of each logical feature (N×G strings), for reports."""
        z = self.encode(x)
        out = np.empty(z.shape, dtype=object)
        for g, (cols, kind) in enumerate(zip(self.space.groups, self.space.kinds, strict=True)):
            for i, v in enumerate(z[:, g]):
                if kind == "onehot":
                    k = int(v)
                    out[i, g] = (
                        self.column_names[cols[k]].split("=", 1)[-1] if k < len(cols) else "none"
                    )
                elif kind == "code":
                    out[i, g] = f"code {round(v)}"
                else:
                    out[i, g] = f"{v:.4g}"
        return out.astype(str)


@dataclass
class Case:
    """The samples one explain audit explains, and everything methods need about them."""

    target: Target
    subject: Subject
    seed: int
    indices: np.ndarray
    inputs: torch.Tensor
    classes: torch.Tensor | None
    background: torch.Tensor
    space: FeatureSpace
    codec: TabularCodec | None = None
    reference: torch.Tensor | None = None  # tabular: the "absent" row
    unk_id: int = 0
    layer: str | None = None
    stratified_by: str | None = None
    groups: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def blind(self) -> np.ndarray:
        """Features gradient methods cannot attribute to (integer-coded categories)."""
        return np.asarray([k == "code" for k in self.space.kinds], dtype=bool)

    def blind_columns(self, device: torch.device | None = None) -> torch.Tensor:
        """A column mask of the integer-coded categorical features."""
        mask = torch.zeros(self.space.input_shape[0], dtype=torch.bool)
        for g in np.nonzero(self.blind)[0]:
            mask[self.space.groups[g]] = True
        return mask if device is None else mask.to(device)

    def baselines(self, x: torch.Tensor, hold_blind: bool = False) -> torch.Tensor:
        """The "absent" version of each input: black images, the reference row, or every
        token replaced by the unknown token (padding stays padding).

        ``hold_blind`` keeps integer-coded categories at the input's own values, so a
        gradient method's straight path never passes through other categories and its
        completeness covers exactly the features it can see.
        """
        if self.space.modality == "image":
            return torch.full_like(x, self.target.input_range[0])
        if self.space.modality == "text":
            return torch.where(x == 0, torch.zeros_like(x), torch.full_like(x, self.unk_id))
        reference = self.reference.to(x.device).expand_as(x).clone()
        if hold_blind and self.blind.any():
            return torch.where(self.blind_columns(x.device), x, reference)
        return reference


def prepare_case(target: Target, layer: str | None, seed: int) -> Case:
    """What is explained, before any model call: the network, its feature space and the
    layer layer-methods hook (checked here, so a bad name fails before any work)."""
    subject = Subject(target)
    if target.kind == "generator":
        shape = (
            tuple(target.reference_data.shape[1:])
            if target.reference_data is not None
            else tuple(target.generate(1, seed=seed).shape[1:])
        )
    else:
        shape = tuple(target.data.shape[1:])
    space = feature_space(target, shape)
    empty = torch.zeros((0, *shape))
    case = Case(
        target=target,
        subject=subject,
        seed=seed,
        indices=np.zeros(0, dtype=np.int64),
        inputs=empty,
        classes=None,
        background=empty,
        space=space,
    )
    if target.modality == "tabular":
        case.codec = TabularCodec(space, list(target.feature_names))
        case.reference = reference_row(target.data, space, target.column_means)
    if target.modality == "text":
        case.unk_id = next((target.vocab.index(t) for t in UNKNOWN_TOKENS if t in target.vocab), 0)
        case.layer = find_layer(
            subject.module, layer or target.metadata.get("embedding_layer"), nn.Embedding
        )
    elif target.modality == "image":
        case.layer = find_layer(
            subject.module, layer or target.metadata.get("gradcam_layer"), nn.Conv2d
        )
    return case


def find_feature_map_layer(case: Case, layer: str | None) -> bool:
    """Hook an image network where its feature map is, when no layer is named: one forward
    pass finds it (:func:`last_feature_map_layer`); before it, the last ``Conv2d``.
    Whether it was found so."""
    target = case.target
    if target.modality != "image" or case.layer is None:
        return False
    if layer is not None or target.metadata.get("gradcam_layer") is not None:
        return False
    row = one_row(target, case.seed).to(case.subject.device)
    found = last_feature_map_layer(case.subject.module, row)
    if found is not None:
        case.layer = found
    return found is not None


def one_row(target: Target, seed: int) -> torch.Tensor:
    """One input the explained network takes (a generator's: one of its samples)."""
    if target.kind != "generator":
        return target.data[:1]
    if target.reference_data is not None:
        return target.reference_data[:1]
    return torch.from_numpy(target.generate(1, seed=seed)).float()


def draw_samples(case: Case, n_samples: int, n_background: int) -> Case:
    """Draw the explained samples (stratified), the background, and the class each sample is
    explained for (the predicted one), with the target's sample seed (which samples are
    explained is a choice of data, not of the audit's randomness)."""
    target = case.target
    seed = target.sample_seed
    rng = target.sample_rng(1)
    if target.kind == "generator":
        case.inputs = torch.from_numpy(target.generate(n_samples, seed=seed)).float()
        case.indices = np.arange(n_samples, dtype=np.int64)
        if target.reference_data is not None:
            n_real = len(target.reference_data)
            pick = np.sort(rng.choice(n_real, min(n_background, n_real), replace=False))
            case.background = target.reference_data[torch.from_numpy(pick)]
        else:
            case.background = torch.from_numpy(target.generate(n_background, seed=seed + 1)).float()
    else:
        indices, case.stratified_by = choose_samples(target, n_samples, rng)
        case.indices = np.asarray(indices, dtype=np.int64)
        case.inputs = target.data[torch.from_numpy(case.indices)]
        rest = np.setdiff1d(np.arange(target.n_samples), indices)
        pool = rest if len(rest) >= n_background else np.arange(target.n_samples)
        pick = np.sort(rng.choice(pool, min(n_background, len(pool)), replace=False))
        case.background = target.data[torch.from_numpy(pick)]
        if target.sensitive is not None:
            case.groups = target.sensitive.iloc[case.indices].reset_index(drop=True)
    if case.subject.has_classes:
        with torch.no_grad():
            case.classes = case.subject.score(case.inputs).argmax(dim=1).cpu()
    return case


def build_case(
    target: Target, n_samples: int, n_background: int, seed: int, layer: str | None = None
) -> Case:
    """:func:`prepare_case` then :func:`draw_samples`."""
    return draw_samples(prepare_case(target, layer, seed), n_samples, n_background)


def choose_samples(
    target: Target, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, str | None]:
    """``n`` sample indices drawn with ``rng``, balanced over the groups of the sensitive
    attribute with the fewest groups (so per-group quality has samples in every group)."""
    n = min(n, target.n_samples)
    if target.sensitive is None:
        return np.sort(rng.choice(target.n_samples, n, replace=False)), None
    by = min(target.sensitive_names, key=lambda c: target.sensitive[c].nunique())
    values = target.sensitive[by].astype(str).to_numpy()
    members = {g: rng.permutation(np.nonzero(values == g)[0]) for g in sorted(set(values))}
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        for g in members:
            if depth < len(members[g]) and len(chosen) < n:
                chosen.append(int(members[g][depth]))
        depth += 1
    return np.sort(np.asarray(chosen)), by


def feature_space(target: Target, input_shape: tuple[int, ...]) -> FeatureSpace:
    if target.modality == "image":
        _, h, w = input_shape
        names = [f"({r}, {c})" for r in range(h) for c in range(w)]
        return FeatureSpace("image", input_shape, names)
    if target.modality == "text":
        return FeatureSpace("text", input_shape, [f"token {i}" for i in range(input_shape[0])])
    names, groups, kinds = [], [], []
    for name, cols in target.feature_groups.items():
        names.append(name)
        groups.append(list(cols))
        if name not in target.categorical:
            kinds.append("numeric")
        else:
            kinds.append("onehot" if len(cols) > 1 else "code")
    return FeatureSpace("tabular", input_shape, names, groups, kinds)


def reference_row(
    data: torch.Tensor, space: FeatureSpace, means: np.ndarray | None = None
) -> torch.Tensor:
    """The tabular "absent" row: numeric columns at their mean, categorical features at
    their most frequent category (in ``data``). ``means``: the columns' means when
    ``data`` is a sample of rows that stream (the mean over every row)."""
    x = data.double()
    row = x.mean(dim=0) if means is None else torch.as_tensor(means, dtype=torch.float64)
    for cols, kind in zip(space.groups, space.kinds, strict=True):
        if kind == "code":
            values, counts = torch.unique(x[:, cols[0]], return_counts=True)
            row[cols[0]] = values[counts.argmax()]
        elif kind == "onehot":
            top = int(x[:, cols].sum(dim=0).argmax())
            row[cols] = 0.0
            row[cols[top]] = 1.0
    return row.float()[None, :]

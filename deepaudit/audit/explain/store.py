"""What the explain family saves for its views: samples, inputs, maps, curves, tokens."""

from __future__ import annotations

import numpy as np

from deepaudit.audit.explain.case import Case
from deepaudit.results import FamilyResult


def _raw_text(value) -> str:
    return value if isinstance(value, str) else f"{float(value):.4g}"


def _classes_text(case: Case) -> list[str]:
    if case.classes is None:
        return ["score"] * case.n
    names = case.target.class_names
    return [names[c] if names and c < len(names) else str(c) for c in case.classes.tolist()]


#: The samples table's own columns (a sensitive attribute of the same name is renamed).
SAMPLE_COLUMNS = ("sample", "index", "explained_output", "label")


def _raw_text(value) -> str:
    return value if isinstance(value, str) else f"{float(value):.4g}"


def samples_table(case: Case) -> list[dict]:
    """One row per explained sample: its index, explained output, label and groups."""
    labels = case.target.labels
    rows = []
    for i, (index, cls) in enumerate(zip(case.indices.tolist(), _classes_text(case), strict=True)):
        row = {"sample": i, "index": int(index), "explained_output": cls}
        if labels is not None and case.target.kind != "generator":
            label = int(labels[index])
            names = case.target.class_names
            row["label"] = names[label] if names and label < len(names) else str(label)
        if case.groups is not None:
            for attribute in case.groups.columns:
                # an attribute named like a column of the table keeps both
                key = attribute if attribute not in SAMPLE_COLUMNS else f"{attribute} (group)"
                row[key] = str(case.groups[attribute].iloc[i])
        rows.append(row)
    return rows


def _raw_text(value) -> str:
    return value if isinstance(value, str) else f"{float(value):.4g}"


def store_arrays(result: FamilyResult, case: Case, runs: dict) -> None:
    """Sample indices, inputs (tokens, feature values), maps and mean curves, as arrays."""
    arrays = result.arrays
    arrays["sample_indices"] = case.indices
    arrays["classes"] = (
        np.full(case.n, -1, dtype=np.int64)
        if case.classes is None
        else case.classes.numpy().astype(np.int64)
    )
    modality = case.space.modality
    if modality == "text":
        arrays["inputs"] = case.inputs.numpy().astype(np.int64)
        vocab = case.target.vocab
        arrays["tokens"] = np.asarray(
            [[vocab[t] if t != 0 else "" for t in row] for row in case.inputs.tolist()], dtype=str
        )
    elif modality == "tabular":
        arrays["inputs"] = case.inputs.numpy().astype(np.float32)
        arrays["feature_names"] = np.asarray(case.space.names, dtype=str)
        arrays["feature_values"] = case.codec.display(case.inputs.numpy())
        raw = getattr(case.target, "raw_columns", None)
        if raw is not None:  # the raw values the user knows, not the encoded ones
            decoded = raw.decode(case.inputs.numpy())
            arrays["feature_values"] = np.asarray(
                [
                    [_raw_text(decoded[name][i]) for name in case.space.names]
                    for i in range(len(decoded))
                ],
                dtype=str,
            )
    else:
        arrays["inputs"] = case.inputs.numpy().astype(np.float32)
    arrays["curve_fractions"] = np.linspace(
        0.0, 1.0, next(iter(runs.values()))["curves"]["deletion"].shape[1]
    )
    for name, run in runs.items():
        if modality == "tabular":
            arrays[f"attributions_{name}"] = run["scores"].astype(np.float32)
        else:
            arrays[f"attributions_{name}"] = np.asarray(run["attribution"].values, dtype=np.float32)
        arrays[f"deletion_curve_{name}"] = run["curves"]["deletion"].mean(axis=0)
        arrays[f"insertion_curve_{name}"] = run["curves"]["insertion"].mean(axis=0)


def _raw_text(value) -> str:
    return value if isinstance(value, str) else f"{float(value):.4g}"


def token_rows(case: Case, runs: dict) -> list[dict]:
    """One row per (sample, real token) with every method's score."""
    vocab = case.target.vocab
    rows = []
    for i in range(case.n):
        for position, token in enumerate(case.inputs[i].tolist()):
            if token == 0:
                continue
            row = {"sample": i, "position": position, "token": vocab[token]}
            for name, run in runs.items():
                row[name] = float(run["scores"][i, position])
            rows.append(row)
    return rows

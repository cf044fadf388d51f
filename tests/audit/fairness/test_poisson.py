"""The one-pass Poisson bootstrap against the ordinary bootstrap, row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepaudit.audit.fairness import group_metrics
from deepaudit.errors import ValidationError

B = 2000
METRICS = ("selection_rate", "tpr", "fpr", "accuracy", "precision")


def _data(n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    y = rng.integers(0, 2, n)
    score = np.clip(0.25 * y + 0.1 * (groups == "a") + 0.6 * rng.random(n), 0, 1)
    return y, score, groups


def _row_bootstrap(y, score, groups, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Group rates of B weighted resamples (weights B×N), computed from rows directly:
    an implementation independent of the cell tables."""
    names = np.unique(groups)
    pred = (score > 0.5).astype(np.float64)
    out = {m: np.empty((len(weights), len(names))) for m in METRICS}
    for g, name in enumerate(names):
        member = groups == name
        w = weights[:, member]
        yy, pp = y[member], pred[member]
        tp = w @ (yy * pp)
        fp = w @ ((1 - yy) * pp)
        fn = w @ (yy * (1 - pp))
        tn = w @ ((1 - yy) * (1 - pp))
        n = tp + fp + fn + tn
        out["selection_rate"][:, g] = (tp + fp) / n
        out["tpr"][:, g] = tp / (tp + fn)
        out["fpr"][:, g] = fp / (fp + tn)
        out["accuracy"][:, g] = (tp + tn) / n
        out["precision"][:, g] = tp / (tp + fp)
    return out


def test_poisson_intervals_agree_with_the_ordinary_bootstrap_within_monte_carlo_error():
    y, score, groups = _data()
    n = len(y)
    rng = np.random.default_rng(42)
    ordinary = _row_bootstrap(
        y, score, groups, rng.multinomial(n, np.full(n, 1 / n), size=B).astype(np.float64)
    )
    per_row_poisson = _row_bootstrap(y, score, groups, rng.poisson(1.0, size=(B, n)))
    table = group_metrics(
        y, score, groups, threshold=0.5, n_boot=B, bootstrap="poisson", random_state=7
    )
    rows = table[table["group"] != "overall"].reset_index(drop=True)
    for metric in METRICS:
        for reference in (ordinary, per_row_poisson):
            samples = reference[metric]
            se = samples.std(axis=0, ddof=1)
            low, high = np.percentile(samples, [2.5, 97.5], axis=0)
            width = rows[f"{metric}_high"] - rows[f"{metric}_low"]
            # A 2.5 % percentile of B = 2000 draws moves by about 0.06 standard errors
            # between independent runs (0.085 for the difference of two runs); over the
            # 30 endpoints of a table, the largest difference stays under ~0.3 (15
            # seeded runs: 0.16-0.29). Allow 0.4.
            assert np.all(np.abs(rows[f"{metric}_low"] - low) < 0.4 * se), metric
            assert np.all(np.abs(rows[f"{metric}_high"] - high) < 0.4 * se), metric
            # Interval widths, i.e. standard errors, agree to a few percent.
            assert np.all(np.abs(width / (high - low) - 1) < 0.1), metric


def test_poisson_and_multinomial_cell_bootstraps_differ_only_by_monte_carlo_noise():
    y, score, groups = _data(seed=1)
    kwargs = {"threshold": 0.5, "n_boot": B, "random_state": 3}
    poisson = group_metrics(y, score, groups, bootstrap="poisson", **kwargs)
    multinomial = group_metrics(y, score, groups, bootstrap="multinomial", **kwargs)
    for metric in METRICS:
        pd.testing.assert_series_equal(poisson[metric], multinomial[metric])  # same estimates
        w_p = poisson[f"{metric}_high"] - poisson[f"{metric}_low"]
        w_m = multinomial[f"{metric}_high"] - multinomial[f"{metric}_low"]
        assert np.all(np.abs(w_p / w_m - 1) < 0.1), metric
    # shares get Wilson's interval from the counts (the same whatever the bootstrap);
    # the other metrics' intervals come from the resamples, which differ
    pd.testing.assert_series_equal(poisson["tpr_low"], multinomial["tpr_low"])
    assert not np.allclose(poisson["mean_score_low"], multinomial["mean_score_low"], atol=1e-12)


def test_the_poisson_bootstrap_does_not_depend_on_how_rows_were_split():
    from deepaudit.audit.fairness.metrics import build_cells
    from deepaudit.audit.fairness.stats import poisson_resample_cells

    y, score, groups = _data(seed=2)
    codes = np.unique(groups, return_inverse=True)[1]
    whole = build_cells(y, score, codes, 3, 0.5, 10)
    parts = [
        build_cells(y[s], score[s], codes[s], 3, 0.5, 10)
        for s in np.array_split(np.arange(len(y)), 7)
    ]
    folded = parts[0]
    for part in parts[1:]:
        folded = folded + part
    np.testing.assert_array_equal(folded.counts, whole.counts)
    a = poisson_resample_cells(whole, 50, np.random.default_rng(0))
    b = poisson_resample_cells(folded, 50, np.random.default_rng(0))
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_allclose(a.sums, b.sums, rtol=1e-12)


def test_unknown_bootstrap_is_refused_with_the_allowed_values():
    y, score, groups = _data(n=50)
    with pytest.raises(ValidationError) as error:
        group_metrics(y, score, groups, n_boot=10, bootstrap="bayesian")
    assert str(error.value) == (
        "The 'bootstrap' parameter of group_metrics must be one of 'multinomial', 'poisson'. "
        "Got 'bayesian' instead."
    )

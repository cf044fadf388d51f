"""Mitigation by post-processing: fairlearn's ThresholdOptimizer on the model's scores.

The model is not retrained: ThresholdOptimizer picks group-specific (randomised)
thresholds on the scores the model already gives, fitted on one half of the audit data
and measured on the other, so the before/after table is not flattered by fitting and
measuring on the same samples. The trade-off curve shows what each choice costs in
accuracy: one global threshold swept over [0, 1], and ThresholdOptimizer with its
constraint relaxed step by step (``tol``).
"""

from __future__ import annotations

import numpy as np
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.inputs import encode_groups
from deepaudit.audit.fairness.metrics import build_cells, cell_rates, disparity_arrays

N_TOLERANCES = 5


class PrefitScores(ClassifierMixin, BaseEstimator):
    """A fitted scikit-learn classifier whose only feature is the model's P(class 1).

    It lets ThresholdOptimizer post-process a torch model's scores (``prefit=True``).
    """

    def fit(self, X, y=None) -> PrefitScores:
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = 1
        return self

    def predict_proba(self, X) -> np.ndarray:
        p = np.asarray(X, dtype=np.float64)[:, 0]
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64)[:, 0] > 0.5).astype(np.int64)


def _optimizer(constraint: str, tol: float | None) -> ThresholdOptimizer:
    return ThresholdOptimizer(
        estimator=PrefitScores().fit(None),
        constraints=constraint,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
        tol=tol,
    )


def decision_summary(stage: str, y: np.ndarray, decisions: np.ndarray, groups: np.ndarray) -> dict:
    """Accuracy, selection rates and disparities of hard decisions, through the same core
    as the audit (a decision is a score of 0 or 1 at threshold 0.5)."""
    codes, names = encode_groups(groups, len(y), "decision_summary")
    cells = build_cells(y, decisions.astype(np.float64), codes, len(names), 0.5, 1)
    rates, overall = cell_rates(cells)
    gaps = disparity_arrays(rates, overall, np.ones(len(names), dtype=bool))
    row = {
        "stage": stage,
        "accuracy": float(overall["accuracy"][0]),
        "selection_rate": float(overall["selection_rate"][0]),
        "demographic_parity_difference": float(gaps["demographic_parity"]["difference"][0]),
        "demographic_parity_ratio": float(gaps["demographic_parity"]["ratio"][0]),
        "equalized_odds_difference": float(gaps["equalized_odds"]["difference"][0]),
    }
    for g, name in enumerate(names):
        row[f"selection_rate[{name}]"] = float(rates["selection_rate"][0, g])
    return row


def mitigate(
    y: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray,
    attribute: str,
    options: FairnessConfig,
    seed: int,
) -> dict:
    """Before/after table, group thresholds and trade-off curve (binary scores)."""
    threshold = 0.5 if options.threshold is None else options.threshold
    index = np.arange(len(y))
    counts = np.unique(groups, return_counts=True)[1]
    strata = groups if counts.min() >= 2 else None
    fit_idx, eval_idx = train_test_split(index, test_size=0.5, random_state=seed, stratify=strata)
    # ThresholdOptimizer needs both classes among a group's fitting samples ("degenerate
    # labels" otherwise): such groups are left out, and said so, rather than losing the audit.
    names = np.unique(groups)
    usable = [
        g
        for g in names
        if len(np.unique(y[fit_idx][groups[fit_idx] == g])) == 2 and (groups[eval_idx] == g).any()
    ]
    left_out = [(str(g), int((groups == g).sum())) for g in names if g not in usable]
    if len(usable) < 2:
        return {"attribute": attribute, "skipped": True, "left_out": left_out}
    fit_idx = fit_idx[np.isin(groups[fit_idx], usable)]
    eval_idx = eval_idx[np.isin(groups[eval_idx], usable)]
    s_fit, s_eval = scores[fit_idx, None], scores[eval_idx, None]
    g_fit, g_eval = groups[fit_idx], groups[eval_idx]
    y_fit, y_eval = y[fit_idx], y[eval_idx]

    optimizer = _optimizer(options.mitigation_constraint, None)
    optimizer.fit(s_fit, y_fit, sensitive_features=g_fit)
    after = optimizer.predict(s_eval, sensitive_features=g_eval, random_state=seed)
    before = (scores[eval_idx] > threshold).astype(np.int64)
    label = f"ThresholdOptimizer({options.mitigation_constraint})"
    table = [
        decision_summary(f"before (threshold {threshold:g})", y_eval, before, g_eval),
        decision_summary(f"after: {label}", y_eval, after, g_eval),
    ]
    thresholds = []
    for group, rule in optimizer.interpolated_thresholder_.interpolation_dict.items():
        thresholds.append(
            {
                "group": str(group),
                "p0": float(rule["p0"]),
                "operation0": str(rule["operation0"]),
                "p1": float(rule["p1"]),
                "operation1": str(rule["operation1"]),
                "p_ignore": float(rule.get("p_ignore", 0.0)),
            }
        )

    curve = []
    for t in np.linspace(0.0, 1.0, options.n_thresholds):
        point = decision_summary("", y_eval, (scores[eval_idx] > t).astype(np.int64), g_eval)
        curve.append(_curve_point("global threshold", float(t), point))
    if options.mitigation_constraint == "demographic_parity":
        top = max(table[0]["demographic_parity_difference"], 1e-3)
        for tol in np.linspace(0.0, top, N_TOLERANCES):
            relaxed = _optimizer("demographic_parity", float(tol))
            relaxed.fit(s_fit, y_fit, sensitive_features=g_fit)
            decided = relaxed.predict(s_eval, sensitive_features=g_eval, random_state=seed)
            point = decision_summary("", y_eval, decided, g_eval)
            curve.append(_curve_point("ThresholdOptimizer tol", float(tol), point))
    before_point = _curve_point("before", threshold, table[0])
    after_point = _curve_point(label, float("nan"), table[1])
    curve.extend([before_point, after_point])
    return {
        "attribute": attribute,
        "skipped": False,
        "left_out": left_out,
        "n_fit": len(fit_idx),
        "n_eval": len(eval_idx),
        "table": table,
        "thresholds": thresholds,
        "curve": curve,
    }


def _curve_point(method: str, parameter: float, summary: dict) -> dict:
    return {
        "method": method,
        "parameter": parameter,
        "accuracy": summary["accuracy"],
        "demographic_parity_difference": summary["demographic_parity_difference"],
        "equalized_odds_difference": summary["equalized_odds_difference"],
    }

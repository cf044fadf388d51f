from importlib import metadata

import numpy as np
import pytest
import torch
from scipy.stats import binomtest
from sklearn import metrics as skm
from torch import nn

import deepaudit as da
from deepaudit.audit.overview import classifier_overview, expected_calibration_error


def _run(target, **options):
    config = da.AuditConfig(options={"overview": options} if options else {}, progress=False)
    return da.run_audit(target, config)["overview"]


def test_classifier_metrics_equal_scikit_learn(tabular_target):
    result = _run(tabular_target)
    proba = tabular_target.predict_proba()
    y = tabular_target.labels
    pred = proba.argmax(1)
    m = result.metrics
    assert m["accuracy"] == skm.accuracy_score(y, pred)
    assert m["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert m["f1"] == skm.f1_score(y, pred)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba), abs=1e-12)
    np.testing.assert_array_equal(result.arrays["confusion_matrix"], skm.confusion_matrix(y, pred))
    recall = skm.recall_score(y, pred, average=None)
    assert [r["recall"] for r in result.tables["per_class"]] == pytest.approx(recall.tolist())
    assert [r["class"] for r in result.tables["per_class"]] == ["no", "yes"]


def test_multiclass_uses_one_vs_rest_auc_and_macro_f1(rng):
    proba = rng.dirichlet(np.ones(3), size=300)
    y = rng.integers(0, 3, 300)
    m = classifier_overview(proba, y, n_bins=10)["metrics"]
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert m["f1"] == pytest.approx(skm.f1_score(y, proba.argmax(1), average="macro"))
    assert m["f1_average"] == "macro"


def test_expected_calibration_error_known_answers():
    # Ten samples all at confidence 0.9, seven of them right: ECE = |0.7 - 0.9| = 0.2.
    proba = np.tile([0.9, 0.1], (10, 1))
    y = np.array([0] * 7 + [1] * 3)
    ece, curve = expected_calibration_error(proba, y, n_bins=10)
    assert ece == pytest.approx(0.2)
    assert curve["counts"].sum() == 10 and curve["counts"][8] == 10  # bin (0.8, 0.9]
    # Two bins, each perfectly calibrated: ECE = 0.
    proba = np.array([[0.6, 0.4]] * 5 + [[1.0, 0.0]] * 5)
    y = np.array([0, 0, 0, 1, 1] + [0] * 5)
    assert expected_calibration_error(proba, y, n_bins=5)[0] == pytest.approx(0.0, abs=1e-12)


def test_ece_agrees_with_a_loop_over_bins(rng):
    proba = rng.dirichlet(np.ones(4), size=500)
    y = rng.integers(0, 4, 500)
    conf, pred = proba.max(1), proba.argmax(1)
    expected = 0.0
    for lo, hi in zip(np.linspace(0, 1, 16)[:-1], np.linspace(0, 1, 16)[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            expected += inside.mean() * abs(
                (pred[inside] == y[inside]).mean() - conf[inside].mean()
            )
    assert expected_calibration_error(proba, y, 15)[0] == pytest.approx(expected, abs=1e-12)


def test_findings_follow_the_accuracy_interval(tabular_target):
    m = _run(tabular_target).metrics
    acc, low, high = m["accuracy"], m["accuracy_low"], m["accuracy_high"]
    assert low < acc < high
    # The Wilson interval of scipy, on the samples the accuracy counts.
    n = m["n_samples"]
    ci = binomtest(round(acc * n), n).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((ci.low, ci.high))

    def severity(floor):
        return {f.check: f.severity for f in _run(tabular_target, min_accuracy=floor).findings}[
            "accuracy"
        ]

    assert severity(min(1.0, high + 0.01)) == "fail"  # the whole interval below the floor
    assert severity(acc + 0.001) == "inconclusive"  # the estimate fails, its interval not
    assert severity(acc - 0.001) == "inconclusive"  # the estimate passes, its interval not
    assert severity(max(0.0, low - 0.01)) == "pass"


def test_a_well_trained_model_passes_and_ranks_findings_worst_first(rng):
    torch.manual_seed(0)
    X = torch.from_numpy(rng.normal(size=(400, 2)).astype(np.float32))
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    target = da.Target(model, modality="tabular", data=X, labels=y, device="cpu")
    bundle = da.run_audit(target, da.AuditConfig(progress=False))
    assert bundle["overview"].metrics["accuracy"] > 0.95
    accuracy = next(f for f in bundle.findings if f.check == "accuracy")
    assert accuracy.severity == "pass"
    untrained = da.Target(nn.Linear(2, 2), modality="tabular", data=X, labels=1 - y, device="cpu")
    severities = [
        f.severity for f in da.run_audit(untrained, da.AuditConfig(progress=False)).findings
    ]
    order = {"fail": 0, "warn": 1, "inconclusive": 2, "pass": 3}
    assert severities == sorted(severities, key=order.get)


def test_no_labels_is_a_warning_not_a_crash(image_target):
    image_target.labels = None
    result = _run(image_target)
    assert [f.check for f in result.findings] == ["labels"]
    assert result.findings[0].severity == "warn"


def test_autoencoder_overview(autoencoder_target):
    result = _run(autoencoder_target)
    errors = autoencoder_target.reconstruction_error()
    ref = autoencoder_target.reconstruction_error(autoencoder_target.reference_data)
    assert result.metrics["flag_rate"] == pytest.approx((errors > np.quantile(ref, 0.95)).mean())
    assert result.metrics["error_ratio"] == pytest.approx(errors.mean() / ref.mean(), rel=1e-6)
    assert result.arrays["error_histogram_counts"].sum() == len(errors)


def test_generator_overview_compares_with_real_data(generator_target):
    result = _run(generator_target, n_generated=200)
    samples = generator_target.generate(200, seed=0).reshape(200, -1)
    real = generator_target.reference_data.numpy().reshape(50, -1)
    assert result.metrics["sample_mean"] == pytest.approx(samples.mean(), rel=1e-6)
    assert result.metrics["mean_gap"] == pytest.approx(
        abs(samples.mean() - real.mean()) / real.std(), rel=1e-5
    )
    assert result.metrics["out_of_range_fraction"] == 0.0  # a sigmoid output stays in [0, 1]
    assert 0 < result.metrics["discriminator_fake_mean"] < 1


def test_run_audit_records_cost_and_provenance(tabular_target):
    bundle = da.run_audit(tabular_target, da.AuditConfig(progress=False, seed=7))
    p = bundle.provenance
    assert p["seed"] == 7 and p["device"] == "cpu"
    assert p["model_sha256"] == tabular_target.model_sha256()
    assert p["versions"]["torch"] == metadata.version("torch")
    assert p["versions"]["deepaudit"] == da.__version__
    assert bundle["overview"].model_evaluations == tabular_target.n_samples
    assert bundle["overview"].seconds > 0


def test_max_samples_takes_a_subset_by_the_sample_seed_not_the_audit_seed(tabular_target):
    def run(**seeds):
        config = da.AuditConfig(progress=False, max_samples=50, **seeds)
        return da.run_audit(tabular_target, config)["overview"].metrics

    a = run(seed=1)
    assert a["n_samples"] == 50
    assert run(seed=1) == a
    assert run(seed=2) == a  # the same data: the overview has no randomness of its own
    assert run(seed=1, sample_seed=5)["accuracy"] != a["accuracy"]

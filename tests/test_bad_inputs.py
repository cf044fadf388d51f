"""A catalogue of bad inputs, through the API and the CLI, as a careless or hostile user
would give them. Each must raise a deepaudit error that names the argument, before the
audit calls the model (the probe's one batch apart), leaving nothing on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import deepaudit as da
from deepaudit._validation import Interval
from deepaudit.audit.target import Target
from deepaudit.errors import DeepAuditError
from deepaudit.families import get_family, list_families
from deepaudit.grading import regrade
from deepaudit.models import load_model

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)
G = np.where(X[:, 1] > 0, "a", "b")
IMAGES = RNG.uniform(size=(12, 1, 8, 8)).astype(np.float32)
TOKENS = RNG.integers(1, 6, size=(12, 5))
VOCAB = ["<pad>", "a", "b", "c", "d", "e"]


class Net(nn.Module):
    def __init__(self, width: int = 3, outputs: int = 2) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, 8), nn.ReLU(), nn.Linear(8, outputs))

    def forward(self, x):
        return self.net(x)


class ImageNet(nn.Module):
    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2, 3, padding=1)
        self.head = nn.Linear(2 * 8 * 8, 2)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


class TextNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(len(VOCAB), 4, padding_idx=0)
        self.head = nn.Linear(4, 2)

    def forward(self, tokens):
        return self.head(self.embedding(tokens).mean(dim=1))


class Returns(nn.Module):
    """A model whose output is ``make(x)``."""

    def __init__(self, make: Callable) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.make = make

    def forward(self, x):
        return self.make(x)


def tabular(**changes) -> Target:
    arguments = dict(modality="tabular", data=X, labels=Y, sensitive={"g": G}, device="cpu")
    arguments.update(changes)
    return Target(arguments.pop("model", Net()), **arguments)


def image(**changes) -> Target:
    arguments = dict(modality="image", data=IMAGES, labels=Y[:12], device="cpu")
    arguments.update(changes)
    return Target(arguments.pop("model", ImageNet()), **arguments)


def text(**changes) -> Target:
    arguments = dict(modality="text", data=TOKENS, labels=Y[:12], vocab=VOCAB, device="cpu")
    arguments.update(changes)
    return Target(arguments.pop("model", TextNet()), **arguments)


def audit(target: Callable[[], Target] = tabular, **config) -> None:
    """Build the target, then audit it into ./run (which must never appear)."""
    config.setdefault("progress", False)
    config.setdefault("output_dir", "run")
    da.run_audit(target(), da.AuditConfig(**config))


def one_hot(rows: np.ndarray) -> Target:
    return tabular(
        data=rows,
        feature_names=["x", "c_a", "c_b"],
        categorical_features={"c": ["c_a", "c_b"]},
    )


def _saved_run(path: Path = Path("good")) -> Path:
    """A small real run, saved (made before the case; the case must not change it)."""
    bundle = da.run_audit(tabular(), da.AuditConfig(families=["overview"], progress=False))
    bundle.save(path)
    return path


def _edit_bundle(edit: Callable[[dict], None]) -> Path:
    path = _saved_run()
    document = json.loads((path / "bundle.json").read_text())
    edit(document)
    (path / "bundle.json").write_text(json.dumps(document))
    return path


def _set(document: dict, keys: tuple, value) -> None:
    for key in keys[:-1]:
        document = document[key]
    document[keys[-1]] = value


def _tiny_target_file() -> str:
    Path("make.py").write_text(
        "import numpy as np, torch\nimport deepaudit as da\n"
        "def target():\n"
        "    x = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)\n"
        "    return da.Target(torch.nn.Linear(3, 2), modality='tabular', data=x,\n"
        "                     labels=(x[:, 0] > 0).astype(int), device='cpu')\n"
        "def not_a_target():\n    return 3\n"
    )
    return "make.py:target"


@dataclass
class Case:
    """A bad input: ``call()`` must raise naming ``argument``; ``setup()`` makes what it
    needs on disk first (that is left as it was)."""

    call: Callable[[], object]
    argument: str
    setup: Callable[[], object] | None = None


# -- the catalogue --------------------------------------------------------------------

CASES: dict[str, Case] = {
    # Target: what the model and data are
    "model a function": Case(lambda: tabular(model=lambda x: x), "'model'"),
    "model a class": Case(lambda: tabular(model=Net), "'model'"),
    "kind unknown": Case(lambda: tabular(kind="regressor"), "'kind'"),
    "modality unknown": Case(lambda: tabular(modality="audio"), "'modality'"),
    "class_names a string": Case(lambda: tabular(class_names="no,yes"), "'class_names'"),
    "class_names repeated": Case(lambda: tabular(class_names=["x", "x"]), "'class_names'"),
    "data missing": Case(lambda: tabular(data=None), "'data'"),
    "data strings": Case(lambda: tabular(data=np.array([["a", "b", "c"]] * 40)), "'data'"),
    "data 1-d": Case(lambda: tabular(data=X[:, 0]), "'data'"),
    "data 3-d tabular": Case(lambda: tabular(data=X[:, :, None]), "'data'"),
    "data NaN": Case(lambda: tabular(data=np.where(X > 1, np.nan, X)), "'data'"),
    "data infinite": Case(lambda: tabular(data=np.where(X > 1, np.inf, X)), "'data'"),
    "data empty": Case(lambda: tabular(data=X[:0], labels=None, sensitive=None), "'data'"),
    "data a dict": Case(lambda: tabular(data={"x": X}), "'data'"),
    "data a missing parquet": Case(lambda: tabular(data="nowhere.parquet"), "'data'"),
    "labels too short": Case(lambda: tabular(labels=Y[:10]), "'labels'"),
    "labels 2-d": Case(lambda: tabular(labels=Y[:, None].repeat(2, 1)), "'labels'"),
    "labels fractions": Case(lambda: tabular(labels=Y + 0.5), "'labels'"),
    "labels NaN": Case(lambda: tabular(labels=np.where(Y > 0, np.nan, 0.0)), "'labels'"),
    "labels beyond class_names": Case(
        lambda: tabular(labels=Y + 1, class_names=["no", "yes"]), "'labels'"
    ),
    "labels negative with class_names": Case(
        lambda: tabular(labels=Y - 1, class_names=["no", "yes"]), "'labels'"
    ),
    "sensitive too short": Case(lambda: tabular(sensitive={"g": G[:5]}), "sensitive['g']"),
    "sensitive missing values": Case(
        lambda: tabular(sensitive={"g": np.where(Y > 0, None, "a")}), "sensitive['g']"
    ),
    "sensitive a list": Case(lambda: tabular(sensitive=list(G)), "'sensitive'"),
    "sensitive 2-d values": Case(lambda: tabular(sensitive={"g": np.ones((40, 2))}), "sensitive"),
    "feature_names too few": Case(lambda: tabular(feature_names=["a", "b"]), "'feature_names'"),
    "feature_names repeated": Case(
        lambda: tabular(feature_names=["a", "a", "b"]), "'feature_names'"
    ),
    "feature_names on images": Case(lambda: image(feature_names=["a"]), "'feature_names'"),
    "feature_ranges on text": Case(lambda: text(feature_ranges={"a": (0, 1)}), "'feature_ranges'"),
    "categorical unknown column": Case(
        lambda: tabular(categorical_features={"c": ["nope"]}), "'categorical_features'"
    ),
    "categorical no columns": Case(
        lambda: tabular(categorical_features={"c": []}), "'categorical_features'"
    ),
    "one-hot rows with two 1s": Case(
        lambda: one_hot(np.c_[X[:, 0], np.ones(40), np.ones(40)].astype(np.float32)), "'data'"
    ),
    "one-hot rows of 0.5": Case(
        lambda: one_hot(np.c_[X[:, 0], np.full(40, 0.5), np.full(40, 0.5)].astype(np.float32)),
        "'data'",
    ),
    "one-hot rows all 0": Case(
        lambda: one_hot(np.c_[X[:, 0], np.zeros(40), np.zeros(40)].astype(np.float32)), "'data'"
    ),
    "categorical code outside its range": Case(
        lambda: tabular(
            data=np.c_[X[:, :2], np.arange(40) % 7].astype(np.float32),
            feature_names=["a", "b", "race"],
            categorical_features=["race"],
            feature_ranges={"race": (0, 4)},
        ),
        "'data'",
    ),
    "categorical code a fraction": Case(
        lambda: tabular(
            data=np.c_[X[:, :2], (np.arange(40) % 3) + 0.5].astype(np.float32),
            feature_names=["a", "b", "race"],
            categorical_features=["race"],
        ),
        "'data'",
    ),
    "feature_ranges unknown column": Case(
        lambda: tabular(feature_ranges={"nope": (0, 1)}), "'feature_ranges'"
    ),
    "feature_ranges a string bound": Case(
        lambda: tabular(feature_ranges={"x0": ("a", 1)}), "'feature_ranges'"
    ),
    "feature_ranges reversed": Case(
        lambda: tabular(feature_ranges={"x0": (1, 0)}), "'feature_ranges'"
    ),
    "feature_ranges a number": Case(lambda: tabular(feature_ranges={"x0": 3}), "'feature_ranges'"),
    "input_range reversed": Case(lambda: image(input_range=(1, 0)), "'input_range'"),
    "input_range one number": Case(lambda: image(input_range=(1,)), "'input_range'"),
    "image data 3-d": Case(lambda: image(data=IMAGES[:, 0]), "'data'"),
    "text without vocab": Case(lambda: text(vocab=None), "'vocab'"),
    "text ids negative": Case(lambda: text(data=TOKENS - 3), "'data'"),
    "text ids beyond vocab": Case(lambda: text(data=TOKENS + 10), "'data'"),
    "text ids fractions": Case(lambda: text(data=TOKENS + 0.5), "'data'"),
    "generator without latent_dim": Case(
        lambda: Target(Net(4, 3), kind="generator", modality="image", device="cpu"),
        "'latent_dim'",
    ),
    "generator codes of another width": Case(
        lambda: Target(
            Net(4, 3), kind="generator", modality="image", latent_dim=4, data=X, device="cpu"
        ),
        "'data'",
    ),
    "tabular generator without reference_data": Case(
        lambda: Target(Net(4, 3), kind="generator", modality="tabular", latent_dim=4, device="cpu"),
        "'reference_data'",
    ),
    "generator streaming codes": Case(
        lambda: Target(
            Net(4, 3),
            kind="generator",
            modality="tabular",
            latent_dim=4,
            data=torch.utils.data.DataLoader(torch.zeros(8, 4), batch_size=4),
            device="cpu",
        ),
        "'data'",
    ),
    "model on the meta device": Case(
        lambda: tabular(model=nn.Linear(3, 2, device="meta")), "'model'"
    ),
    "batch_size 0": Case(lambda: tabular(batch_size=0), "'batch_size'"),
    "batch_size a float": Case(lambda: tabular(batch_size=2.5), "'batch_size'"),
    "memory_budget_mb 0": Case(lambda: tabular(memory_budget_mb=0), "'memory_budget_mb'"),
    "device tpu": Case(lambda: tabular(device="tpu"), "'device'"),
    "device a number": Case(lambda: tabular(device=0), "'device'"),
    "name a number": Case(lambda: tabular(name=5), "'name'"),
    "metadata a list": Case(lambda: tabular(metadata=[1]), "'metadata'"),
    "metadata names a label_model": Case(
        lambda: tabular(metadata={"label_model": "digit_classifier"}), "'metadata'"
    ),
    "label_model a string": Case(lambda: tabular(label_model="digits"), "'label_model'"),
    "discriminator a string": Case(lambda: tabular(discriminator="d"), "'discriminator'"),
    "sample_size 0": Case(lambda: tabular(sample_size=0), "'sample_size'"),
    "sample_seed negative": Case(lambda: tabular(sample_seed=-1), "'sample_seed'"),
    "anomaly_threshold a string": Case(
        lambda: tabular(anomaly_threshold="x"), "'anomaly_threshold'"
    ),
    "latent_dim 0": Case(
        lambda: Target(Net(), kind="generator", modality="image", latent_dim=0, device="cpu"),
        "'latent_dim'",
    ),
    "reference_data of another width": Case(
        lambda: tabular(kind="autoencoder", model=Net(3, 3), labels=None, reference_data=X[:, :2]),
        "'reference_data'",
    ),
    "train_data of another shape": Case(lambda: image(train_data=IMAGES[:, 0]), "'train_data'"),
    # The model probed on one batch: data and model that do not fit
    "image channels the model lacks": Case(
        lambda: audit(lambda: image(data=np.repeat(IMAGES, 3, axis=1))), "'model'"
    ),
    "tabular width the model lacks": Case(lambda: audit(lambda: tabular(model=Net(5))), "'model'"),
    "model returns a dict": Case(
        lambda: audit(lambda: tabular(model=Returns(lambda x: {"logits": x[:, :2]}))), "'model'"
    ),
    "model returns NaN": Case(
        lambda: audit(lambda: tabular(model=Returns(lambda x: x[:, :2] * float("nan")))),
        "'model'",
    ),
    "model returns probabilities": Case(
        lambda: audit(lambda: tabular(model=Returns(lambda x: torch.softmax(x[:, :2], 1)))),
        "'model'",
    ),
    "3 logits with 2 class_names": Case(
        lambda: audit(lambda: tabular(model=Net(3, 3), class_names=["no", "yes"])), "class_names"
    ),
    "labels 5 with 2 logits": Case(lambda: audit(lambda: tabular(labels=Y * 5)), "'labels'"),
    "labels -1 with 2 logits": Case(lambda: audit(lambda: tabular(labels=Y - 1)), "'labels'"),
    "pixels 0-255 with input_range (0, 1)": Case(
        lambda: audit(lambda: image(data=IMAGES * 255)), "'data'"
    ),
    "autoencoder of another shape": Case(
        lambda: audit(lambda: tabular(kind="autoencoder", labels=None, model=Net(3, 2))),
        "'model'",
    ),
    # run_audit and AuditConfig
    "target not a Target": Case(lambda: da.run_audit(Net()), "'target'"),
    "config a dict": Case(lambda: da.run_audit(tabular(), {"seed": 1}), "'config'"),
    "output_dir a file": Case(
        lambda: audit(output_dir="file.txt"),
        "'output_dir'",
        lambda: Path("file.txt").write_text("x"),
    ),
    "output_dir under a file": Case(
        lambda: audit(output_dir="file.txt/run"),
        "'output_dir'",
        lambda: Path("file.txt").write_text("x"),
    ),
    "output_dir a number": Case(lambda: audit(output_dir=5), "'output_dir'"),
    "families unknown": Case(lambda: audit(families=["overveiw"]), "'families'"),
    "families a number": Case(lambda: audit(families=3), "'families'"),
    "family not for the target": Case(lambda: audit(families=["generative"]), "'generative'"),
    "options for an unknown family": Case(lambda: audit(options={"nope": {}}), "'options'"),
    "options an unknown setting": Case(
        lambda: audit(options={"fairness": {"n_boot": 10}}), "options['fairness']"
    ),
    "options a number": Case(lambda: audit(options={"fairness": 5}), "options['fairness']"),
    "options a list": Case(lambda: audit(options=[1]), "'options'"),
    "seed negative": Case(lambda: audit(seed=-1), "'seed'"),
    "seed a float": Case(lambda: audit(seed=1.5), "'seed'"),
    "seed too large": Case(lambda: audit(seed=2**40), "'seed'"),
    "config device gpu": Case(lambda: audit(device="gpu"), "'device'"),
    "config batch_size 0": Case(lambda: audit(batch_size=0), "'batch_size'"),
    "config memory_budget_mb 0": Case(lambda: audit(memory_budget_mb=0), "'memory_budget_mb'"),
    "max_samples 0": Case(lambda: audit(max_samples=0), "'max_samples'"),
    "sample_seed a string": Case(lambda: audit(sample_seed="0"), "'sample_seed'"),
    "engine unknown": Case(lambda: audit(engine="spark"), "'engine'"),
    "workers 0": Case(lambda: audit(workers=0), "'workers'"),
    "progress a string": Case(lambda: audit(progress="yes"), "'progress'"),
    "ray_address a number": Case(lambda: audit(ray_address=1), "'ray_address'"),
    "n_threads 0": Case(lambda: audit(n_threads=0), "'n_threads'"),
    "n_threads a word": Case(lambda: audit(n_threads="many"), "'n_threads'"),
    "fairness attribute unknown": Case(
        lambda: audit(families=["fairness"], options={"fairness": {"sensitive_features": ["age"]}}),
        "sensitive_features",
    ),
    "fairness without attributes": Case(
        lambda: audit(lambda: tabular(sensitive=None), families=["fairness"]), "sensitive"
    ),
    "fairness metric unknown": Case(
        lambda: audit(families=["fairness"], options={"fairness": {"metrics": ["tpr", "nope"]}}),
        "'metrics'",
    ),
    "explain method unknown": Case(
        lambda: audit(families=["explain"], options={"explain": {"methods": ["shapp"]}}),
        "'methods'",
    ),
    "explain method not for the data": Case(
        lambda: audit(text, families=["explain"], options={"explain": {"methods": ["saliency"]}}),
        "'methods'",
    ),
    "robustness norm unknown": Case(
        lambda: audit(families=["robustness"], options={"robustness": {"norms": ["l3"]}}),
        "'norms'",
    ),
    "robustness epsilons negative": Case(
        lambda: audit(families=["robustness"], options={"robustness": {"epsilons": [-0.1]}}),
        "'epsilons'",
    ),
    "robustness immutable feature unknown": Case(
        lambda: audit(
            families=["robustness"], options={"robustness": {"immutable_features": ["nope"]}}
        ),
        "immutable_features",
    ),
    "n_bootstrap 10**8": Case(
        lambda: audit(options={"fairness": {"n_bootstrap": 10**8}}), "'n_bootstrap'"
    ),
    "n_generated 10**8": Case(
        lambda: audit(options={"generative": {"n_generated": 10**8}}), "'n_generated'"
    ),
    # Saved runs, reports and regrading
    "load a missing run": Case(lambda: da.load_bundle("nowhere"), "nowhere"),
    "load a file as a run": Case(
        lambda: da.load_bundle("file.txt"), "file.txt", lambda: Path("file.txt").write_text("x")
    ),
    "bundle.json not JSON": Case(
        lambda: da.load_bundle("good"),
        "bundle.json is not JSON",
        lambda: (_saved_run(), Path("good/bundle.json").write_text("{")),
    ),
    "evidence null": Case(
        lambda: da.load_bundle("good"),
        "evidence",
        lambda: _edit_bundle(
            lambda d: _set(d, ("families", "overview", "findings", 0, "evidence"), None)
        ),
    ),
    "provenance seconds a string": Case(
        lambda: da.load_bundle("good"),
        "seconds",
        lambda: _edit_bundle(lambda d: _set(d, ("provenance", "seconds"), "abc")),
    ),
    "schema from the future": Case(
        lambda: da.load_bundle("good"),
        "schema version 99",
        lambda: _edit_bundle(lambda d: _set(d, ("schema_version",), 99)),
    ),
    "arrays edited": Case(
        lambda: da.load_bundle("good"),
        "arrays.npz does not match",
        lambda: (_saved_run(), Path("good/arrays.npz").write_bytes(b"PK")),
    ),
    "report of a missing run": Case(
        lambda: __import__("deepaudit.reports", fromlist=["x"]).write_report("nowhere"), "nowhere"
    ),
    "regrade a setting that is not a limit": Case(
        lambda: regrade(da.load_bundle("good"), {"fairness": {"n_bootstrap": 5}}),
        "'limits'",
        _saved_run,
    ),
    "regrade a limit out of range": Case(
        lambda: regrade(da.load_bundle("good"), {"overview": {"min_accuracy": 2}}),
        "'min_accuracy'",
        _saved_run,
    ),
    # Reference models and checkpoints
    "model name unknown": Case(lambda: load_model("resnet"), "'resnet'"),
    "model device unknown": Case(lambda: load_model("lstm", device="tpu"), "'device'"),
    "checkpoint folder empty": Case(
        lambda: load_model("lstm", checkpoint_dir="empty"),
        "No checkpoint",
        lambda: Path("empty").mkdir(),
    ),
    "checkpoint a pickle": Case(
        lambda: load_model("lstm", checkpoint_dir="ck"),
        "pickle",
        lambda: _checkpoint_copy(pickle=True),
    ),
    "manifest without model_kwargs": Case(
        lambda: load_model("lstm", checkpoint_dir="ck"),
        "'model_kwargs'",
        lambda: _checkpoint_copy(drop="model_kwargs"),
    ),
}


def _checkpoint_copy(*, pickle: bool = False, drop: str | None = None) -> None:
    import shutil

    from deepaudit.models.checkpoints import default_checkpoint_dir

    folder = Path("ck")
    folder.mkdir()
    source = default_checkpoint_dir()
    shutil.copy(source / "lstm.json", folder / "lstm.json")
    if pickle:
        torch.save({"w": torch.zeros(1)}, folder / "lstm.safetensors")
        manifest = json.loads((folder / "lstm.json").read_text())
        from deepaudit.models.checkpoints import sha256_file

        manifest["sha256"] = sha256_file(folder / "lstm.safetensors")
        (folder / "lstm.json").write_text(json.dumps(manifest))
    else:
        shutil.copy(source / "lstm.safetensors", folder / "lstm.safetensors")
    if drop:
        manifest = json.loads((folder / "lstm.json").read_text())
        manifest.pop(drop)
        (folder / "lstm.json").write_text(json.dumps(manifest))


# The size and range of every family setting, out of its bounds on either side.
for _family in list_families():
    _config = get_family(_family).config_class
    for _name, _constraints in _config.constraints().items():
        _interval = next((c for c in _constraints if isinstance(c, Interval)), None)
        if _interval is None:
            continue
        _bad = []
        if _interval.low is not None:
            _bad.append(_interval.kind(_interval.low - 1))
        if _interval.high is not None:
            _bad.append(_interval.kind(_interval.high + 1))
        for _value in _bad:
            CASES[f"{_family}.{_name}={_value}"] = Case(
                lambda f=_family, n=_name, v=_value: audit(options={f: {n: v}}), f"'{_name}'"
            )


CLI_CASES: dict[str, tuple[list[str], str, Callable[[], object] | None]] = {
    "audit an unknown model": (["audit", "resnet"], "resnet", None),
    "audit a missing file": (["audit", "nowhere.py:target"], "nowhere.py", None),
    "audit a missing function": (["audit", "make.py:nope"], "nope", _tiny_target_file),
    "audit a function that is no Target": (
        ["audit", "make.py:not_a_target"],
        "Target",
        _tiny_target_file,
    ),
    "audit unknown families": (
        ["audit", "make.py:target", "-f", "overveiw", "-o", "run"],
        "'families'",
        _tiny_target_file,
    ),
    "audit a negative seed": (
        ["audit", "make.py:target", "--seed", "-1", "-o", "run"],
        "'seed'",
        _tiny_target_file,
    ),
    "audit max-samples 0": (
        ["audit", "make.py:target", "--max-samples", "0", "-o", "run"],
        "'max_samples'",
        _tiny_target_file,
    ),
    "audit device tpu": (
        ["audit", "make.py:target", "--device", "tpu", "-o", "run"],
        "'device'",
        _tiny_target_file,
    ),
    "audit engine spark": (
        ["audit", "make.py:target", "--engine", "spark", "-o", "run"],
        "'engine'",
        _tiny_target_file,
    ),
    "audit workers 0": (
        ["audit", "make.py:target", "--workers", "0", "-o", "run"],
        "'workers'",
        _tiny_target_file,
    ),
    "audit out a file": (
        ["audit", "make.py:target", "-o", "make.py"],
        "'output_dir'",
        _tiny_target_file,
    ),
    "report a missing run": (["report", "nowhere"], "nowhere", None),
    "report -o an existing folder": (["report", "good", "-o", "good"], "--output", _saved_run),
    "report --json under a file": (
        ["report", "good", "--json", "file.txt/f.json"],
        "--json",
        lambda: (_saved_run(), Path("file.txt").write_text("x")),
    ),
    "report --markdown under a file": (
        ["report", "good", "--markdown", "file.txt/f.md"],
        "--markdown",
        lambda: (_saved_run(), Path("file.txt").write_text("x")),
    ),
    "report --fail-on unknown": (["report", "good", "--fail-on", "bad"], "--fail-on", _saved_run),
    "regrade a malformed setting": (["regrade", "good", "--set", "fairness"], "--set", _saved_run),
    "regrade a value that is no number": (
        ["regrade", "good", "--set", "overview.min_accuracy=abc"],
        "min_accuracy",
        _saved_run,
    ),
    "regrade a setting that is not a limit": (
        ["regrade", "good", "--set", "overview.n_bins=3"],
        "'limits'",
        _saved_run,
    ),
    "regrade a missing run": (
        ["regrade", "nowhere", "--set", "overview.min_accuracy=0.5"],
        "nowhere",
        None,
    ),
    "dashboard a missing folder": (["dashboard", "nowhere"], "nowhere", None),
    "dashboard port 0": (["dashboard", "--port", "0"], "--port", None),
    "demo an unknown model": (["demo", "-m", "resnet", "-o", "run"], "resnet", None),
    "demo a negative seed": (["demo", "--seed", "-1", "-o", "run"], "'seed'", None),
    "train an unknown model": (["train", "resnet"], "resnet", None),
}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def model_calls(monkeypatch, tmp_path) -> list:
    """Work in an empty folder and record every model call an audit makes."""
    monkeypatch.chdir(tmp_path)
    calls: list = []
    real = Target.call

    def call(self, module, x):
        calls.append(tuple(x.shape))
        return real(self, module, x)

    monkeypatch.setattr(Target, "call", call)
    return calls


def test_the_catalogue_is_large():
    assert len(CASES) + len(CLI_CASES) >= 100
    assert len([name for name in CASES if "=" not in name]) >= 100  # hand-written ones


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_input_is_a_clear_error_before_any_work(name, model_calls, tmp_path):
    case = CASES[name]
    if case.setup is not None:
        case.setup()
    model_calls.clear()  # the setup's own audit does not count
    before = _files(tmp_path)
    with pytest.raises(DeepAuditError) as info:
        case.call()
    assert case.argument in str(info.value), str(info.value)
    assert model_calls == [], "the audit called the model before the error"
    assert _files(tmp_path) == before, "something was written"


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_a_bad_command_line_is_a_clear_error_before_any_work(name, model_calls, tmp_path):
    from deepaudit.cli import app

    arguments, argument, setup = CLI_CASES[name]
    if setup is not None:
        setup()
    model_calls.clear()
    before = _files(tmp_path)
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "200", "NO_COLOR": "1"})
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert argument in output, output
    assert "Traceback" not in output, output
    assert model_calls == []
    assert _files(tmp_path) == before


def test_the_checks_would_see_a_model_call_and_a_file(model_calls, tmp_path):
    """The catalogue's two checks can fail: a good audit calls the model and writes."""
    audit(families=["overview"])
    assert len(model_calls) > 0
    assert (tmp_path / "run" / "bundle.json").is_file()

import textwrap

import pytest
from typer.testing import CliRunner

import deepaudit as da
from deepaudit.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["demo", "audit", "report", "dashboard", "train", "models"])
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


FACTORY = textwrap.dedent(
    """
    import numpy as np, torch
    import deepaudit as da

    def make():
        torch.manual_seed(0)
        X = np.random.default_rng(0).normal(size=(80, 3)).astype("float32")
        return da.Target(torch.nn.Linear(3, 2), modality="tabular", data=X,
                         labels=(X[:, 0] > 0).astype(int), name="mine")
    """
)


def test_audit_a_target_factory_and_say_where_it_went(tmp_path):
    (tmp_path / "mine.py").write_text(FACTORY)
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["audit", f"{tmp_path / 'mine.py'}:make", "--out", str(out), "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    assert "Saved the audit to" in result.output and str(out) in result.output.replace("\n", "")
    bundle = da.load_bundle(out)
    assert bundle.target["name"] == "mine"
    assert bundle.provenance["device"] == "cpu"


def test_bad_input_exits_with_a_clear_message(tmp_path):
    (tmp_path / "mine.py").write_text(FACTORY)
    result = runner.invoke(
        app, ["audit", f"{tmp_path / 'mine.py'}:make", "--out", str(tmp_path / "r"), "--seed", "-3"]
    )
    assert result.exit_code == 2
    assert "The 'seed' parameter of AuditConfig must be an int" in result.output
    result = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "No audit bundle at" in result.output


def test_models_lists_every_reference_model_with_its_measured_floors():
    from deepaudit.models import list_models, zoo_table

    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in list_models():
        assert name in result.output
    first = zoo_table()[0]
    metric = first["floors"][0].split(" ")[0]
    assert f"{first['metrics'][metric]:.4g}" in result.output


def test_train_rejects_an_unknown_model_with_close_names():
    result = runner.invoke(app, ["train", "lstn"])
    assert result.exit_code == 2
    assert "'lstm'" in result.output

"""findings.json against its JSON Schema, shipped in the package: the files real audits
write validate (every kind, modality and family, saved or not, re-graded, stopped part-way,
every reference model of the demo), and the schema rejects what breaks the contract."""

from __future__ import annotations

import copy
import json
import math
from importlib.resources import files

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

import deepaudit as da
from deepaudit.cli import app
from deepaudit.errors import AuditStoppedError
from deepaudit.reports import write_findings
from deepaudit.reports.findings import FINDINGS_SCHEMA, FINDINGS_SCHEMA_VERSION
from deepaudit.results import Evidence, FamilyResult, Finding
from deepaudit.run_folder import sha256_file
from tests.helpers import demo_audits
from tests.reports.helpers import PlantedFamily
from tests.test_regrade import every_family

SCHEMA = json.loads(
    (files("deepaudit.reports") / "findings.schema.json").read_text(encoding="utf-8")
)
VALIDATOR = Draft202012Validator(SCHEMA)
runner = CliRunner()


def problems(document) -> list[tuple[str, str]]:
    """``(where, which keyword)`` of every way ``document`` breaks the schema."""
    return sorted((e.json_path, e.validator) for e in VALIDATOR.iter_errors(document))


def written(bundle: da.AuditBundle, tmp_path) -> dict:
    """The findings.json ``write_findings`` writes for ``bundle``, read back strictly."""
    (path,) = write_findings(bundle, tmp_path / "findings.json")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse)


def _refuse(constant):
    raise ValueError(f"non-standard JSON constant {constant}")


# -- the schema itself ---------------------------------------------------------------------


def _properties(node, where="$"):
    """``(where, schema)`` of every property the schema declares, at any depth."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for sub in node:
            yield from _properties(sub, where)


def test_the_schema_is_packaged_valid_and_names_this_version():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == f"https://deepaudit.dev/schemas/findings-{FINDINGS_SCHEMA_VERSION}.json"
    assert SCHEMA["properties"]["schema"]["const"] == FINDINGS_SCHEMA
    assert SCHEMA["properties"]["schema_version"]["const"] == FINDINGS_SCHEMA_VERSION
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"])  # every field, always
    undescribed = [where for where, sub in _properties(SCHEMA) if not sub.get("description")]
    assert undescribed == []


# -- what real audits write ----------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    ["tabular_target", "image_target", "text_target", "autoencoder_target", "generator_target"],
)
def test_every_family_of_every_kind_and_modality_validates_saved_or_not(fixture, request, tmp_path):
    bundle = every_family(request.getfixturevalue(fixture))
    never_saved = written(bundle, tmp_path)
    assert problems(never_saved) == []
    assert never_saved["bundle_sha256"] is None
    assert never_saved["families"].keys() == bundle.families.keys()
    loaded = da.load_bundle(bundle.save(tmp_path / "run"))
    document = written(loaded, tmp_path)
    assert problems(document) == []
    assert document["bundle_sha256"] == sha256_file(tmp_path / "run" / "bundle.json")
    assert document["incomplete"] is None and document["regraded"] is None


def test_the_files_deepaudit_report_and_regrade_write_validate(classifier_bundle, saved):
    run = saved(classifier_bundle)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    reported = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    assert problems(reported) == []
    assert reported["bundle_sha256"] == sha256_file(run / "bundle.json")
    out = run.parent / "regraded"
    result = runner.invoke(
        app, ["regrade", str(run), "--set", "overview.min_accuracy=0.99", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    regraded = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert problems(regraded) == []
    assert regraded["regraded"] == {"overview": {"min_accuracy": 0.99}}
    assert regraded["bundle_sha256"] is None  # graded again: not the bundle on disk


def test_hostile_names_and_a_plugin_family_validate(planted_bundle, tmp_path):
    document = written(planted_bundle, tmp_path)
    assert problems(document) == []
    assert "planted" in document["families"]


class BreaksFamily(PlantedFamily):
    """A family whose run raises, as a user's model might part-way through an audit."""

    name = "breaks"
    title = "Breaks"

    def run(self, target, config, seed):
        raise RuntimeError("CUDA out of memory (simulated)")


def test_a_run_stopped_part_way_validates_and_says_where(tabular_target, tmp_path):
    da.register_family(BreaksFamily())
    try:
        config = da.AuditConfig(
            families=["overview", "breaks"], progress=False, output_dir=tmp_path / "run"
        )
        with pytest.raises(AuditStoppedError):
            da.run_audit(tabular_target, config)
    finally:
        da.unregister_family("breaks")
    document = written(da.load_bundle(tmp_path / "run"), tmp_path)
    assert problems(document) == []
    assert document["incomplete"] == {
        "stopped_in": "breaks",
        "error": "RuntimeError: CUDA out of memory (simulated)",
        "not_run": ["breaks"],
    }
    assert list(document["families"]) == ["overview"]


def bare_bundle() -> da.AuditBundle:
    """A bundle built by hand, as an old one reads: no provenance, undefined numbers
    (NaN, an infinite interval end, NaN seconds), a subject beyond ASCII."""
    findings = [
        Finding("overview", "auc", "inconclusive", "AUC undefined.", Evidence("roc_auc", math.nan)),
        Finding(
            "overview",
            "class_recall",
            "fail",
            "Class 'Größe' is recognised 12% of the time.",
            Evidence("recall", 0.12, (0.05, math.inf), 0.5, "Größe", (3, 7), "per_class"),
            subject="Größe €",
        ),
    ]
    return da.AuditBundle(
        target={},
        provenance={},
        config={},
        families={"overview": FamilyResult("overview", findings=findings, seconds=math.nan)},
    )


def test_a_bundle_without_provenance_and_with_undefined_numbers_validates(tmp_path):
    document = written(bare_bundle(), tmp_path)
    assert problems(document) == []
    assert document["model"] is None and document["created_at"] is None
    assert document["findings"][0]["id"] == "overview.class_recall.größe"
    assert document["findings"][0]["evidence"]["interval"] == [0.05, None]
    assert document["findings"][1]["evidence"]["value"] is None
    assert document["families"]["overview"]["seconds"] is None


@pytest.mark.slow
def test_every_demo_output_validates(tmp_path):
    """Every reference model's default audit, as ``deepaudit demo`` makes it."""
    seen = []
    for name, bundle in demo_audits():
        bundle.save(tmp_path / name)
        document = written(bundle, tmp_path / name)
        assert problems(document) == [], name
        assert document["bundle_sha256"] is not None and document["incomplete"] is None
        seen.append(name)
    assert seen == ["autoencoder", "cnn", "gan", "lstm", "transformer"]


# -- what the schema rejects ---------------------------------------------------------------


def _severity(document):
    document["findings"][0]["severity"] = "critical"


def _no_findings(document):
    del document["findings"]


def _old_version(document):
    document["schema_version"] = 2


def _unknown_field(document):
    document["verdict"] = "fail"


def _counts_without_a_severity(document):
    del document["counts"]["inconclusive"]


def _short_sha(document):
    document["bundle_sha256"] = "ab" * 31


def _capital_id(document):
    document["findings"][0]["id"] = "Overview.class_recall"


def _incomplete_without_not_run(document):
    document["incomplete"] = {"stopped_in": "explain", "error": "RuntimeError: boom"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_severity, ("$.findings[0].severity", "enum")),
        (_no_findings, ("$", "required")),
        (_old_version, ("$.schema_version", "const")),
        (_unknown_field, ("$", "additionalProperties")),
        (_counts_without_a_severity, ("$.counts", "required")),
        (_short_sha, ("$.bundle_sha256", "pattern")),
        (_capital_id, ("$.findings[0].id", "pattern")),
        (_incomplete_without_not_run, ("$.incomplete", "required")),
    ],
)
def test_the_schema_rejects_a_broken_document_for_that_reason_alone(mutate, expected, tmp_path):
    document = written(bare_bundle(), tmp_path)
    broken = copy.deepcopy(document)
    mutate(broken)
    assert problems(document) == []
    assert problems(broken) == [expected]

"""Reports of the reference models with every applicable family: within the size budget.

Slow (a full audit of each model): run with ``pytest -m slow tests/reports``.
"""

from __future__ import annotations

import markupsafe
import pytest

import deepaudit as da
from deepaudit.reports import write_report
from deepaudit.reports.render import MAX_REPORT_BYTES
from tests.reports.helpers import parse_report


@pytest.mark.slow
@pytest.mark.parametrize("name", ["autoencoder", "cnn", "gan", "lstm", "transformer"])
def test_reference_model_report_fits_the_budget(name, tmp_path):
    from deepaudit.families import get_family, list_families
    from deepaudit.models import get_model_spec, load_model

    assert get_model_spec(name).demo
    target = load_model(name, device="cpu")
    families = [f for f in list_families() if get_family(f).applies_to(target) is None]
    config = da.AuditConfig(
        families=families, max_samples=300, output_dir=tmp_path / name, progress=False
    )
    bundle = da.run_audit(target, config)
    html = write_report(tmp_path / name).read_text()
    assert len(html.encode()) <= MAX_REPORT_BYTES
    parser = parse_report(html)
    for finding in bundle.findings:  # every sentence is there, escaped
        assert str(markupsafe.escape(finding.message)) in html
    assert parser.sources == []
    issues = bundle.issues
    listed = sorted(i for issue in issues for i in issue.findings)
    assert listed == sorted(f.id for f in bundle.findings)  # each finding under one issue
    if name == "cnn":  # the colour cue: its gaps, recolouring flips and attribution, one issue
        colour = next(i for i in issues if i.id == "attribute.colour")
        assert colour is issues[0] and colour.severity == "fail"
        checks = {f.check for f in bundle.findings if f.id in colour.findings}
        assert {"counterfactual", "colour_share", "demographic_parity"} <= checks
        assert not any(i.id == "attribute.cue" for i in issues)  # cue is derived from colour
    assert parser.ids >= {"issue-" + i.id.replace(".", "-") for i in issues}

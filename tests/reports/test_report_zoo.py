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

"""What importing deepaudit costs, measured in fresh processes, and which part may import
which.

The reading side (the package root, results, reports, the CLI's help, report and
regrade verbs, building a config) must leave torch and scikit-learn unimported: a viewer
of saved audits should not pay for the compute stack. These tests start a new Python for
each check, because an import already made by another test would hide one here.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import deepaudit
from tests.test_migration import unpack

PACKAGE = Path(deepaudit.__file__).parent
HEAVY = ("torch", "sklearn")


def modules_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``code`` in a fresh Python."""
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def cli_modules_after(*args: str) -> list[str]:
    """Heavy libraries loaded by ``deepaudit ARGS`` (the CLI run in-process, in a fresh one)."""
    code = (
        "import contextlib, io\n"
        "from deepaudit.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        app({list(args)!r})\n    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), exc.code\n"
    )
    return modules_after(code)


def test_importing_the_package_results_and_reports_leaves_torch_out():
    assert modules_after("import deepaudit, deepaudit.results, deepaudit.reports") == []


def test_reading_the_public_names_of_the_reading_side_leaves_torch_out():
    code = (
        "import deepaudit as da\n"
        "da.AuditBundle, da.load_bundle, da.Finding, da.list_families()\n"
        "da.AuditConfig(families=['overview', 'fairness'], options={'fairness': {'n_bootstrap': 5}})\n"
        "da.ExplainConfig(), da.RobustnessConfig(), da.GenerativeConfig()\n"
        "[da.get_family(n).result_class for n in da.list_families()]\n"
    )
    assert modules_after(code) == []


def test_cli_help_leaves_torch_out():
    assert cli_modules_after("--help") == []


@pytest.fixture(scope="module")
def v1_run(tmp_path_factory) -> Path:
    return unpack("transformer", tmp_path_factory.mktemp("v1"))


def test_loading_and_reporting_a_bundle_leaves_torch_out(v1_run):
    code = (
        "import deepaudit as da\nfrom deepaudit.reports import render_html\n"
        f"render_html(da.load_bundle({str(v1_run)!r}))\n"
    )
    assert modules_after(code) == []


def test_cli_report_leaves_torch_out(v1_run, tmp_path):
    assert cli_modules_after("report", str(v1_run), "-o", str(tmp_path / "r.html")) == []


def _imports_of(path: Path) -> list[str]:
    """Every module a file imports, at its top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("part", ["audit", "reports", "dashboard"])
def test_the_audit_layer_and_the_reading_side_never_import_the_zoo(part):
    """The zoo uses the audit layer, never the reverse (the dashboard's Run page may load
    a reference model to audit it: that is the one place the reading side reaches it)."""
    allowed = {"dashboard": {"runs.py", "run.py"}}.get(part, set())
    offenders = {
        str(path.relative_to(PACKAGE)): name
        for path in (PACKAGE / part).rglob("*.py")
        if path.name not in allowed
        for name in _imports_of(path)
        if name == "deepaudit.models" or name.startswith("deepaudit.models.")
    }
    assert offenders == {}


def test_the_schema_and_results_modules_import_only_numpy_and_the_standard_library():
    for module in ("results.py", "schema.py", "families.py", "configs.py", "grading.py"):
        third_party = {
            name.split(".")[0]
            for name in _imports_of(PACKAGE / module)
            if name.split(".")[0] not in sys.stdlib_module_names
        }
        assert third_party <= {"numpy", "deepaudit", "pandas"}, module


def test_a_lazy_name_is_not_shadowed_by_a_submodule_of_the_same_name():
    code = (
        "from deepaudit.audit.generative import memorisation\n"
        "import deepaudit.audit.generative.copies\n"
        "from deepaudit.audit.generative import memorisation as again\n"
        "assert callable(memorisation) and memorisation.__name__ == 'memorisation'\n"
        "assert again is memorisation\n"
    )
    modules_after(code)  # raises if the assertions fail

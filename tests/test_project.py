"""The project's own promises: README's commands are the ones CI and make run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_gives_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start_commands()
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in [line.strip() for line in ci]


def test_make_targets_run_the_demo_and_pytest():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:.*\n\t\$\(BIN\)/deepaudit demo$", makefile, re.M)
    assert re.search(r"^test:.*\n\t\$\(BIN\)/python -m pytest$", makefile, re.M)
    # torch is installed pinned, before the package, so a CUDA build is never pulled in
    install = makefile.index('pip install --quiet "torch==2.13.0"')
    package = makefile.index('pip install --quiet -e ".[dev,ray,hf,vision]"')
    assert install < package
    # and torchvision pinned beside the package: its newest build would pull torch 2.14
    line = makefile[package : makefile.index("\n", package)]
    assert '"torch==2.13.0"' in line and '"torchvision==0.28.0"' in line

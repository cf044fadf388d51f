"""The ``deepaudit`` command line: demo, audit, report, dashboard, train, models."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from deepaudit.errors import DeepAuditError

app = typer.Typer(
    name="deepaudit",
    help="Audit PyTorch models: why they decide, for whom they fail, how easily they break.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code=2)


def _load_target(name_or_path: str, device: str):
    """A zoo model name, or ``path/to/file.py:function`` returning a Target."""
    from deepaudit.audit.target import Target

    if ":" in name_or_path and name_or_path.split(":", 1)[0].endswith(".py"):
        file, function = name_or_path.rsplit(":", 1)
        path = Path(file)
        if not path.is_file():
            raise typer.BadParameter(f"no such file: {file}", param_hint="NAME_OR_PATH")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # the user's own code, run at the user's request
        factory = getattr(module, function, None)
        if factory is None:
            raise typer.BadParameter(f"{file} has no {function!r}", param_hint="NAME_OR_PATH")
        target = factory()
        if not isinstance(target, Target):
            raise typer.BadParameter(
                f"{name_or_path} returned {type(target).__name__}, expected a deepaudit.Target",
                param_hint="NAME_OR_PATH",
            )
        return target.to(device)
    if "." not in name_or_path:
        from deepaudit.models import load_model

        return load_model(name_or_path, device=device)
    raise typer.BadParameter(
        "expected a reference model name (see `deepaudit models`) or FILE.py:FUNCTION",
        param_hint="NAME_OR_PATH",
    )


def _applicable_families(target, families: list[str] | None) -> list[str]:
    from deepaudit.audit.registry import get_family, list_families

    if families:
        return families
    return [f for f in list_families() if get_family(f).applies_to(target) is None]


def _write_report(run_dir: Path, out: Path | None = None) -> Path | None:
    """Render a run folder's HTML report when the reports part is installed."""
    try:
        from deepaudit.reports import write_report
    except ImportError:
        return None
    return write_report(run_dir, out or run_dir / "report.html")


@app.command()
def audit(
    name_or_path: Annotated[
        str, typer.Argument(help="A reference model name, or FILE.py:FUNCTION returning a Target.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder to write.")] = Path(
        "runs/audit"
    ),
    families: Annotated[
        list[str] | None, typer.Option("--families", "-f", help="Families to run (repeat).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    max_samples: Annotated[
        int | None, typer.Option(help="Audit at most this many samples.")
    ] = None,
) -> None:
    """Audit one model and save the run folder (bundle.json, arrays.npz, report.html)."""
    from deepaudit.audit import AuditConfig, run_audit

    try:
        target = _load_target(name_or_path, device)
        config = AuditConfig(
            families=_applicable_families(target, families),
            seed=seed,
            device=device,
            max_samples=max_samples,
            output_dir=out,
        )
        bundle = run_audit(target, config)
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    report = _write_report(out)
    _print_findings(bundle)
    console.print(
        f"Saved the audit to [bold]{out}[/]" + (f"; report: [bold]{report}[/]" if report else "")
    )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepaudit audit`.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="HTML file to write.")
    ] = None,
) -> None:
    """Render a saved audit as one self-contained HTML file."""
    from deepaudit.results import load_bundle

    try:
        load_bundle(run_dir)  # fail early and clearly on a bad folder
        path = _write_report(run_dir, output)
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    if path is None:
        raise _fail(RuntimeError("the HTML report is not part of this version of deepaudit"))
    console.print(f"Wrote [bold]{path}[/]")


@app.command()
def dashboard(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Run folders to open.")] = None,
    port: Annotated[int, typer.Option(help="Port on localhost.")] = 8501,
) -> None:
    """Start the interactive dashboard on localhost."""
    app_file = Path(__file__).parent / "dashboard" / "app.py"
    if not app_file.is_file():
        raise _fail(RuntimeError("the dashboard is not part of this version of deepaudit"))
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--",
    ]
    command += [str(p) for p in run_dirs or []]
    console.print(f"Dashboard at [bold]http://127.0.0.1:{port}[/] (Ctrl+C stops it)")
    raise typer.Exit(subprocess.call(command))


@app.command()
def train(
    name: Annotated[
        str | None, typer.Argument(help="Model to train (see `deepaudit models`).")
    ] = None,
    all_models: Annotated[bool, typer.Option("--all", help="Train every reference model.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    out_dir: Annotated[
        Path | None, typer.Option(help="Where checkpoints go (default: the package's own).")
    ] = None,
) -> None:
    """Train reference models and write their safetensors checkpoints and manifests."""
    from deepaudit.models import list_models, train_model
    from deepaudit.models.checkpoints import default_checkpoint_dir
    from deepaudit.models.registry import training_order

    if not all_models and name is None:
        raise _fail(typer.BadParameter("give a model NAME or --all"))
    names = training_order(list_models()) if all_models else [name]
    try:
        for model_name in names:
            console.print(f"Training [bold]{model_name}[/] on {device}...")
            manifest = train_model(model_name, device=device, seed=seed, out_dir=out_dir)
            where = out_dir or default_checkpoint_dir()
            console.print(f"  wrote {Path(where) / (model_name + '.safetensors')} and its manifest")
            metrics = ", ".join(
                f"{k}={v:.4g}"
                for k, v in manifest.get("metrics", {}).items()
                if isinstance(v, int | float)
            )
            console.print(f"  {model_name}: {metrics}")
    except DeepAuditError as exc:
        raise _fail(exc) from exc


@app.command()
def models() -> None:
    """List the reference model zoo with its quality floors and measured quality."""
    from rich.markup import escape

    from deepaudit.models import zoo_table

    table = Table(title="deepaudit reference models")
    for column in ("name", "kind", "modality", "architecture", "floors (measured)", "s/epoch"):
        table.add_column(column)
    for row in zoo_table():
        metrics = row.get("metrics") or {}
        met = row.get("floors_met") or {}
        floors = []
        for floor in row["floors"]:
            metric = floor.split(" ")[0]
            value = metrics.get(metric)
            mark = "[green]✓[/]" if met.get(floor) else "[red]✗[/]"
            shown = "untrained" if value is None else f"{value:.4g}"
            floors.append(f"{mark} {escape(floor)} ({shown})")
        table.add_row(
            row["name"],
            row["kind"],
            row["modality"],
            escape(row["architecture"].split(":")[0]),
            "\n".join(floors),
            "" if row.get("seconds_per_epoch") is None else f"{row['seconds_per_epoch']:.2f}",
        )
    console.print(table)
    console.print("Model cards: deepaudit/models/cards/<name>.md")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the runs.")] = Path(
        "runs/demo"
    ),
    full: Annotated[bool, typer.Option("--full", help="Thorough budgets (slower).")] = False,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    only: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Audit only these models.")
    ] = None,
) -> None:
    """Audit every reference model on its embedded data and write the reports."""
    from deepaudit.audit import AuditConfig, run_audit
    from deepaudit.models import list_models, load_model

    names = only or list_models()
    started = time.perf_counter()
    written = []
    try:
        for i, name in enumerate(names, 1):
            console.rule(f"[{i}/{len(names)}] {name}")
            target = load_model(name, device=device)
            config = AuditConfig(
                families=_applicable_families(target, None),
                seed=seed,
                device=device,
                max_samples=None if full else 2000,
                output_dir=out / name,
            )
            bundle = run_audit(target, config)
            report_path = _write_report(out / name)
            _print_findings(bundle)
            written.append((name, out / name, report_path))
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    index = _write_index(out, written)
    console.rule("done")
    for name, run_dir, report_path in written:
        console.print(f"{name:14s} {run_dir}" + (f"  report: {report_path}" if report_path else ""))
    if index:
        console.print(f"Index of reports: [bold]{index}[/]")
    console.print(f"Finished in {time.perf_counter() - started:.0f} s.")


def _write_index(out: Path, written) -> Path | None:
    try:
        from deepaudit.reports import write_index
    except ImportError:
        return None
    return write_index(out, [run_dir for _, run_dir, _ in written])


def _print_findings(bundle) -> None:
    colours = {"fail": "red", "warn": "yellow", "inconclusive": "magenta", "pass": "green"}
    for finding in bundle.findings:
        colour = colours[finding.severity]
        console.print(
            f"  [{colour}]{finding.severity:>12}[/] {finding.family}: {finding.message}",
            highlight=False,
        )


def main() -> None:  # pragma: no cover - entry point
    app()

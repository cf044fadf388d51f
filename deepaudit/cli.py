"""The ``deepaudit`` command line: demo, audit, report, regrade, compare, dashboard, train,
models."""

from __future__ import annotations

import importlib.util
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table

from deepaudit.errors import AuditStoppedError, DeepAuditError

app = typer.Typer(
    name="deepaudit",
    help="Audit PyTorch models: why they decide, for whom they fail, how easily they break.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from deepaudit._version import __version__

        console.print(f"deepaudit {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Audit PyTorch models: why they decide, for whom they fail, how easily they break."""


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``127.0.0.1:port`` now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _fail(exc: Exception) -> typer.Exit:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
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
    from deepaudit.families import get_family, list_families

    if families:  # repeated (-f a -f b) or comma-separated (-f a,b), or both
        return [name.strip() for value in families for name in value.split(",") if name.strip()]
    return [f for f in list_families() if get_family(f).applies_to(target) is None]


def _write_report(run_dir: Path, out: Path | None = None) -> Path | None:
    """Render a run folder's HTML report when the reports part is installed."""
    try:
        from deepaudit.reports import write_report
    except ImportError:
        return None
    return write_report(run_dir, out or run_dir / "report.html")


class FailOn(StrEnum):
    """The severity from which ``deepaudit audit``, ``report`` or ``regrade --fail-on`` exits with 1."""

    fail = "fail"
    warn = "warn"
    inconclusive = "inconclusive"
    never = "never"


@app.command()
def audit(
    name_or_path: Annotated[
        str, typer.Argument(help="A reference model name, or FILE.py:FUNCTION returning a Target.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder to write.")] = Path(
        "runs/audit"
    ),
    families: Annotated[
        list[str] | None,
        typer.Option(
            "--families",
            "-f",
            help="Families to run: repeat the option or separate by commas "
            "(-f overview,fairness). Default: every family that applies.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    max_samples: Annotated[
        int | None, typer.Option(help="Audit at most this many samples.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="Where per-batch work runs: local, or ray (deepaudit[ray]).")
    ] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Ray workers (default: one per GPU, else per CPU).")
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit with status 1 when a finding is this severe or worse (for CI).",
        ),
    ] = FailOn.never,
) -> None:
    """Audit one model and save the run folder: bundle.json and arrays.npz, with
    report.html, findings.json and findings.md made from them."""
    from deepaudit.audit import AuditConfig, run_audit

    try:
        target = _load_target(name_or_path, device)
        config = AuditConfig(
            families=_applicable_families(target, families),
            seed=seed,
            device=device,
            max_samples=max_samples,
            output_dir=out,
            engine=engine,
            workers=workers,
        )
        bundle = run_audit(target, config)
    except AuditStoppedError as exc:
        if exc.saved_to is not None:  # what finished, reported as incomplete
            written = _write_run_files(exc.saved_to, exc.bundle)
            console.print(f"Saved the incomplete audit to [bold]{escape_markup(str(out))}[/]")
            _print_written(written)
        raise _fail(exc) from exc
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    written = _write_run_files(out, bundle)
    _print_findings(bundle)
    console.print(f"Saved the audit to [bold]{escape_markup(str(out))}[/]")
    _print_written(written)
    _exit_on(bundle.worst_severity, fail_on)


def _write_run_files(run_dir: Path, bundle) -> list[Path]:
    """The report and the findings files of a saved run, when the reports part is
    installed (each records the bundle it was made from)."""
    report = _write_report(run_dir)
    if report is None:
        return []
    from deepaudit.reports import write_findings

    return [report, *write_findings(bundle, run_dir / "findings.json", run_dir / "findings.md")]


def _print_written(paths: list[Path]) -> None:
    for path in paths:
        console.print(f"Wrote [bold]{escape_markup(str(path))}[/]")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `deepaudit audit`.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file to write (default: RUN_DIR/report.html)."),
    ] = None,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Findings as JSON (default: findings.json beside the HTML)."),
    ] = None,
    markdown_path: Annotated[
        Path | None,
        typer.Option(
            "--markdown", help="Findings as Markdown (default: findings.md beside the HTML)."
        ),
    ] = None,
    findings: Annotated[
        bool,
        typer.Option("--findings/--no-findings", help="Write the JSON and Markdown findings."),
    ] = True,
    junit_path: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write JUnit XML: one test case per check."),
    ] = None,
    sarif_path: Annotated[
        Path | None,
        typer.Option("--sarif", help="Also write SARIF 2.1.0: one result per check."),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit with status 1 when a finding is this severe or worse (for CI); in "
            "JUnit and SARIF, such findings are the failures.",
        ),
    ] = FailOn.never,
) -> None:
    """Render a saved audit as one self-contained HTML file, plus its findings for CI."""
    from deepaudit.results import load_bundle

    try:
        bundle = load_bundle(run_dir)  # fail early and clearly on a bad folder
        html_path = output or run_dir / "report.html"
        targets = [("--output", html_path)]
        if findings:
            targets += [
                ("--json", json_path or html_path.parent / "findings.json"),
                ("--markdown", markdown_path or html_path.parent / "findings.md"),
            ]
        targets += [(o, p) for o, p in (("--junit", junit_path), ("--sarif", sarif_path)) if p]
        for option, target_path in targets:  # every file checked before any is written
            _check_writable_file(target_path, option)
        path = _write_report(run_dir, output)
        if path is None:
            raise _fail(RuntimeError("the HTML report is not part of this version of deepaudit"))
        written = [path]
        if findings:
            from deepaudit.reports import write_findings

            written += write_findings(
                bundle,
                json_path or path.parent / "findings.json",
                markdown_path or path.parent / "findings.md",
            )
        if junit_path or sarif_path:
            from deepaudit.reports import write_junit, write_sarif

            gate = "fail" if fail_on is FailOn.never else fail_on.value
            if junit_path:
                written.append(write_junit(bundle, junit_path, fail_on=gate))
            if sarif_path:
                written.append(
                    write_sarif(bundle, sarif_path, fail_on=gate, artifact=run_dir / "bundle.json")
                )
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    for file in written:
        console.print(f"Wrote [bold]{escape_markup(str(file))}[/]")
    _exit_on(bundle.worst_severity, fail_on)


def _check_writable_file(path: Path, option: str) -> None:
    """Refuse a file path that is a folder, or whose folder this process cannot write."""
    import os

    if path.is_dir():
        raise _fail(
            typer.BadParameter(
                f"{option} {str(path)!r} is a folder; give a file path "
                f"(e.g. {str(path / 'report.html')!r})",
                param_hint=option,
            )
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise _fail(
            typer.BadParameter(
                f"{option} cannot write {str(path)!r}: {str(parent)!r} is not a folder this "
                "process can write",
                param_hint=option,
            )
        )


def _exit_on(worst: str, fail_on: FailOn) -> None:
    """Exit with status 1 when the worst finding is ``fail_on`` or worse (for CI)."""
    from deepaudit.results import SEVERITIES

    console.print(f"Worst finding: {worst}", highlight=False)
    if fail_on is not FailOn.never and SEVERITIES.index(worst) <= SEVERITIES.index(fail_on.value):
        console.print(f"Exit status 1: a finding is {fail_on.value} or worse (--fail-on).")
        raise typer.Exit(code=1)


@app.command()
def regrade(
    run_dir: Annotated[Path, typer.Argument(help="A saved run folder (bundle.json).")],
    settings: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="A limit to grade with, as FAMILY.LIMIT=VALUE (repeat), e.g. "
            "fairness.max_difference=0.05.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder of the new findings (default: RUN_DIR/regraded)."),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on", help="Exit with status 1 when a finding is this severe or worse."
        ),
    ] = FailOn.never,
) -> None:
    """Grade a saved audit again under other limits, from its results alone (no model,
    no data, no torch), and write the new findings as JSON and Markdown."""
    from deepaudit.grading import changes, parse_limits
    from deepaudit.grading import regrade as regrade_bundle
    from deepaudit.reports.findings import write_findings
    from deepaudit.results import load_bundle

    try:
        limits = parse_limits(settings)
        bundle = load_bundle(run_dir)
        graded = regrade_bundle(bundle, limits)
        folder = out or run_dir / "regraded"
        written = write_findings(graded, folder / "findings.json", folder / "findings.md")
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    changed = changes(bundle, graded)
    if changed:
        table = Table(title=f"{len(changed)} findings changed")
        for column in ("finding", "before", "after"):
            table.add_column(column)
        for key, before, after in changed:
            table.add_row(escape_markup(key), before or "—", after or "—")
        console.print(table)
    else:
        console.print("No finding changed severity.")
    for file in written:
        console.print(f"Wrote [bold]{escape_markup(str(file))}[/]")
    _exit_on(graded.worst_severity, fail_on)


class CompareFailOn(StrEnum):
    """When ``deepaudit compare`` exits with 1."""

    regression = "regression"
    change = "change"
    never = "never"


@app.command()
def compare(
    base_run: Annotated[Path, typer.Argument(help="The baseline run folder.")],
    new_run: Annotated[Path, typer.Argument(help="The run folder to compare with it.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the changes as JSON.")
    ] = None,
    fail_on: Annotated[
        CompareFailOn,
        typer.Option(
            "--fail-on",
            help="Exit with status 1 on a regression (a new or worsened finding, or an "
            "incomplete new run), on any change, or never.",
        ),
    ] = CompareFailOn.never,
) -> None:
    """List the findings that are new, worse, better or gone in NEW_RUN against
    BASE_RUN, matched by their stable ids (no model, no data, no torch)."""
    import json

    from deepaudit.comparison import compare_runs, regressions, same_subject
    from deepaudit.results import load_bundle

    try:
        base, new = load_bundle(base_run), load_bundle(new_run)
        if json_path is not None:
            _check_writable_file(json_path, "--json")
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    warning = same_subject(base, new)
    if warning:
        err_console.print(f"[yellow]warning:[/] {escape_markup(warning)}", highlight=False)
    changes = compare_runs(base, new)
    if changes:
        table = Table(title=f"{len(changes)} findings changed")
        for column in ("change", "finding", "before", "after", "finding now"):
            table.add_column(column, overflow="fold")
        for c in changes:
            table.add_row(
                c.kind,
                escape_markup(c.id),
                c.before or "—",
                c.after or "—",
                escape_markup(c.message),
            )
        console.print(table)
    else:
        console.print("No finding changed severity.")
    found = regressions(changes)
    console.print(f"{len(found)} regressions, {len(changes) - len(found)} other changes.")
    if json_path is not None:
        from deepaudit.reports._io import atomic_write_text

        document = {
            "base": {"path": str(base_run), "bundle_sha256": base.source_sha256},
            "new": {"path": str(new_run), "bundle_sha256": new.source_sha256},
            "regressions": len(found),
            "changes": [c.to_dict() for c in changes],
        }
        written = atomic_write_text(json_path, json.dumps(document, indent=2) + "\n")
        console.print(f"Wrote [bold]{escape_markup(str(written))}[/]")
    failing = found if fail_on is CompareFailOn.regression else changes
    if fail_on is not CompareFailOn.never and failing:
        console.print(f"Exit status 1: {len(failing)} {fail_on.value}s (--fail-on).")
        raise typer.Exit(code=1)


@app.command()
def dashboard(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Run folders, or folders of runs, to open (default: runs/demo, whose "
            "reference audits are run the first time)."
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on localhost.")] = 8501,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Also open it in the default web browser.")
    ] = False,
) -> None:
    """Start the interactive dashboard on localhost and print its address."""
    import os
    import sys

    app_file = Path(__file__).parent / "dashboard" / "app.py"
    if not app_file.is_file():
        raise _fail(RuntimeError("the dashboard is not part of this version of deepaudit"))
    from deepaudit.dashboard.runs import discover_runs

    _, problems = discover_runs(run_dirs or [])
    if problems:
        raise _fail(typer.BadParameter(" ".join(problems), param_hint="RUN_DIRS"))
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
        "false" if open_browser else "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--",
    ]
    command += [str(p.resolve()) for p in run_dirs or []]
    if not _port_free(port):
        raise _fail(
            typer.BadParameter(
                f"port {port} on 127.0.0.1 is already in use (another dashboard?); "
                f"choose another with --port, e.g. --port {port + 1}",
                param_hint="--port",
            )
        )
    console.print(f"Dashboard at [bold]http://127.0.0.1:{port}[/] (Ctrl+C stops it)")
    sys.stdout.flush()
    if os.name == "posix":  # become the server, so its process id is this one's
        os.execv(sys.executable, command)
    import subprocess  # pragma: no cover - Windows has no exec

    raise typer.Exit(subprocess.call(command))  # pragma: no cover


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
    full: Annotated[
        bool,
        typer.Option("--full", help="Thorough budgets of every family, on all samples (slower)."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    only: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Audit only these models (repeat).")
    ] = None,
) -> None:
    """Audit every reference model on its held-out data; write a report each and an index.

    A model whose audit fails is reported and skipped; the others still get their reports,
    and the command then exits with status 1.
    """
    from deepaudit.audit import AuditConfig
    from deepaudit.models import get_model_spec, list_models

    try:  # bad names, seeds and devices fail before any work starts
        names = only or [name for name in list_models() if get_model_spec(name).demo]
        for name in names:
            get_model_spec(name)
        AuditConfig(seed=seed, device=device)
    except DeepAuditError as exc:
        raise _fail(exc) from exc
    budgets = (
        "thorough budgets, all samples" if full else f"default budgets, {DEMO_SAMPLES} samples"
    )
    console.print(f"Auditing {len(names)} reference models ({budgets}) into [bold]{out}[/]")
    started = time.perf_counter()
    written, timings, failed = [], [], []
    for i, name in enumerate(names, 1):
        console.rule(f"[{i}/{len(names)}] {name}")
        try:
            timing = _demo_model(name, out / name, full=full, seed=seed, device=device)
        except Exception as exc:  # one model's failure must not cost the others their reports
            err_console.print(
                f"[bold red]error:[/] the audit of {name} failed: "
                f"{escape_markup(f'{type(exc).__name__}: {exc}')}",
                highlight=False,
            )
            err_console.print_exception(max_frames=4)
            failed.append(name)
            continue
        written.append((name, out / name, timing[-1]))
        timings.append(timing)
    index = _write_index(out, written) if written else None
    console.rule("done")
    if timings:
        _print_timings(timings)
    for name, run_dir, report_path in written:
        console.print(f"{name:14s} {escape_markup(str(report_path or run_dir))}", highlight=False)
    if index:
        console.print(f"Index of reports: [bold]{escape_markup(str(index))}[/]")
    console.print(f"Finished in {time.perf_counter() - started:.0f} s.")
    if failed:
        err_console.print(f"[bold red]The audit failed for: {', '.join(failed)}[/]")
        raise typer.Exit(code=1)


def _demo_model(name: str, run_dir: Path, *, full: bool, seed: int, device: str) -> tuple:
    """Audit one reference model, write its report and findings; return its timings."""
    from deepaudit.audit import AuditConfig, run_audit
    from deepaudit.models import load_model

    t0 = time.perf_counter()
    target = load_model(name, device=device)
    families = _applicable_families(target, None)
    loaded = time.perf_counter() - t0
    console.print(f"  loaded in {loaded:.1f} s; families: {', '.join(families)}")
    config = AuditConfig(
        families=families,
        options={f: _thorough_options(f) for f in families} if full else {},
        seed=seed,
        device=device,
        max_samples=None if full else DEMO_SAMPLES,
        output_dir=run_dir,
    )
    bundle = run_audit(target, config)
    console.print(
        "  " + " · ".join(f"{fam} {r.seconds:.1f} s" for fam, r in bundle.families.items()),
        highlight=False,
    )
    t1 = time.perf_counter()
    report_path = _write_report(run_dir)
    if report_path is not None:
        from deepaudit.reports import write_findings

        write_findings(bundle, run_dir / "findings.json", run_dir / "findings.md")
    reported = time.perf_counter() - t1
    _print_findings(bundle, quiet_passes=True)
    total = time.perf_counter() - t0
    return (name, loaded, bundle.families, reported, total, bundle, report_path)


#: Evaluation samples per model in `deepaudit demo` (a seeded subset; --full uses all).
DEMO_SAMPLES = 2000


def _thorough_options(family: str):
    """A family's thorough settings (its config's ``thorough()``), else its defaults."""
    from deepaudit.families import get_family

    config_class = get_family(family).config_class
    thorough = getattr(config_class, "thorough", None)
    return thorough() if callable(thorough) else config_class()


def _print_timings(timings) -> None:
    families = list(dict.fromkeys(f for _, _, results, *_ in timings for f in results))
    table = Table(title="Time per model and family (seconds)")
    for column in ("model", "load", *families, "report", "total", "worst"):
        text = column in ("model", "worst")
        table.add_column(column, justify="left" if text else "right", no_wrap=text)
    for name, loaded, results, reported, total, bundle, _ in timings:
        table.add_row(
            name,
            f"{loaded:.1f}",
            *[f"{results[f].seconds:.1f}" if f in results else "—" for f in families],
            f"{reported:.1f}",
            f"{total:.1f}",
            bundle.worst_severity,
        )
    console.print(table)


def _write_index(out: Path, written) -> Path | None:
    try:
        from deepaudit.reports import write_index
    except ImportError:
        return None
    return write_index(out, [run_dir for _, run_dir, _ in written])


def _print_findings(bundle, quiet_passes: bool = False) -> None:
    colours = {"fail": "red", "warn": "yellow", "inconclusive": "magenta", "pass": "green"}
    passes = 0
    for finding in bundle.findings:
        if quiet_passes and finding.severity == "pass":
            passes += 1
            continue
        colour = colours[finding.severity]
        console.print(
            f"  [{colour}]{finding.severity:>12}[/] {escape_markup(finding.family)}: "
            f"{escape_markup(finding.message)}",
            highlight=False,
        )
    if passes:
        console.print(f"  [green]{'pass':>12}[/] {passes} more checks passed", highlight=False)


def main() -> None:  # pragma: no cover - entry point
    app()

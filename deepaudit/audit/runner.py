"""``run_audit``: run the configured audit families over a Target into an AuditBundle."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from deepaudit._version import __version__
from deepaudit.audit.config import AuditConfig
from deepaudit.audit.device import (
    default_threads,
    limited_threads,
    resolve_device,
    seed_everything,
)
from deepaudit.audit.engine import open_engine, use_engine
from deepaudit.audit.target import Target
from deepaudit.errors import (
    AUDIT_STOPPED_MESSAGE,
    FAMILY_NOT_APPLICABLE_MESSAGE,
    AuditStoppedError,
    DeepAuditError,
    NotApplicableError,
    article,
    described,
    parameter_error,
)
from deepaudit.families import Family, get_family
from deepaudit.results import AuditBundle, FamilyResult

_LIBRARIES = (
    "torch",
    "captum",
    "shap",
    "lime",
    "fairlearn",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "plotly",
)


def library_versions() -> dict[str, str | None]:
    """Installed versions of deepaudit and the libraries its numbers come from."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    versions["deepaudit"] = __version__
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _run_family(family: Family, target: Target, config: AuditConfig) -> FamilyResult:
    """One family, seeded, timed and costed, then graded from its result alone; a family
    that does not stream gets the streaming target's in-memory sample (and says so)."""
    seed_everything(config.seed)
    subject = target if family.streams or not target.streaming else target.sample_target()
    evaluations_before = subject.n_evaluations
    options = config.options_for(family.name)
    if not config.progress and getattr(options, "progress", False):
        options = options.replace(progress=False)  # progress=False silences every family
    t0 = time.perf_counter()
    with limited_threads(family_threads(config, options)):
        result = family.run(subject, options, config.seed)
    result.seconds = time.perf_counter() - t0
    result.model_evaluations = subject.n_evaluations - evaluations_before
    if not isinstance(result, family.result_class):
        raise TypeError(
            f"the {family.name!r} family's run returned a {type(result).__name__}, "
            f"not its result_class {family.result_class.__name__}"
        )
    if result.findings:
        raise TypeError(
            f"the {family.name!r} family's run made findings: findings come from its "
            "grade(result, config), so that a saved bundle can be re-graded"
        )
    result.findings = list(family.grade(result, options))
    if subject is not target:
        result.notes.insert(
            0,
            f"The data streams ({target.n_samples:,} rows): this family audited a uniform "
            f"random sample of {subject.n_samples:,} rows (Target(sample_size=...), "
            f"sample_seed={target.profile.sample_seed}).",
        )
    return result


def family_threads(config: AuditConfig, options: object) -> int | None:
    """The threads a family runs with (see ``AuditConfig.n_threads``)."""
    if config.n_threads != "auto":
        return config.n_threads
    if hasattr(options, "n_threads"):
        return options.n_threads
    return default_threads()


def check_output_dir(output_dir: os.PathLike | str | None) -> None:
    """Refuse, before any work, an ``output_dir`` the bundle could not be saved to: a file,
    or a folder under a parent this process cannot write."""
    if output_dir is None:
        return
    path = Path(output_dir)
    expected = "a folder this process can write (a new one, or an existing run folder)"
    if path.exists() and not path.is_dir():
        raise parameter_error(
            "output_dir", "AuditConfig", expected, described(f"{str(path)!r}, which is a file")
        )
    parent = path if path.exists() else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise parameter_error(
            "output_dir",
            "AuditConfig",
            expected,
            described(f"{str(path)!r}, under {str(parent)!r}, which cannot be written"),
        )


def run_audit(
    target: Target,
    config: AuditConfig | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> AuditBundle:
    """Audit ``target`` with the families in ``config`` and return the results.

    ``on_progress(done, total, family)`` is called before each family runs and once at
    the end (``family=""``), so a page or a notebook can show where the audit is.

    Every family is checked against the target before any of them runs, so a family
    that cannot apply fails fast. Each family's seconds and model evaluations are
    recorded, with the seed, device, library versions and content hashes of model and
    data. When ``config.output_dir`` is set, the bundle is saved there.

    A family that raises (the user's model, most often) stops the run with an
    :class:`~deepaudit.errors.AuditStoppedError` naming the family; the families that
    finished are kept in a bundle marked incomplete (``bundle.incomplete``).
    """
    if not isinstance(target, Target):
        raise parameter_error("target", "run_audit", "a deepaudit.Target", target)
    if config is None:
        config = AuditConfig()
    if not isinstance(config, AuditConfig):
        raise parameter_error("config", "run_audit", "a deepaudit.AuditConfig or None", config)
    check_output_dir(config.output_dir)
    families = [get_family(name) for name in config.families]
    for family in families:
        reason = family.applies_to(target)
        if reason is not None:
            raise NotApplicableError(
                FAMILY_NOT_APPLICABLE_MESSAGE.format(
                    family=family.name,
                    a_kind=f"{article(target.kind)} {target.kind}",
                    modality=target.modality,
                    reason=reason,
                )
            )
    for family in families:
        family.validate(target, config.options_for(family.name))
    from deepaudit.audit.probe import probe_target

    probe_target(target)  # data and model fit together, before any family runs
    device = resolve_device(config.device, "AuditConfig")
    if device != target.device:
        target.to(device)
    if config.memory_budget_mb is not None:
        target.memory_budget_mb = config.memory_budget_mb
    if config.batch_size is not None:
        target.batch_size = config.batch_size
    _ = target.batch_size  # measured once, here: every family and clone shares it
    target.sample_seed = config.sample_seed
    if (
        config.max_samples is not None
        and not target.streaming
        and target.n_samples > config.max_samples
    ):
        rng = np.random.default_rng(config.sample_seed)  # the data, not the audit's seed
        keep = np.sort(rng.choice(target.n_samples, size=config.max_samples, replace=False))
        target = target.subset(keep)

    started = time.perf_counter()
    results: dict[str, FamilyResult] = {}
    stopped: tuple[str, Exception] | None = None
    engine = open_engine(config.engine, config.workers, config.ray_address, config.progress)
    try:
        with use_engine(engine):
            bar = tqdm(families, desc=target.name, unit="family", disable=not config.progress)
            for i, family in enumerate(bar):
                bar.set_postfix_str(family.name)
                if on_progress is not None:
                    on_progress(i, len(families), family.name)
                try:
                    results[family.name] = _run_family(family, target, config)
                except Exception as exc:  # the user's model, or a bug: say where, keep the rest
                    stopped = (family.name, exc)
                    break
            else:
                if on_progress is not None:
                    on_progress(len(families), len(families), "")
    finally:
        engine.close()

    bundle = AuditBundle(
        target=target.describe(),
        provenance=_provenance(target, config, engine, results, started),
        config=config.to_dict(),
        families=results,
    )
    if stopped is not None:
        _stop(bundle, config, [f.name for f in families], *stopped)
    if config.output_dir is not None:
        bundle.save(config.output_dir)
    return bundle


def _provenance(target: Target, config: AuditConfig, engine, results, started: float) -> dict:
    """Where, when and how the run happened, with what it cost."""
    return {
        "engine": engine.name,
        "workers": engine.workers,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": config.seed,
        "device": str(target.device),
        "device_name": torch.cuda.get_device_name(target.device)
        if target.device.type == "cuda"
        else platform.processor() or platform.machine(),
        "versions": library_versions(),
        "model_sha256": target.model_sha256(),
        "data_sha256": target.data_sha256(),
        "seconds": time.perf_counter() - started,
        "seconds_per_family": {name: r.seconds for name, r in results.items()},
        "threads_per_family": {
            name: family_threads(config, config.options_for(name)) for name in results
        },
        "model_evaluations": sum(r.model_evaluations for r in results.values()),
        "batch_size": target.batch_size,
        "memory_budget_mb": target.memory_budget_mb,  # None: a share of the free memory
    }


def _stop(
    bundle: AuditBundle, config: AuditConfig, planned: list[str], family: str, exc: Exception
) -> None:
    """Raise :class:`AuditStoppedError` for ``family``'s exception; the families that
    finished are kept as a bundle marked incomplete (saved when the run saves), never
    as one that looks complete."""
    reason = str(exc) if isinstance(exc, DeepAuditError) else f"{type(exc).__name__}: {exc}"
    finished = list(bundle.families)
    if not finished:
        raise AuditStoppedError(
            AUDIT_STOPPED_MESSAGE.format(
                family=family, reason=reason, kept="No family had finished: nothing was kept."
            ),
            family,
        ) from exc
    bundle.provenance["incomplete"] = {
        "stopped_in": family,
        "error": reason,
        "not_run": [name for name in planned if name not in finished],
    }
    saved_to = None
    if config.output_dir is not None:
        saved_to = bundle.save(config.output_dir)
        kept = f"The families that finished ({', '.join(finished)}) were saved to {saved_to}, "
    else:
        kept = f"The families that finished ({', '.join(finished)}) are in the error's .bundle, "
    raise AuditStoppedError(
        AUDIT_STOPPED_MESSAGE.format(
            family=family, reason=reason, kept=kept + "marked incomplete."
        ),
        family,
        bundle,
        saved_to,
    ) from exc

"""The robustness family's measuring: which targets it applies to, the dispatch to the
classifier, autoencoder and generator audits (on the rows in memory: a streaming
target's sample), and the optional PGD pass over every row of a classifier."""

from __future__ import annotations

import time

from deepaudit.audit.bars import nested_bar
from deepaudit.audit.robustness.autoencoder import run_autoencoder
from deepaudit.audit.robustness.classifier import run_classifier
from deepaudit.audit.robustness.config import OWNER, RobustnessConfig
from deepaudit.audit.robustness.every_row import every_row_results
from deepaudit.audit.robustness.generator import run_generator
from deepaudit.audit.robustness.result import RobustnessResult
from deepaudit.audit.robustness.space import embedding_layer, mutable_columns
from deepaudit.audit.target import Target
from deepaudit.errors import (
    FAMILY_NOT_APPLICABLE_MESSAGE,
    NotApplicableError,
    article,
    parameter_error,
)

NOTHING_TO_MOVE = (
    "the table has no continuous feature an attack may change (categorical features, "
    "features named like a sensitive attribute and immutable_features stay fixed)."
)


def applies_to(target: Target) -> str | None:
    """``None`` when the family can run on ``target``, else why not."""
    if target.kind == "generator":
        return None
    if target.modality == "text":
        if target.kind != "classifier":
            return "only text classifiers are attacked (through their embedding layer)."
        if embedding_layer(target.model, target.metadata.get("embedding_layer")) is None:
            return (
                "text attacks move token embeddings, but the model has no single nn.Embedding "
                "layer (name one in target.metadata['embedding_layer'])."
            )
    if target.modality == "tabular" and target.kind != "generator" and not mutable_columns(target):
        return NOTHING_TO_MOVE
    return None


def check_options(target: Target, options: RobustnessConfig) -> None:
    """Refuse settings that do not fit this target, before any work starts (run_audit
    calls it for every family before the first one runs)."""
    if target.modality != "tabular" or target.kind == "generator":
        return
    unknown = [f for f in options.immutable_features if f not in target.feature_groups]
    if unknown:
        raise parameter_error(
            "immutable_features", OWNER, "names of the target's features", unknown
        )
    if not mutable_columns(target, options.immutable_features):
        raise NotApplicableError(
            FAMILY_NOT_APPLICABLE_MESSAGE.format(
                family="robustness",
                a_kind=f"{article(target.kind)} {target.kind}",
                modality=target.modality,
                reason=NOTHING_TO_MOVE,
            )
        )


def run_robustness(target: Target, options: RobustnessConfig, seed: int) -> RobustnessResult:
    """Attack ``target`` as its kind requires; every random choice follows ``seed``.

    The attacks study rows in memory (of a streaming target: its sample); with
    ``every_row``, a classifier's every row is also attacked with PGD, batch by batch on
    the audit's engine.
    """
    check_options(target, options)
    sample = target.sample_target()
    result = _run_in_depth(sample, options, seed)
    if sample is not target:
        result.notes.insert(
            0,
            f"The data streams ({target.n_samples:,} rows): the attacks, checks and "
            f"examples used a uniform random sample of {sample.n_samples:,} rows "
            f"(Target(sample_size=...), sample_seed={target.profile.sample_seed})"
            + (
                "; the every-row PGD pass read every row."
                if options.every_row and target.kind == "classifier"
                else "."
            ),
        )
    if options.every_row and target.kind == "classifier":
        started, before = time.perf_counter(), target.n_evaluations
        every_row_results(result, target, options, seed)
        result.metrics["every_row_seconds"] = time.perf_counter() - started
        result.metrics["every_row_evaluations"] = target.n_evaluations - before
    elif options.every_row:
        result.notes.append(
            "every_row was skipped: it counts the rows of a classifier that stay correct "
            f"under attack, and this target is {article(target.kind)} {target.kind}."
        )
    return result


def _run_in_depth(target: Target, options: RobustnessConfig, seed: int) -> RobustnessResult:
    bar = nested_bar(show=options.progress, desc="robustness", unit="stage")

    def tick(stage: str) -> None:
        bar.set_postfix_str(stage, refresh=False)
        bar.update(1)

    try:
        if target.kind == "classifier":
            return run_classifier(target, options, seed, tick)
        if target.kind == "autoencoder":
            return run_autoencoder(target, options, seed, tick)
        return run_generator(target, options, seed, tick)
    finally:
        bar.close()

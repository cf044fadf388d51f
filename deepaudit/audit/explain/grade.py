"""The explain family's findings, graded from its saved result and the limits: one
sentence per check, with the view of its evidence."""

from __future__ import annotations

import dataclasses
import math

from deepaudit.audit.explain.config import ExplainConfig
from deepaudit.grading import shown, verdict
from deepaudit.results import Evidence, FamilyResult, Finding

FAMILY = "explain"


def sanity_verdict(value: float, low: float, high: float, config: ExplainConfig) -> str:
    """The randomisation check of one method, by its interval against the limit (fail
    when the maps surely survive the re-initialisation); ``n/a`` when it did not run."""
    if not _finite(value):
        return "n/a"
    return verdict(value, low, high, config.max_randomisation_similarity, higher_is_worse=True)


def refresh_verdicts(result: FamilyResult, config: ExplainConfig) -> FamilyResult:
    """``result`` with its quality table's sanity verdicts read again under ``config``."""
    quality = [
        {
            **r,
            "sanity": "n/a"
            if r["method"] == "random"
            else sanity_verdict(
                r["randomisation"],
                r.get("randomisation_low", math.nan),
                r.get("randomisation_high", math.nan),
                config,
            ),
        }
        for r in result.tables.get("quality", [])
    ]
    tables = {**result.tables, "quality": quality} if quality else dict(result.tables)
    metrics = dict(result.metrics)
    if quality:
        metrics["sanity_failures"] = sum(r["sanity"] == "fail" for r in quality)
    refreshed = dataclasses.replace(result, tables=tables, metrics=metrics)
    return dataclasses.replace(refreshed, findings=grade_explain(refreshed, config))


def grade_explain(result: FamilyResult, config: ExplainConfig) -> list[Finding]:
    """Every explain finding of ``result`` under the limits of ``config``, in the order
    the audit measures them."""
    tables, metrics = result.tables, result.metrics
    found = [budget_finding(row) for row in tables.get("budget", [])]
    quality = tables.get("quality", [])
    if quality:
        for make in (sanity_finding, stability_finding, completeness_finding):
            finding = make(quality, config)
            if finding is not None:
                found.append(finding)
        finding = faithfulness_finding(quality)
        if finding is not None:
            found.append(finding)
    if tables.get("sensitive_share") is not None:
        found += sensitive_share_findings(tables["sensitive_share"], config)
    if tables.get("proxies"):
        found += proxy_findings(tables["proxies"], config)
    if tables.get("regions"):
        found += region_findings(tables["regions"], config)
    if "colour_share" in metrics:
        stratified = metrics.get("stratified_by")
        rows = [r for r in tables.get("colour_share", []) if r["attribute"] == stratified]
        found.append(colour_finding(metrics["colour_share"], rows, config))
    if tables.get("latent_sensitivity"):
        finding = latent_finding(tables["latent_sensitivity"])
        if finding is not None:
            found.append(finding)
    return found


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and math.isfinite(float(x))


def _interval(row: dict, key: str) -> tuple[float, float] | None:
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    return (low, high) if _finite(low) and _finite(high) else None


def _with_interval(row: dict, key: str, limit: float, digits: int = 2) -> str:
    """``0.62 [0.51, 0.70]``, with enough digits to read differently from ``limit``."""
    text = shown(row[key], limit, digits)
    found = _interval(row, key)
    if found is None:
        return text
    return f"{text} [{shown(found[0], limit, digits)}, {shown(found[1], limit, digits)}]"


def _too_few(rows: list[dict], check: str) -> str:
    """Why a check without an interval cannot decide: the samples it could afford."""
    counts = sorted({int(r.get(f"{check}_samples") or 0) for r in rows})
    n = " or ".join(str(c) for c in counts)
    return f"measured on {n} sample{'s' if counts != [1] else ''} only, too few for an interval"


def _worst_of(verdicts: list[str]) -> str:
    for severity in ("fail", "warn", "inconclusive"):
        if severity in verdicts:
            return severity
    return "pass"


def sanity_finding(quality: list[dict], config: ExplainConfig) -> Finding | None:
    """Fail when a method's maps surely survive the randomisation of the model's weights
    (the interval of their rank correlation lies above the limit); inconclusive when it
    straddles the limit."""
    rows = [r for r in quality if r["method"] != "random" and _finite(r["randomisation"])]
    if not rows:
        return None
    limit = config.max_randomisation_similarity
    judged = {
        r["method"]: sanity_verdict(
            r["randomisation"],
            r.get("randomisation_low", math.nan),
            r.get("randomisation_high", math.nan),
            config,
        )
        for r in rows
    }
    failing = [r for r in rows if judged[r["method"]] == "fail"]
    unclear = [r for r in rows if judged[r["method"]] == "inconclusive"]
    worst = max(rows, key=lambda r: r["randomisation"])
    listed = lambda group: ", ".join(  # noqa: E731
        f"{r['label']} ({_with_interval(r, 'randomisation', limit)})" for r in group
    )
    if failing:
        verb = "fails" if len(failing) == 1 else "fail"
        message = (
            f"{listed(failing)} {verb} the randomisation check: with the model's weights "
            f"re-initialised, the maps keep a rank correlation above {limit:.2f} with the "
            "trained model's, so they show the input more than the model."
        )
    elif unclear:
        few = [r for r in unclear if _interval(r, "randomisation") is None]
        straddle = [r for r in unclear if _interval(r, "randomisation") is not None]
        reasons = []
        if straddle:
            reasons.append(
                f"for {listed(straddle)} the interval of the rank correlation with the maps "
                f"of a re-initialised model straddles the limit {limit:.2f}"
            )
        if few:
            reasons.append(f"{listed(few)} {_too_few(few, 'randomisation')}")
        message = (
            f"The randomisation check cannot tell: {'; '.join(reasons)} (more samples, "
            "n_sanity_samples or max_check_evaluations, would decide)."
        )
    else:
        message = (
            f"All {len(rows)} methods pass the randomisation check: their maps change once the "
            f"model's weights are re-initialised (rank correlation at most "
            f"{_with_interval(worst, 'randomisation', limit)}; limit {limit:.2f})."
        )
    top = failing[0] if failing else unclear[0] if unclear else worst
    return Finding(
        FAMILY,
        "randomisation",
        _worst_of(list(judged.values())),
        message,
        Evidence(
            metric="rank_correlation",
            value=float(top["randomisation"]),
            interval=_interval(top, "randomisation"),
            threshold=limit,
            group=top["method"],
            view="randomisation",
        ),
    )


def stability_finding(quality: list[dict], config: ExplainConfig) -> Finding | None:
    """Warn when a stochastic method surely ranks features differently from one seed to
    the next (its rank agreement's interval lies below the limit)."""
    rows = [r for r in quality if _finite(r["stability"])]
    if not rows:
        return None
    limit = config.min_stability
    judged = {
        r["method"]: verdict(
            r["stability"],
            r.get("stability_low", math.nan),
            r.get("stability_high", math.nan),
            limit,
            higher_is_worse=False,
        )
        for r in rows
    }
    judged = {k: "warn" if v == "fail" else v for k, v in judged.items()}
    unstable = [r for r in rows if judged[r["method"]] == "warn"]
    unclear = [r for r in rows if judged[r["method"]] == "inconclusive"]
    worst = min(rows, key=lambda r: r["stability"])
    listed = lambda group: ", ".join(  # noqa: E731
        f"{r['label']} (rank agreement {_with_interval(r, 'stability', limit)})" for r in group
    )
    if unstable:
        message = (
            f"{listed(unstable)} {'is' if len(unstable) == 1 else 'are'} unstable here across "
            f"{config.n_seeds} seeds (limit {limit:.2f}): read single maps with care."
        )
    elif unclear:
        few = [r for r in unclear if _interval(r, "stability") is None]
        why = (
            _too_few(few, "stability")
            if len(few) == len(unclear)
            else f"the interval straddles the limit {limit:.2f}"
        )
        message = (
            f"Whether {listed(unclear)} {'is' if len(unclear) == 1 else 'are'} stable across "
            f"{config.n_seeds} seeds cannot be told: {why}."
        )
    else:
        message = (
            f"The stochastic methods are stable across {config.n_seeds} seeds (rank agreement "
            f"at least {_with_interval(worst, 'stability', limit)}; limit {limit:.2f})."
        )
    top = unstable[0] if unstable else unclear[0] if unclear else worst
    return Finding(
        FAMILY,
        "stability",
        _worst_of(list(judged.values())),
        message,
        Evidence(
            metric="rank_agreement",
            value=float(top["stability"]),
            interval=_interval(top, "stability"),
            threshold=limit,
            group=top["method"],
            view="quality",
        ),
    )


def completeness_finding(quality: list[dict], config: ExplainConfig) -> Finding | None:
    """Warn when Integrated Gradients (or DeepLift, DeepExplainer) misses the output
    difference by more than the limit (of the difference, or of the outputs' size)."""
    rows = [
        r
        for r in quality
        if r["method"] in ("integrated_gradients", "shap_deep", "deeplift")
        and _finite(r["completeness_gap"])
    ]
    if not rows:
        return None
    worst = max(rows, key=lambda r: r["completeness_gap"])
    limit = config.max_completeness_gap
    bad = worst["completeness_gap"] > limit
    steps = f" with {worst['steps']} steps" if worst.get("steps") else ""
    if bad:
        remedy = (
            f"even{steps} (raise max_steps: the path integral is under-sampled)"
            if worst["method"] == "integrated_gradients"
            else "its propagation rules do not cover every layer of this model"
        )
        message = (
            f"{worst['label']}'s attributions miss the output difference by "
            f"{shown(worst['completeness_gap'] * 100, limit * 100, 1)}% (limit "
            f"{limit:.0%}): {remedy}."
        )
    else:
        message = (
            f"{worst['label']}'s attributions add up to the output difference within "
            f"{shown(worst['completeness_gap'] * 100, limit * 100, 1)}%{steps} "
            f"(limit {limit:.0%})."
        )
    return Finding(
        FAMILY,
        "completeness",
        "warn" if bad else "pass",
        message,
        Evidence(
            metric="completeness_gap",
            value=float(worst["completeness_gap"]),
            threshold=limit,
            group=worst["method"],
            view="quality",
        ),
    )


def faithfulness_finding(quality: list[dict]) -> Finding | None:
    """Warn about methods whose feature order is surely no better than a random one (the
    interval of their insertion-minus-deletion area over the samples lies below chance,
    which is 0: a random order's two areas are equal in expectation); inconclusive when
    it reaches 0."""
    reference = next((r for r in quality if r["method"] == "random"), None)
    rows = [r for r in quality if r["method"] != "random" and _finite(r["faithfulness"])]
    if reference is None or not rows or not _finite(reference["faithfulness"]):
        return None
    chance = reference["faithfulness"]
    # Results of version 1 have no gain column: their gain was read against the drawn
    # random order, without an interval.
    rows = [{"faithfulness_gain": r["faithfulness"] - chance, **r} for r in rows]
    judged = {}
    for r in rows:
        judged[r["method"]] = verdict(
            r["faithfulness_gain"],
            r.get("faithfulness_gain_low"),
            r.get("faithfulness_gain_high"),
            0.0,
            higher_is_worse=False,
        )
    judged = {k: "warn" if v == "fail" else v for k, v in judged.items()}
    best = max(rows, key=lambda r: r["faithfulness"])
    weak = [r for r in rows if judged[r["method"]] == "warn"]
    unclear = [r for r in rows if judged[r["method"]] == "inconclusive"]
    if weak:
        names = ", ".join(
            f"{r['label']} ({_with_interval(r, 'faithfulness_gain', 0.0, 3)})" for r in weak
        )
        message = (
            f"{names}: removing features in attribution order changes the output no more than "
            f"a random order does (insertion minus deletion area 0 by chance; {chance:.3f} "
            f"for the random orders drawn). The most faithful here is {best['label']} "
            f"({best['faithfulness']:.3f})."
        )
    elif unclear:
        names = ", ".join(
            f"{r['label']} ({_with_interval(r, 'faithfulness_gain', 0.0, 3)})" for r in unclear
        )
        message = (
            f"Whether {names} order features better than chance cannot be told on the "
            f"explained samples (the interval of the insertion minus deletion area reaches "
            f"0, chance). The most faithful here is {best['label']} "
            f"({best['faithfulness']:.3f}; {chance:.3f} for the random orders drawn)."
        )
    else:
        message = (
            f"Every method orders features better than chance; the most faithful here is "
            f"{best['label']} (insertion minus deletion area {best['faithfulness']:.3f}, "
            f"{chance:.3f} for a random order)."
        )
    top = weak[0] if weak else unclear[0] if unclear else best
    return Finding(
        FAMILY,
        "faithfulness",
        _worst_of(list(judged.values())),
        message,
        Evidence(
            metric="insertion_minus_deletion",
            value=float(top["faithfulness"]),
            interval=_interval(top, "faithfulness_gain"),
            threshold=0.0,
            group=top["method"],
            view="quality",
        ),
    )


def sensitive_share_findings(rows: list[dict], config: ExplainConfig) -> list[Finding]:
    """Per sensitive feature: the share of the model's attribution it receives."""
    findings = []
    limit = config.max_sensitive_share
    for attribute in dict.fromkeys(r["attribute"] for r in rows):
        mine = [r for r in rows if r["attribute"] == attribute and _finite(r["share"])]
        if not mine:
            continue
        primary = mine[0]
        shares = [r["share"] for r in mine]
        spread = (
            f"; {min(shares):.0%}–{max(shares):.0%} across {len(mine)} methods"
            if len(mine) > 1
            else ""
        )
        high = primary["share"] > limit
        findings.append(
            Finding(
                FAMILY,
                f"sensitive_share:{attribute}",
                "warn" if high else "pass",
                f"The model relies on `{primary['feature']}` for {primary['share']:.0%} of its "
                f"attribution ({primary['label']}{spread}; limit {limit:.0%}).",
                Evidence(
                    metric="attribution_share",
                    value=float(primary["share"]),
                    threshold=limit,
                    group=attribute,
                    view="sensitive_share",
                ),
            )
        )
    return findings


def proxy_findings(rows: list[dict], config: ExplainConfig) -> list[Finding]:
    """Per sensitive attribute: warn about features that surely predict it (the interval
    of their AUC lies above ``proxy_auc``) and carry at least ``min_proxy_share`` of the
    attribution; inconclusive when such a feature's interval straddles the limit."""
    findings = []
    limit, floor = config.proxy_auc, config.min_proxy_share
    for attribute in dict.fromkeys(r["attribute"] for r in rows):
        mine = [r for r in rows if r["attribute"] == attribute and _finite(r["auc"])]
        if not mine:
            continue
        judged = {
            r["feature"]: verdict(
                r["auc"], r["auc_low"], r["auc_high"], limit, higher_is_worse=True
            )
            for r in mine
        }
        used = [r for r in mine if _finite(r["share"]) and r["share"] >= floor]
        proxies = [r for r in used if judged[r["feature"]] == "fail"]
        unclear = [r for r in used if judged[r["feature"]] == "inconclusive"]

        def named(r: dict) -> str:
            return (
                f"`{r['feature']}` (AUC {_with_interval(r, 'auc', limit)} for "
                f"{r['attribute']}={r['group']}; {shown(r['share'] * 100, floor * 100, 0)}% "
                "of the attribution)"
            )

        if proxies:
            severity = "warn"
            top = max(proxies, key=lambda r: r["share"])
            message = (
                f"{', '.join(named(r) for r in proxies)} "
                f"{'predicts' if len(proxies) == 1 else 'predict'} `{attribute}` and "
                f"{'carries' if len(proxies) == 1 else 'carry'} the model's attribution "
                f"({top['label']}; limits AUC {limit:.2f}, share {floor:.0%}): a proxy lets "
                f"the model decide by {attribute} without being given it."
            )
        elif unclear:
            severity = "inconclusive"
            top = max(unclear, key=lambda r: r["share"])
            message = (
                f"Whether {', '.join(named(r) for r in unclear)} stands in for `{attribute}` "
                f"cannot be told: its AUC's interval straddles the limit {limit:.2f}."
            )
        else:
            severity = "pass"
            top = mine[0]
            message = (
                f"No feature both predicts `{attribute}` (AUC above {limit:.2f}) and carries "
                f"{floor:.0%} of the attribution; the best predictor is `{top['feature']}` "
                f"(AUC {_with_interval(top, 'auc', limit)}, "
                f"{top['share']:.0%} of the attribution)."
            )
        findings.append(
            Finding(
                FAMILY,
                f"proxy:{attribute}",
                severity,
                message,
                Evidence(
                    metric="proxy_auc",
                    value=float(top["auc"]),
                    interval=_interval(top, "auc"),
                    threshold=limit,
                    group=top["feature"],
                    view="proxies",
                ),
                subject=attribute,
            )
        )
    return findings


def region_findings(rows: list[dict], config: ExplainConfig) -> list[Finding]:
    """Per named region, read from the first method (Integrated Gradients when it ran):
    warn when its enrichment (share of attribution over share of input) surely exceeds
    ``max_region_enrichment``; inconclusive when the interval straddles it."""
    findings = []
    limit = config.max_region_enrichment
    for region in dict.fromkeys(r["region"] for r in rows):
        mine = [r for r in rows if r["region"] == region]
        top = next((r for r in mine if r["method"] == "integrated_gradients"), mine[0])
        judged = verdict(
            top["enrichment"],
            top["enrichment_low"],
            top["enrichment_high"],
            limit,
            higher_is_worse=True,
        )
        severity = "warn" if judged == "fail" else judged
        others = [r for r in mine if r is not top and _finite(r["enrichment"])]
        spread = (
            f"; {min(r['enrichment'] for r in others):.1f}×–"
            f"{max(r['enrichment'] for r in others):.1f}× under the other methods"
            if others
            else ""
        )
        what = (
            f"Region `{region}` holds {top['input_share']:.0%} of the input but "
            f"{top['share']:.0%} of {top['label']}'s attribution on {top['n_samples']} samples: "
            f"{_with_interval(top, 'enrichment', limit)}× its size (limit {limit:g}×{spread})"
        )
        tail = {
            "warn": ": the model leans on this region more than its size explains.",
            "inconclusive": ": the interval straddles the limit, so the samples cannot tell.",
            "pass": ".",
        }[severity]
        findings.append(
            Finding(
                FAMILY,
                f"region:{region}",
                severity,
                what + tail,
                Evidence(
                    metric="region_enrichment",
                    value=float(top["enrichment"]),
                    interval=_interval(top, "enrichment"),
                    threshold=limit,
                    group=top["method"],
                    view="regions",
                ),
                subject=region,
            )
        )
    return findings


def colour_finding(share: float, by_group: list[dict], config: ExplainConfig) -> Finding:
    """Warn when an image model's attribution leans on colour rather than brightness."""
    limit = config.max_colour_share
    detail = "; ".join(
        f"{r['attribute']}={r['group']}: {r['colour_share']:.0%}"
        for r in by_group
        if r["attribute"] != "all" and _finite(r["colour_share"])
    )
    high = share > limit
    return Finding(
        FAMILY,
        "colour_share",
        "warn" if high else "pass",
        f"{share:.0%} of the Integrated Gradients attribution falls on colour (the channels' "
        f"differences) rather than on brightness and shape (limit {limit:.0%})"
        + (f" [{detail}]" if detail else "")
        + (": the model may rely on a colour cue." if high else "."),
        Evidence(metric="colour_share", value=float(share), threshold=limit, view="colour_share"),
    )


def budget_finding(row: dict) -> Finding:
    """A method was cut (or skipped) to fit the evaluation budget."""
    if row["action"] == "skipped":
        message = (
            f"{row['label']} would cost about {row['estimated_evaluations']:,} model evaluations, "
            f"over the budget of {row['budget']:,}: it was skipped. Raise "
            f"{row.get('raise', 'max_evaluations')} to run it."
        )
    else:
        message = (
            f"{row['label']} would cost about {row['estimated_evaluations']:,} model evaluations "
            f"(budget {row['budget']:,}): its {row['setting']} was cut from {row['from']} to "
            f"{row['to']}, so its attributions are noisier."
        )
    return Finding(
        FAMILY,
        f"budget:{row['method']}",
        "warn",
        message,
        Evidence(
            metric="estimated_evaluations",
            value=float(row["estimated_evaluations"]),
            threshold=float(row["budget"]),
            group=row["method"],
            view="budget",
        ),
    )


def latent_finding(rows: list[dict]) -> Finding | None:
    """Warn when some latent dimensions barely change the generated samples."""
    if not rows:
        return None
    changes = [r["sample_change"] for r in rows]
    median = sorted(changes)[len(changes) // 2]
    dead = [r["dimension"] for r in rows if r["sample_change"] < 0.05 * median]
    top = sorted(rows, key=lambda r: -r["sample_change"])[:3]
    top_text = ", ".join(str(r["dimension"]) for r in top)
    if dead:
        message = (
            f"{len(dead)} of {len(rows)} latent dimensions barely change the generated samples "
            f"(under 5% of the median sensitivity): unused capacity. Most influential: {top_text}."
        )
    else:
        message = (
            f"Generated samples respond to all {len(rows)} latent dimensions; the most "
            f"influential are {top_text}."
        )
    return Finding(
        FAMILY,
        "latent_sensitivity",
        "warn" if dead else "pass",
        message,
        Evidence(
            metric="dead_latent_dimensions",
            value=float(len(dead)),
            threshold=0.0,
            view="latent_sensitivity",
        ),
    )

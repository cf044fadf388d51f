"""Helpers the test modules share."""

from deepaudit.testing import expected_message as expected_parameter_message

__all__ = ["expected_parameter_message"]


def _numbers(value) -> list[float]:
    """Every finite number in a metric value or a table row (nested lists included)."""
    import math

    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)] if math.isfinite(float(value)) else []
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _numbers(v)]
    return []


def evidence_mismatches(bundle) -> list[str]:
    """Findings whose evidence value is not the number the saved result holds: the metric
    of that name when there is one, else some cell of the family's tables (or the number
    of rows of the table it cites). Empty when every finding cites its result's own
    numbers."""
    import math

    problems = []
    for name, result in bundle.families.items():
        saved = set(_numbers(result.metrics)) | set(_numbers(list(result.tables.values())))
        for finding in result.findings:
            evidence = finding.evidence
            value = evidence.value
            if value is None or not math.isfinite(float(value)):
                continue
            metric = result.metrics.get(evidence.metric)
            if isinstance(metric, int | float) and not isinstance(metric, bool):
                if float(metric) != float(value):
                    problems.append(
                        f"{name}.{finding.check}: evidence {value!r} but metric "
                        f"{evidence.metric} = {metric!r}"
                    )
            elif float(value) not in saved and not (
                evidence.view in result.tables and float(value) == len(result.tables[evidence.view])
            ):
                problems.append(
                    f"{name}.{finding.check}: evidence {evidence.metric} = {value!r} is in "
                    "neither the metrics nor the tables"
                )
    return problems


__all__ += ["evidence_mismatches"]


def demo_audits(seed: int = 0):
    """``(name, bundle)`` of every demo model audited as ``deepaudit demo`` does."""
    import deepaudit as da
    from deepaudit.cli import DEMO_SAMPLES, _applicable_families
    from deepaudit.models import get_model_spec, list_models, load_model

    for name in [n for n in list_models() if get_model_spec(n).demo]:
        target = load_model(name, device="cpu")
        config = da.AuditConfig(
            families=_applicable_families(target, None),
            seed=seed,
            max_samples=DEMO_SAMPLES,
            progress=False,
        )
        yield name, da.run_audit(target, config)


__all__ += ["demo_audits"]

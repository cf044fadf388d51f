"""The ``generative`` family's entry point, applicability check and registration."""

from __future__ import annotations

from deepaudit.audit.device import limited_threads
from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.audit.generative.generator import run_generator
from deepaudit.audit.generative.reconstruction import run_autoencoder
from deepaudit.audit.registry import FamilySpec, register_family
from deepaudit.audit.target import Target
from deepaudit.errors import parameter_error
from deepaudit.results import FamilyResult

FAMILY = "generative"


def applies_to(target: Target) -> str | None:
    """``None`` when the family can audit ``target``, else the reason it cannot."""
    if target.kind == "classifier":
        return "it audits generators and autoencoders."
    if target.modality == "text":
        return "distances and reconstruction errors between token ids are not meaningful."
    if target.kind == "generator" and target.reference_data is None:
        return "a generator needs reference_data (real samples to compare its samples with)."
    return None


def run_generative(target: Target, options: GenerativeConfig, seed: int) -> FamilyResult:
    """Audit a generator (fidelity, coverage, diversity, memorisation, samples) or an
    autoencoder (reconstruction-error distributions and the features errors come from)."""
    if not isinstance(options, GenerativeConfig):
        raise parameter_error("options", "run_generative", "a GenerativeConfig", options)
    with limited_threads(options.n_threads):
        if target.kind == "generator":
            return run_generator(target, options, seed)
        return run_autoencoder(target, options, seed)


register_family(
    FamilySpec(
        name=FAMILY,
        config_class=GenerativeConfig,
        run=run_generative,
        applies_to=applies_to,
        description="Generators: fidelity, coverage, diversity and memorisation of samples; "
        "autoencoders: reconstruction-error distributions and their per-feature sources.",
    )
)

"""The generative family's measuring: a generator's samples or an autoencoder's errors."""

from __future__ import annotations

from deepaudit.audit.device import limited_threads
from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.audit.generative.generator import run_generator
from deepaudit.audit.generative.reconstruction import run_autoencoder
from deepaudit.audit.generative.result import GenerativeResult
from deepaudit.audit.target import Target
from deepaudit.errors import parameter_error


def run_generative(target: Target, options: GenerativeConfig, seed: int) -> GenerativeResult:
    """Measure a generator (fidelity, coverage, diversity, memorisation, samples) or an
    autoencoder (reconstruction-error distributions and the features errors come from)."""
    if not isinstance(options, GenerativeConfig):
        raise parameter_error("options", "run_generative", "a GenerativeConfig", options)
    with limited_threads(options.n_threads):
        if target.kind == "generator":
            return run_generator(target, options, seed)
        return run_autoencoder(target, options, seed)

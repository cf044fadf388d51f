"""The ``generative`` audit family: generators (GANs) and autoencoders.

Generators: Fréchet distance, precision / recall (Kynkäänniemi et al. 2019) and density /
coverage (Naeem et al. 2020) on a feature space, with bootstrap intervals; coverage per
class of the real samples; diversity (mode collapse); memorisation of training samples
(``Target(train_data=...)``) with the nearest training neighbours of generated samples;
a seeded sample grid and latent interpolations.
Autoencoders: reconstruction-error distributions of held-out and reference data, the
per-feature sources of the error and the worst-reconstructed samples.

Importing this package registers the family as ``"generative"``.
"""

from deepaudit.audit.generative.config import GENERATIVE_CONSTRAINTS, GenerativeConfig
from deepaudit.audit.generative.family import applies_to, run_generative
from deepaudit.audit.generative.fidelity import (
    frechet_distance,
    frechet_with_interval,
    knn_radii,
    mean_pairwise_distance,
    prdc,
)
from deepaudit.audit.generative.memorisation import Memorisation, memorisation
from deepaudit.audit.generative.reconstruction import feature_contributions

__all__ = [
    "GENERATIVE_CONSTRAINTS",
    "GenerativeConfig",
    "Memorisation",
    "applies_to",
    "feature_contributions",
    "frechet_distance",
    "frechet_with_interval",
    "knn_radii",
    "mean_pairwise_distance",
    "memorisation",
    "prdc",
    "run_generative",
]

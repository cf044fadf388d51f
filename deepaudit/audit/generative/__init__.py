"""The ``generative`` audit family: generators (GANs) and autoencoders.

Generators: Fréchet distance, precision / recall (Kynkäänniemi et al. 2019) and density /
coverage (Naeem et al. 2020) on a feature space, with bootstrap intervals; coverage per
class of the real samples; diversity (mode collapse); memorisation of training samples
(``Target(train_data=...)``) with the nearest training neighbours of generated samples;
a seeded sample grid and latent interpolations.
Autoencoders: reconstruction-error distributions of held-out and reference data, the
per-feature sources of the error and the worst-reconstructed samples. Names load on
first use.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "GENERATIVE_CONSTRAINTS": ".config",
        "GenerativeConfig": ".config",
        "GenerativeResult": ".result",
        "FAMILY": ".family",
        "applies_to": ".family",
        "grade_generative": ".grade",
        "run_generative": ".run",
        "frechet_distance": ".fidelity",
        "frechet_with_interval": ".fidelity",
        "knn_radii": ".fidelity",
        "mean_pairwise_distance": ".fidelity",
        "prdc": ".fidelity",
        "Memorisation": ".copies",
        "memorisation": ".copies",
        "feature_contributions": ".reconstruction",
    },
)

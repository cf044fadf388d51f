"""``GenerativeConfig``: budgets and thresholds of the generative audit family."""

from __future__ import annotations

from dataclasses import dataclass

from deepaudit._validation import NONE, InstanceOf, Interval, OneOf
from deepaudit.configs import Config
from deepaudit.errors import parameter_error

OWNER = "GenerativeConfig"

#: Feature spaces in which generated and real samples are compared. ``"auto"`` is the
#: label model's penultimate features when the target names one, else ``"pixels"`` up to
#: :data:`AUTO_PIXEL_LIMIT` values per sample, else ``"projection"``.
FEATURE_SPACES = ("auto", "label_model", "pixels", "projection")
MEMORISATION_SPACES = ("pixels", "features")

_SHARE = Interval(float, 0, 1)

GENERATIVE_CONSTRAINTS = {
    "n_generated": [Interval(int, 2, 1_000_000)],
    "n_real": [Interval(int, 2, 1_000_000)],
    "n_train": [NONE, Interval(int, 1, 10_000_000)],
    "k": [Interval(int, 1, 1_000)],
    "n_bootstrap": [Interval(int, 0, 100_000)],
    "n_bootstrap_frechet": [Interval(int, 0, 10_000)],
    "confidence": [Interval(float, 0, 1, closed="neither")],
    "feature_space": [OneOf(FEATURE_SPACES)],
    "projection_dim": [Interval(int, 1, 100_000)],
    "memorisation_space": [OneOf(MEMORISATION_SPACES)],
    "copy_quantile": [Interval(float, 0, 1, closed="neither")],
    "copy_threshold_by_class": [InstanceOf((bool,), "a bool")],
    "n_neighbours_shown": [Interval(int, 0, 1_000)],
    "grid_size": [Interval(int, 0, 1_024)],
    "n_interpolations": [Interval(int, 0, 1_000)],
    "interpolation_steps": [Interval(int, 3, 1_000)],
    "n_errors": [Interval(int, 2, 10_000_000)],
    "n_worst": [Interval(int, 0, 10_000)],
    "n_bins": [Interval(int, 2, 1000)],
    "fail_precision": [_SHARE],
    "warn_precision": [_SHARE],
    "fail_coverage": [_SHARE],
    "warn_coverage": [_SHARE],
    "fail_diversity_ratio": [Interval(float, 0, None)],
    "warn_diversity_ratio": [Interval(float, 0, None)],
    "fail_frechet_ratio": [Interval(float, 1, None)],
    "warn_frechet_ratio": [Interval(float, 1, None)],
    "fail_copy_share": [_SHARE],
    "warn_copy_share": [_SHARE],
    "fail_error_shift": [_SHARE],
    "warn_error_shift": [_SHARE],
    "max_feature_share": [_SHARE],
    "max_feature_error_ratio": [Interval(float, 1, None)],
    "n_threads": [NONE, Interval(int, 1, None)],
    "progress": [InstanceOf((bool,), "a bool")],
}

#: (fail, warn) pairs: for "higher is better" checks the fail threshold is the lower one.
_ORDERED_PAIRS = (
    ("fail_precision", "warn_precision", "at most"),
    ("fail_coverage", "warn_coverage", "at most"),
    ("fail_diversity_ratio", "warn_diversity_ratio", "at most"),
    ("fail_frechet_ratio", "warn_frechet_ratio", "at least"),
    ("fail_copy_share", "warn_copy_share", "at least"),
    ("fail_error_shift", "warn_error_shift", "at least"),
)


@dataclass(frozen=True)
class GenerativeConfig(Config):
    """Budgets and thresholds of the generative family.

    Generators are compared with real samples on a feature space (precision, recall,
    density, coverage, Fréchet distance), checked for copies of their training data
    and for mode collapse, and shown as a sample grid and latent interpolations.
    Autoencoders get their reconstruction-error distributions and the features their
    errors (and so their anomaly flags) come from.

    Parameters
    ----------
    n_generated
        Samples drawn from the generator (with the audit's seed).
    n_real
        Real reference samples compared with them (a seeded subset when there are more).
    n_train
        Training samples searched for nearest neighbours (``None``: all of them). A subset
        can miss copies of the samples left out.
    k
        Nearest neighbour whose distance is the radius of each sample's ball in the
        k-NN manifold estimates (Kynkäänniemi et al. 2019; Naeem et al. 2020 use 5).
    n_bootstrap, n_bootstrap_frechet
        Bootstrap resamples for the intervals of precision / recall / density / coverage,
        and of the Fréchet distance (0: no interval; the default for the Fréchet distance,
        each of whose resamples costs two eigendecompositions).
    confidence
        Level of every interval.
    feature_space
        Where samples are compared (see :data:`FEATURE_SPACES`).
    projection_dim
        Width of the seeded Gaussian random projection (``feature_space="projection"``).
    memorisation_space
        Where nearest training neighbours are searched: raw ``"pixels"`` (a copy is a
        copy) or the comparison ``"features"``.
    copy_quantile
        A generated sample is a copy when it lies closer to the training data than this
        quantile of the held-out real samples' distances to it (a conformal bound: a
        generator that copies nothing shows at most this share of copies).
    copy_threshold_by_class
        With a label model, read each generated sample against the held-out samples of
        its own (predicted) class: some classes lie much closer to their training
        neighbours than others, and one pooled threshold would flag a generator of novel
        samples of such a class as a copier.
    n_neighbours_shown
        Generated samples (the closest to the training data) saved with their nearest
        training neighbour.
    grid_size, n_interpolations, interpolation_steps
        Samples in the saved grid; latent interpolation strips and images per strip.
    n_errors
        Autoencoders: most samples of the held-out and of the reference data scored.
    n_worst, n_bins
        Autoencoders: worst-reconstructed samples kept; histogram bins of the errors.
    fail_precision, warn_precision
        Precision (share of generated samples on the real manifold) below which the
        fidelity check fails / warns.
    fail_coverage, warn_coverage
        Coverage (share of real samples with a generated one nearby) below which the
        coverage check fails / warns.
    fail_diversity_ratio, warn_diversity_ratio
        Mean pairwise distance of generated samples over that of real ones below which the
        mode-collapse check fails / warns.
    fail_frechet_ratio, warn_frechet_ratio
        Fréchet distance over the real-vs-real baseline (training vs held-out real samples)
        above which the check fails / warns (needs training data).
    fail_copy_share, warn_copy_share
        Share of generated samples that are copies above which memorisation fails / warns
        (a generator that does not copy shows about ``copy_quantile``).
    fail_error_shift, warn_error_shift
        Kolmogorov–Smirnov distance between held-out and reference reconstruction errors
        above which the autoencoder's error-shift check fails / warns.
    max_feature_share
        Warn when one feature carries more than this share of the flagged anomalies' error.
    max_feature_error_ratio
        Warn when a feature's held-out mean error exceeds this multiple of its reference error.
    n_threads
        Threads of the numerical libraries (BLAS, OpenMP: numpy, scikit-learn, torch on CPU)
        while the audit runs, restored afterwards; ``None`` leaves them as they are. The
        family makes many medium-sized calls, where extra threads mostly wait on each
        other: on a busy 2-core machine one thread made the ``gan`` audit 3-5× faster.
    progress
        Show progress bars for the bootstrap loops.
    """

    n_generated: int = 1000
    n_real: int = 1000
    n_train: int | None = None
    k: int = 5
    n_bootstrap: int = 200
    n_bootstrap_frechet: int = 0
    confidence: float = 0.95
    feature_space: str = "auto"
    projection_dim: int = 64
    memorisation_space: str = "pixels"
    copy_quantile: float = 0.01
    copy_threshold_by_class: bool = True
    n_neighbours_shown: int = 8
    grid_size: int = 64
    n_interpolations: int = 4
    interpolation_steps: int = 10
    n_errors: int = 5000
    n_worst: int = 10
    n_bins: int = 50
    fail_precision: float = 0.3
    warn_precision: float = 0.6
    fail_coverage: float = 0.3
    warn_coverage: float = 0.6
    fail_diversity_ratio: float = 0.5
    warn_diversity_ratio: float = 0.8
    fail_frechet_ratio: float = 20.0
    warn_frechet_ratio: float = 5.0
    fail_copy_share: float = 0.1
    warn_copy_share: float = 0.03
    fail_error_shift: float = 0.3
    warn_error_shift: float = 0.1
    max_feature_share: float = 0.5
    max_feature_error_ratio: float = 1.5
    n_threads: int | None = 1
    progress: bool = True

    LIMITS = (
        *(name for pair in _ORDERED_PAIRS for name in pair[:2]),
        "max_feature_share",
        "max_feature_error_ratio",
    )

    @classmethod
    def constraints(cls):
        return GENERATIVE_CONSTRAINTS

    def check(self) -> None:
        smallest = min(self.n_generated, self.n_real)
        if self.k >= smallest:
            raise parameter_error(
                "k",
                OWNER,
                f"smaller than n_generated and n_real (an int in the range [1, {smallest - 1}])",
                self.k,
            )
        for fail, warn, relation in _ORDERED_PAIRS:
            low, high = (fail, warn) if relation == "at most" else (warn, fail)
            if getattr(self, low) > getattr(self, high):
                raise parameter_error(
                    fail,
                    OWNER,
                    f"{relation} {warn} ({getattr(self, warn)!r})",
                    getattr(self, fail),
                )

    @classmethod
    def thorough(cls) -> GenerativeConfig:
        """Budgets for a careful audit (``deepaudit demo --full``): more samples and
        resamples, tighter intervals; the thresholds are the defaults."""
        return cls(
            n_generated=5000,
            n_real=5000,
            n_bootstrap=1000,
            n_bootstrap_frechet=50,
            n_neighbours_shown=16,
            grid_size=100,
            n_interpolations=8,
            interpolation_steps=12,
            n_errors=50_000,
            n_worst=25,
        )

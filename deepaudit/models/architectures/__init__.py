"""The reference models' network architectures, one module each."""

from deepaudit.models.architectures.autoencoder import DenseAutoencoder
from deepaudit.models.architectures.cnn import SmallCNN
from deepaudit.models.architectures.dcgan import DCGANDiscriminator, DCGANGenerator
from deepaudit.models.architectures.ft_transformer import FTTransformer
from deepaudit.models.architectures.lstm import BiLSTMClassifier

__all__ = [
    "BiLSTMClassifier",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DenseAutoencoder",
    "FTTransformer",
    "SmallCNN",
]

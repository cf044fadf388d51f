"""The architectures' shapes and the properties audits rely on."""

from __future__ import annotations

import torch

from deepaudit.models.architectures import (
    BiLSTMClassifier,
    DCGANDiscriminator,
    DCGANGenerator,
    DenseAutoencoder,
    FTTransformer,
    SmallCNN,
)


def test_cnn_shapes_and_last_conv():
    torch.manual_seed(0)
    model = SmallCNN(in_channels=3).eval()
    x = torch.rand(2, 3, 28, 28)
    assert model(x).shape == (2, 10)
    assert isinstance(model.last_conv, torch.nn.Conv2d)
    seen = []
    model.last_conv.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model(x)
    assert seen == [torch.Size([2, 64, 7, 7])]
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    assert len(relus) == len({id(m) for m in relus}) and not any(r.inplace for r in relus)


def test_lstm_ignores_padding():
    torch.manual_seed(0)
    model = BiLSTMClassifier(vocab_size=20).eval()
    ids = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 0, 0, 0]])
    longer = torch.cat([ids, torch.zeros(2, 4, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(ids), model(longer))
    assert model(ids).shape == (2, 2)


def test_ft_transformer_mixes_numeric_and_categorical_columns():
    torch.manual_seed(0)
    model = FTTransformer([0, 3, 0, 5]).eval()
    x = torch.tensor([[0.5, 2.0, -1.0, 4.0], [0.1, 0.0, 0.3, 1.0]])
    assert model(x).shape == (2, 2)
    assert model.tokens(x).shape == (2, 5, 32)  # [CLS] + 4 features
    clamped = x.clone()
    clamped[0, 1], clamped[0, 3] = 7.0, 4.2  # out of range / fractional codes
    torch.testing.assert_close(model(clamped), model(x))
    x.requires_grad_(True)
    model(x).sum().backward()
    assert torch.all(x.grad[:, [1, 3]] == 0) and torch.any(x.grad[:, [0, 2]] != 0)


def test_dcgan_shapes_and_range():
    torch.manual_seed(0)
    generator, discriminator = DCGANGenerator(latent_dim=16).eval(), DCGANDiscriminator().eval()
    z = torch.randn(3, 16)
    images = generator(z)
    assert images.shape == (3, 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1
    torch.testing.assert_close(generator(z[:, :, None, None]), images)
    assert discriminator(images).shape == (3, 1)


def test_autoencoder_reconstructs_the_input_width():
    model = DenseAutoencoder(n_features=30)
    assert model(torch.randn(4, 30)).shape == (4, 30)
    assert model.encode(torch.randn(4, 30)).shape == (4, 12)

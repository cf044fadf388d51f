"""Attention maps and rollout: the hooks see what torch computes, rollout follows its formula."""

from __future__ import annotations

import torch
from torch import nn

from deepaudit.audit.explain.methods._attention import (
    captured_attention,
    rollout_matrix,
    token_map,
)


class OneLayer(nn.Module):
    """[CLS] + one token per feature, one encoder layer, a head on [CLS]."""

    def __init__(self, n_features: int = 4, d: int = 8) -> None:
        super().__init__()
        self.embed = nn.Parameter(torch.randn(n_features, d))
        self.cls = nn.Parameter(torch.randn(1, 1, d))
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, 2, 16, dropout=0.0, batch_first=True),
            1,
            enable_nested_tensor=False,
        )
        self.head = nn.Linear(d, 2)

    def tokens(self, x):
        return torch.cat([self.cls.expand(len(x), -1, -1), x[..., None] * self.embed], dim=1)

    def token_inputs(self):
        return [None, *range(self.embed.shape[0])]

    def forward(self, x):
        return self.head(self.encoder(self.tokens(x))[:, 0])


def test_hooks_capture_the_weights_torch_computes():
    torch.manual_seed(0)
    model = OneLayer().eval()
    x = torch.randn(5, 4)
    with torch.enable_grad(), captured_attention(model) as weights:
        model(x)
    assert len(weights) == 1
    attn = model.encoder.layers[0].self_attn
    tokens = model.tokens(x)  # norm_first=False: attention reads the raw tokens
    _, expected = attn(tokens, tokens, tokens, need_weights=True, average_attn_weights=True)
    torch.testing.assert_close(weights[0], expected.detach())
    torch.testing.assert_close(weights[0].sum(-1), torch.ones(5, 5))


def test_rollout_of_one_layer_is_the_residual_mix():
    a = torch.softmax(torch.randn(3, 4, 4), dim=-1)
    expected = 0.5 * a + 0.5 * torch.eye(4)
    torch.testing.assert_close(rollout_matrix([a]), expected)


def test_rollout_multiplies_layers_and_rows_stay_distributions():
    torch.manual_seed(1)
    a, b = (torch.softmax(torch.randn(2, 5, 5), dim=-1) for _ in range(2))
    eye = torch.eye(5)
    expected = (0.5 * b + 0.5 * eye) @ (0.5 * a + 0.5 * eye)
    rolled = rollout_matrix([a, b])
    torch.testing.assert_close(rolled, expected)
    torch.testing.assert_close(rolled.sum(-1), torch.ones(2, 5))


def test_a_token_nobody_attends_gets_only_its_residual_share():
    # Attention that never looks at token 3: its rollout score from [CLS] must be 0.
    a = torch.full((1, 4, 4), 1 / 3)
    a[:, :, 3] = 0.0
    rolled = rollout_matrix([a, a])
    assert rolled[0, 0, 3] == 0
    assert rolled[0, 3, 3] > 0  # its own row keeps the residual


def test_token_maps():
    model = OneLayer()
    assert token_map(model, 5, 4) == [None, 0, 1, 2, 3]
    plain = nn.Linear(2, 2)
    assert token_map(plain, 6, 6) == list(range(6))
    assert token_map(plain, 7, 6) == [None, *range(6)]


def test_rollout_runs_in_the_explain_family_on_a_transformer():
    import deepaudit as da

    torch.manual_seed(0)
    model = OneLayer().eval()
    data = torch.randn(64, 4)
    target = da.Target(
        model,
        kind="classifier",
        modality="tabular",
        data=data,
        labels=torch.randint(0, 2, (64,)),
        feature_names=["a", "b", "c", "d"],
    )
    config = da.AuditConfig(
        families=["explain"],
        options={"explain": {"methods": ["attention_rollout"], "n_samples": 4}},
        progress=False,
    )
    result = da.run_audit(target, config)["explain"]
    maps = result.arrays["attributions_attention_rollout"]
    assert maps.shape == (4, 4)
    # One layer: the [CLS] row of 0.5·A + 0.5·I, read straight from torch's attention.
    rows = [r["index"] for r in result.tables["samples"]]
    x = data[rows]
    attn = model.encoder.layers[0].self_attn
    tokens = model.tokens(x)
    _, weights = attn(tokens, tokens, tokens, need_weights=True, average_attn_weights=True)
    expected = 0.5 * weights[:, 0, 1:].detach().numpy()
    assert abs(maps - expected).max() < 1e-5

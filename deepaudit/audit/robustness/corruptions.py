"""Corruptions: the perturbations a model meets without an adversary.

Images: Gaussian noise, Gaussian blur, brightness and contrast changes, occluding
patches (in the spirit of Hendrycks & Dietterich's ImageNet-C, at mild severities).
Text: typos (a letter deleted, inserted or replaced by a keyboard neighbour), swapped
adjacent letters, changed case. Tabular: Gaussian noise on the mutable continuous
features, in units of each feature's standard deviation.

Every function takes a seeded ``numpy.random.Generator`` and returns new inputs with
the shape of the old; severities are listed in :data:`SEVERITIES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

SEVERITIES: dict[str, dict[str, tuple[float, ...]]] = {
    "image": {
        "gaussian_noise": (0.05, 0.1),  # σ in units of the input range
        "blur": (0.5, 1.0),  # σ in pixels
        "brightness": (0.1, 0.2),  # shift in units of the input range
        "contrast": (0.7, 0.4),  # factor around each image's mean
        "occlusion": (0.2, 0.35),  # side of the patch / side of the image
    },
    "text": {
        "typo": (0.1, 0.25),  # share of words
        "character_swap": (0.1, 0.25),
        "case": (0.25, 0.5),
    },
    "tabular": {"gaussian_noise": (0.05, 0.1, 0.25)},  # σ in units of each feature's std
}

_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_ROW_OFFSETS = (0.0, 0.25, 0.75)  # how far each row is shifted right on a QWERTY keyboard


def _keyboard_neighbours() -> dict[str, str]:
    """The keys touching each letter on a QWERTY keyboard (centres within 1.3 key widths)."""
    where = {
        c: (r, i + _ROW_OFFSETS[r]) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)
    }
    return {
        c: "".join(
            d for d, (rd, xd) in where.items() if d != c and (rd - r) ** 2 + (xd - x) ** 2 <= 1.3**2
        )
        for c, (r, x) in where.items()
    }


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()


# -- images ---------------------------------------------------------------------------


def gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(2 * sigma))
    xs = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(xs**2) / (2 * sigma**2))
    return k / k.sum()


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflected borders, channel by channel."""
    k = gaussian_kernel(sigma).to(x.device, x.dtype)
    channels = x.shape[1]
    pad = len(k) // 2
    out = F.pad(x, (pad, pad, 0, 0), mode="reflect")
    out = F.conv2d(out, k.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    out = F.pad(out, (0, 0, pad, pad), mode="reflect")
    return F.conv2d(out, k.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def perturb_images(
    x: torch.Tensor,
    kind: str,
    severity: float,
    input_range: tuple[float, float],
    rng: np.random.Generator,
) -> torch.Tensor:
    """``x`` (N×C×H×W) under one corruption, clipped back into ``input_range``."""
    lo, hi = input_range
    width = hi - lo
    if kind == "gaussian_noise":
        noise = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        out = x + severity * width * noise.to(x.device)
    elif kind == "blur":
        out = blur(x, severity)
    elif kind == "brightness":
        out = x + severity * width
    elif kind == "contrast":
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        out = (x - mean) * severity + mean
    elif kind == "occlusion":
        n, _, height, w = x.shape
        side = max(1, round(severity * min(height, w)))
        top = rng.integers(0, height - side + 1, n)
        left = rng.integers(0, w - side + 1, n)
        out = x.clone()
        for i in range(n):
            out[i, :, top[i] : top[i] + side, left[i] : left[i] + side] = lo
    else:
        raise KeyError(kind)
    return out.clamp(lo, hi)


# -- tabular --------------------------------------------------------------------------


def perturb_table(
    x: torch.Tensor,
    columns: Sequence[int],
    std: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    severity: float,
    rng: np.random.Generator,
) -> torch.Tensor:
    """Gaussian noise of ``severity`` standard deviations on ``columns``, kept within each
    column's range (widened to contain the original value)."""
    out = x.clone()
    idx = torch.as_tensor(list(columns), dtype=torch.long, device=x.device)
    noise = torch.from_numpy(rng.standard_normal((len(x), len(columns))).astype(np.float32))
    moved = x[:, idx] + severity * std[idx] * noise.to(x.device)
    lo = torch.minimum(lower[idx].expand_as(moved), x[:, idx])
    hi = torch.maximum(upper[idx].expand_as(moved), x[:, idx])
    out[:, idx] = torch.maximum(torch.minimum(moved, hi), lo)
    return out


# -- text -----------------------------------------------------------------------------


def typo(word: str, rng: np.random.Generator) -> str:
    """Delete a letter, insert or substitute a keyboard neighbour."""
    i = int(rng.integers(0, len(word)))
    op = int(rng.integers(0, 3))
    near = KEYBOARD_NEIGHBOURS.get(word[i].lower(), "e")
    letter = near[int(rng.integers(0, len(near)))]
    if op == 0 and len(word) > 1:
        return word[:i] + word[i + 1 :]
    if op == 1:
        return word[:i] + letter + word[i:]
    return word[:i] + letter + word[i + 1 :]


def character_swap(word: str, rng: np.random.Generator) -> str:
    """Swap two adjacent letters."""
    if len(word) < 2:
        return word
    i = int(rng.integers(0, len(word) - 1))
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def change_case(word: str, rng: np.random.Generator) -> str:
    """Upper-case or capitalise the word."""
    return word.upper() if rng.random() < 0.5 else word.capitalize()


TEXT_OPERATIONS: dict[str, Callable[[str, np.random.Generator], str]] = {
    "typo": typo,
    "character_swap": character_swap,
    "case": change_case,
}


class Retokenizer:
    """Maps perturbed words back to token ids with the model's vocabulary.

    A word missing from the vocabulary becomes the unknown token when the vocabulary has
    one (``<unk>``, ``[UNK]``), else it is dropped. A vocabulary without upper-case
    letters is taken to come from a lower-casing tokenizer, so case is folded first.
    """

    UNKNOWN = ("<unk>", "[UNK]", "<UNK>", "[unk]")

    def __init__(self, vocab: Sequence[str]) -> None:
        self.vocab = list(vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.lowercase = not any(t != t.lower() for t in self.vocab)
        self.unknown = next((self.index[t] for t in self.UNKNOWN if t in self.index), None)

    def id_of(self, word: str) -> int | None:
        key = word.lower() if self.lowercase else word
        return self.index.get(key, self.unknown)

    def perturb(
        self,
        ids: np.ndarray,
        operation: Callable[[str, np.random.Generator], str],
        share: float,
        rng: np.random.Generator,
        word_mask: np.ndarray,
    ) -> np.ndarray:
        """Apply ``operation`` to a ``share`` of the words of each row of ``ids``."""
        out = np.zeros_like(ids)
        for r, row in enumerate(ids):
            tokens = [int(t) for t in row if t != 0]
            candidates = [j for j, t in enumerate(tokens) if word_mask[t]]
            count = min(len(candidates), max(1, round(share * len(candidates))))
            chosen = (
                set(rng.choice(candidates, size=count, replace=False).tolist()) if count else set()
            )
            new = []
            for j, t in enumerate(tokens):
                if j in chosen:
                    replaced = self.id_of(operation(self.vocab[t], rng))
                    if replaced is not None:
                        new.append(replaced)
                else:
                    new.append(t)
            new = new[: ids.shape[1]]
            out[r, : len(new)] = new
        return out

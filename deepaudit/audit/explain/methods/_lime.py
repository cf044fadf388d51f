"""lime's explainers adapted to a Subject: images split by a segmentation that works on
small images, text over token positions (masked with the unknown token), tabular data
over logical features (a categorical feature resampled as a whole)."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

import numpy as np
import torch

from deepaudit.audit.explain.methods.base import Attribution, quiet_library_notes, to_numpy

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.subject import Subject


def _predict(case: Case, subject: Subject, inputs: torch.Tensor) -> np.ndarray:
    """What LIME fits: class probabilities, or the score as one column."""
    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), case.target.batch_size):
            score = subject.score(inputs[start : start + case.target.batch_size])
            if subject.has_classes:
                score = torch.softmax(score.double(), dim=1)
            out.append(to_numpy(score).astype(np.float64).reshape(len(score), -1))
    return np.concatenate(out)


def segments(image: np.ndarray, how: str, window: int) -> np.ndarray:
    """Superpixels of an H×W×C image in [0, 1]: lime's default quickshift finds a single
    segment on a 28×28 digit, so SLIC and Felzenszwalb get small-image settings, and the
    grid uses cells of the occlusion window."""
    from skimage.segmentation import felzenszwalb, slic

    h, w = image.shape[:2]
    if how == "grid":
        rows = np.arange(h) // window
        cols = np.arange(w) // window
        return rows[:, None] * (-(-w // window)) + cols[None, :]
    if how == "slic":
        n_segments = max(8, 2 * h * w // (window * window))
        labels = slic(image, n_segments=n_segments, compactness=1.0, start_label=0, channel_axis=-1)
    else:
        labels = felzenszwalb(image, scale=2, sigma=0.3, min_size=5)
    # Contiguous labels 0..k-1, as lime indexes segments by position.
    return np.unique(labels, return_inverse=True)[1].reshape(h, w)


def lime_image(case, subject, x, classes, config, seed) -> Attribution:
    from lime.lime_image import LimeImageExplainer

    lo, hi = case.target.input_range
    c = x.shape[1]
    out = np.zeros(tuple(x.shape), dtype=np.float32)

    def classifier_fn(images: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float()
        if c == 1:
            batch = batch[:, :1]
        return _predict(case, subject, batch * (hi - lo) + lo)

    for i in range(len(x)):
        image = ((x[i].cpu().numpy() - lo) / (hi - lo)).transpose(1, 2, 0).astype(np.float64)
        seg = segments(image, config.lime_segmentation, config.occlusion_window)
        label = int(classes[i]) if classes is not None else 0
        # A fresh seed per sample: a sample's map does not depend on its batch.
        explainer = LimeImageExplainer(feature_selection="none", random_state=int(seed) % 2**32)
        with contextlib.redirect_stderr(io.StringIO()), quiet_library_notes():  # lime's tqdm bar
            explanation = explainer.explain_instance(
                image[..., 0] if c == 1 else image,
                classifier_fn,
                labels=(label,),
                top_labels=None,
                hide_color=0.0,
                num_samples=config.lime_samples,
                batch_size=max(1, case.target.batch_size),
                segmentation_fn=lambda _image, seg=seg: seg,
                random_seed=int(seed) % 2**32,
            )
        sizes = np.bincount(seg.ravel())
        density = np.zeros(len(sizes))
        for segment, weight in explanation.local_exp[label]:
            density[segment] = weight / sizes[segment]
        out[i] = np.broadcast_to(density[seg] / c, out[i].shape)
    return Attribution(out)


def lime_text(case, subject, x, classes, config, seed) -> Attribution:
    from lime.lime_text import LimeTextExplainer

    vocab = case.target.vocab
    ids = {token: i for i, token in reversed(list(enumerate(vocab)))}
    unk = vocab[case.unk_id]
    length = x.shape[1]

    def classifier_fn(texts: list[str]) -> np.ndarray:
        batch = torch.zeros(len(texts), length, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [ids.get(t, case.unk_id) for t in text.split(" ") if t != ""][:length]
            batch[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return _predict(case, subject, batch)

    out = np.zeros(tuple(x.shape), dtype=np.float32)
    for i in range(len(x)):
        positions = np.nonzero(x[i].cpu().numpy() != 0)[0]
        text = " ".join(vocab[int(t)] for t in x[i, positions])
        label = int(classes[i]) if classes is not None else 0
        explainer = LimeTextExplainer(
            split_expression=lambda s: s.split(" "),
            bow=False,
            mask_string=unk,
            feature_selection="none",
            random_state=int(seed) % 2**32,
        )
        with quiet_library_notes():
            explanation = explainer.explain_instance(
                text,
                classifier_fn,
                labels=(label,),
                num_features=len(positions),
                num_samples=config.lime_samples,
            )
        for word, weight in explanation.local_exp[label]:
            out[i, positions[word]] = weight
    return Attribution(out)


def lime_tabular(case, subject, x, classes, config, seed) -> Attribution:
    from lime.lime_tabular import LimeTabularExplainer

    codec = case.codec
    rng = np.random.default_rng(seed)
    data = case.target.data
    rows = np.sort(rng.choice(len(data), min(len(data), 1000), replace=False))
    training = codec.encode(data[torch.from_numpy(rows)].numpy())
    regression = not subject.has_classes

    def explainer() -> LimeTabularExplainer:
        return LimeTabularExplainer(
            training,
            mode="regression" if regression else "classification",
            feature_names=case.space.names,
            categorical_features=codec.categorical,
            discretize_continuous=True,
            feature_selection="none",  # every feature is reported; no selection fits
            random_state=int(seed) % 2**32,
        )

    def predict(z: np.ndarray) -> np.ndarray:
        out = _predict(case, subject, torch.from_numpy(codec.decode(z)))
        return out[:, 0] if regression else out

    z = codec.encode(x.cpu().numpy())
    scores = np.zeros(z.shape)
    for i in range(len(z)):
        label = 1 if regression else int(classes[i])
        with quiet_library_notes():
            explanation = explainer().explain_instance(  # a fresh seed per sample
                z[i],
                predict,
                labels=(label,) if not regression else (1,),
                num_features=z.shape[1],
                num_samples=config.lime_samples,
            )
        for feature, weight in explanation.local_exp[label]:
            scores[i, feature] = weight
    return Attribution(case.space.spread(scores).astype(np.float32))


def lime(case, subject, x, classes, config, seed) -> Attribution:
    """LIME (lime's image, text or tabular explainer) for the Case's modality."""
    compute = {"image": lime_image, "text": lime_text, "tabular": lime_tabular}[case.space.modality]
    return compute(case, subject, x, classes, config, seed)

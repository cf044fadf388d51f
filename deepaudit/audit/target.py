"""``Target``: a user's model and evaluation data, seen the one way every audit needs.

Every audit family calls the model through a Target: a differentiable ``forward`` for
gradient methods, and batched, no-grad ``predict_proba`` / ``predict`` / ``score`` on the
target's device for everything else. The Target also carries what the audits need to
know about the data: its modality, feature names and ranges, vocabulary, class names,
and the sensitive attributes of each sample.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from deepaudit._validation import (
    NONE,
    InstanceOf,
    Interval,
    OneOf,
    Satisfies,
    as_class_indices,
    validate_params,
)
from deepaudit.audit.bars import nested_bar
from deepaudit.audit.device import gradient_context, resolve_device
from deepaudit.audit.huggingface import is_huggingface_model
from deepaudit.audit.memory import batch_budget_mb, batch_size_for, sample_bytes
from deepaudit.audit.preprocess import RawColumns, encode_raw
from deepaudit.audit.stream import (
    DEFAULT_SAMPLE_SIZE,
    LEVEL_COUNT,
    Batch,
    DataStream,
    StreamProfile,
    WithColumns,
    as_stream,
    is_streaming_source,
    profile_stream,
)
from deepaudit.errors import (
    LENGTH_MISMATCH_MESSAGE,
    DeepAuditError,
    NotApplicableError,
    ValidationError,
    article,
    described,
    model_call_error,
    parameter_error,
    plural,
)
from deepaudit.results import to_plain

KINDS = ("classifier", "autoencoder", "generator")
MODALITIES = ("image", "text", "tabular")
DEFAULT_ANOMALY_QUANTILE = 0.95

_OWNER = "Target"
_NOT_FOR_KIND = "Target.{method}() is for {kinds} targets; this target is {a_kind}."


def _is_array_like(x: Any) -> bool:
    return isinstance(x, torch.Tensor | np.ndarray | pd.DataFrame | pd.Series | list | tuple)


_CONSTRAINTS = {
    "model": [InstanceOf((nn.Module,), "a torch.nn.Module")],
    "kind": [OneOf(KINDS)],
    "modality": [OneOf(MODALITIES)],
    "batch_size": [NONE, Interval(int, 1, None)],
    "memory_budget_mb": [NONE, Interval(float, 1, None)],
    "latent_dim": [NONE, Interval(int, 1, None)],
    "anomaly_threshold": [NONE, Interval(float, None, None)],
    "name": [NONE, InstanceOf((str,), "a str")],
    "metadata": [NONE, InstanceOf((dict,), "a dict")],
    "input_range": [
        Satisfies(
            lambda r: len(r) == 2 and float(r[0]) < float(r[1]),
            "a pair (low, high) with low < high",
            (1.0, 0.0),
        )
    ],
    "discriminator": [NONE, InstanceOf((nn.Module,), "a torch.nn.Module")],
    "label_model": [
        NONE,
        Satisfies(
            lambda m: (
                isinstance(m, nn.Module)
                or (isinstance(m, Target) and m.kind == "classifier")
                or (callable(m) and not isinstance(m, type))
            ),
            "a torch.nn.Module or a function returning logits, or a classifier Target "
            "(e.g. deepaudit.models.load_model('digit_classifier'))",
            "digit_classifier",
        ),
    ],
    "class_names": [
        NONE,
        Satisfies(
            lambda c: (
                not isinstance(c, str | bytes)
                and isinstance(c, Sequence)
                and len(c) > 0
                and len({str(n) for n in c}) == len(c)
            ),
            "a list of distinct names, one per class (not one string)",
            "ab",
        ),
    ],
    "sample_size": [Interval(int, 1, None)],
    "sample_seed": [Interval(int, 0, 2**32 - 1)],
}


class Target:
    """A model under audit, with its evaluation data and what is known about it.

    Parameters
    ----------
    model
        The ``torch.nn.Module`` to audit. It is put in eval mode and moved to ``device``.
    kind
        ``"classifier"`` (returns logits; one logit per sample means binary),
        ``"autoencoder"`` (returns a reconstruction of its input) or ``"generator"``
        (maps a latent vector to a sample).
    modality
        ``"image"`` (float N×C×H×W), ``"text"`` (token ids N×L, padding id 0) or
        ``"tabular"`` (float N×F model inputs).
    data
        Evaluation inputs: a torch tensor, numpy array, pandas DataFrame or a torch
        Dataset yielding ``x`` or ``(x, y)``. For a generator: latent codes (optional;
        drawn with the audit's seed when absent). Data larger than memory streams: a
        torch ``DataLoader`` or ``IterableDataset`` (items ``x``, ``(x, y)`` or
        ``(x, y, sensitive)``), or the path of a parquet file or folder (tabular).
    labels, class_names
        Ground truth per sample and the name of each class. With parquet data,
        ``labels`` may name the label column.
    sensitive
        Sensitive attributes, one row per sample: a DataFrame or a dict of arrays. With
        parquet data, a list of column names.
    feature_names, categorical_features, feature_ranges
        Tabular only: a name per column; logical categorical features mapped to their
        columns (one-hot groups, or a single integer-coded column); valid (low, high)
        per column (defaults to the observed range).
    preprocess
        Tabular only: a fitted scikit-learn transformer (``ColumnTransformer``,
        ``Pipeline``) or a function that turns the raw DataFrame ``data`` (string
        columns allowed) into the model's inputs. Each raw column becomes one feature of
        the audit (a categorical one when its values are not numbers, whatever columns
        it is encoded into), so explanations, perturbations and reports name raw
        columns; ``feature_ranges`` are then in raw units.
    input_range
        Image only: the valid range of pixel values.
    vocab, tokenizer
        Text only: the token of each id (``vocab[0]`` is padding), and optionally the
        tokenizer that made the ids (a Hugging Face tokenizer), which identity-term
        templates are then encoded with. A ``transformers`` sequence classifier goes in
        as it is, with ids from its own tokenizer: its logits are read, padding is masked
        (``attention_mask``) and its word embeddings are the text attacks' and
        attributions' layer; see :meth:`from_huggingface` to start from strings.
    discriminator, latent_dim, reference_data
        Generators: the discriminator when there is one, the latent size, and real
        samples to compare against. Autoencoders: ``reference_data`` is the training data
        whose error quantile sets the anomaly threshold unless ``anomaly_threshold`` is given.
    train_data
        Optional: the samples the model was trained on, in the format of ``data`` (for a
        generator, of its outputs). The generative audit compares generated samples with
        them to detect memorisation; no other audit reads them.
    label_model
        Generators: a classifier of the samples they make (an ``nn.Module`` or a
        function returning logits, or a classifier Target, whose name and class names
        are then shown). The
        fairness audit's class coverage and the robustness audit's latent stability
        read its predictions; when it has a ``features(x)`` method, the generative audit
        compares samples in that feature space.
    device, batch_size, memory_budget_mb
        Where the model runs (``"auto"``: CUDA when present), how many samples a batch
        holds and the memory (MB) one may take. ``None``: as many samples as the budget
        holds at one sample's cost, measured by a forward pass; the budget by default a
        quarter of the device's free memory, at most 1 GiB on a CPU.
    sample_size, sample_seed
        Streaming data only: the size and seed of the uniform random sample of rows
        kept in memory for the audits of individual samples (attributions, attacks,
        examples). Aggregate metrics are computed over every row.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        kind: str = "classifier",
        modality: str,
        data: Any = None,
        labels: Any = None,
        class_names: Sequence[str] | None = None,
        sensitive: Mapping[str, Any] | pd.DataFrame | None = None,
        feature_names: Sequence[str] | None = None,
        categorical_features: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
        feature_ranges: Mapping[str, tuple[float, float]] | None = None,
        preprocess: Any = None,
        input_range: tuple[float, float] = (0.0, 1.0),
        vocab: Sequence[str] | None = None,
        tokenizer: Any = None,
        discriminator: nn.Module | None = None,
        label_model: nn.Module | Target | None = None,
        latent_dim: int | None = None,
        reference_data: Any = None,
        train_data: Any = None,
        anomaly_threshold: float | None = None,
        name: str | None = None,
        metadata: dict | None = None,
        device: str | torch.device = "auto",
        batch_size: int | None = None,
        memory_budget_mb: float | None = None,
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        sample_seed: int = 0,
    ) -> None:
        validate_params(
            _OWNER,
            {
                "model": model,
                "kind": kind,
                "modality": modality,
                "batch_size": batch_size,
                "memory_budget_mb": memory_budget_mb,
                "latent_dim": latent_dim,
                "anomaly_threshold": anomaly_threshold,
                "name": name,
                "metadata": metadata,
                "input_range": input_range,
                "discriminator": discriminator,
                "label_model": label_model,
                "class_names": class_names,
                "sample_size": sample_size,
                "sample_seed": sample_seed,
            },
            _CONSTRAINTS,
        )
        self.kind = kind
        self.modality = modality
        self.device = resolve_device(device, _OWNER)
        self.name = name or type(model).__name__
        self.metadata = dict(metadata or {})
        self.tokenizer = tokenizer
        #: Text: the padding id of the model's own tokenizer (ids 0 and it are swapped).
        self.pad_id = 0
        if is_huggingface_model(model):
            model, data, vocab, train_data, reference_data = self._adopt_huggingface(
                model, data, vocab, train_data, reference_data, class_names
            )
        self._memory_budget_mb = None if memory_budget_mb is None else float(memory_budget_mb)
        self.input_range = (float(input_range[0]), float(input_range[1]))
        # Samples passed through the model, for cost accounting; shared with the sample.
        self._evaluations = _Counter()

        self.stream: DataStream | None = None
        self.profile: StreamProfile | None = None
        #: Tabular streams: each column's mean over every row (the sample keeps it).
        self.column_means: np.ndarray | None = None
        if is_streaming_source(data):
            if kind == "generator":
                raise parameter_error(
                    "data", _OWNER, "latent codes in memory for a generator", data
                )
            if modality != "tabular" and not isinstance(
                data, DataStream | torch.utils.data.DataLoader | torch.utils.data.IterableDataset
            ):
                raise parameter_error(
                    "data", _OWNER, f"a DataLoader for streamed {modality} data", data
                )
            stream, labels, sensitive = as_stream(
                data,
                labels=labels,
                sensitive=sensitive,
                feature_names=feature_names,
                batch_size=batch_size,
            )
            if feature_names is None and hasattr(stream, "features"):
                feature_names = stream.features
            labels = None if labels is None else _to_labels(labels, len(labels))
            sensitive = None if sensitive is None else _to_sensitive(sensitive, _n_rows(sensitive))
            if labels is not None or sensitive is not None:
                stream = WithColumns(stream, labels, sensitive)
            self.profile = profile_stream(
                stream, tabular=modality == "tabular", sample_size=sample_size, seed=sample_seed
            )
            for name, given in (("labels", labels), ("sensitive", sensitive)):
                if given is not None and len(given) != self.profile.n_rows:
                    raise ValidationError(
                        LENGTH_MISMATCH_MESSAGE.format(
                            name=name, owner=_OWNER, expected=self.profile.n_rows, got=len(given)
                        )
                    )
            self.stream = stream
            if self.profile.column_sum is not None:
                self.column_means = self.profile.column_sum / self.profile.n_rows
            data = self.profile.sample_x
            labels = self.profile.sample_labels
            sensitive = self.profile.sample_sensitive

        self.raw_columns: RawColumns | None = None
        if preprocess is not None:
            (
                data,
                reference_data,
                train_data,
                feature_names,
                categorical_features,
                feature_ranges,
            ) = self._encode_raw(
                preprocess,
                data,
                reference_data,
                train_data,
                feature_names,
                categorical_features,
                feature_ranges,
            )
        data, dataset_labels = _dataset_to_arrays(data)
        if labels is None:
            labels = dataset_labels
        if isinstance(data, pd.DataFrame) and feature_names is None:
            feature_names = [str(c) for c in data.columns]

        if kind == "generator":
            if latent_dim is None:
                raise parameter_error(
                    "latent_dim", _OWNER, "an int in the range [1, inf) for a generator", None
                )
            self.data = None if data is None else _to_tensor(data, "data", torch.float32)
            if self.data is not None and (self.data.ndim != 2 or self.data.shape[1] != latent_dim):
                raise parameter_error(
                    "data",
                    _OWNER,
                    f"latent codes of shape (N, {latent_dim}) for a generator",
                    self.data,
                )
        else:
            if data is None:
                raise parameter_error(
                    "data", _OWNER, f"evaluation data for {article(kind)} {kind} target", None
                )
            dtype = torch.long if modality == "text" else torch.float32
            self.data = _to_tensor(data, "data", dtype)
            _check_data_shape(self.data, modality)
        self.latent_dim = latent_dim

        dtype = torch.long if modality == "text" else torch.float32
        self.reference_data = _optional_samples(reference_data, "reference_data", dtype)
        self.train_data = _optional_samples(train_data, "train_data", dtype)
        self._check_sample_shapes()
        n = 0 if self.data is None else int(self.data.shape[0])
        self.labels = None if labels is None else _to_labels(labels, n)
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.sensitive = _to_sensitive(sensitive, n)
        self._set_tabular_schema(feature_names, categorical_features, feature_ranges)
        if modality == "text":
            if vocab is None:
                raise parameter_error("vocab", _OWNER, "a list of tokens for text data", None)
            self.vocab = [str(t) for t in vocab]
            low, top = (
                (int(self.profile.minimum.min()), int(self.profile.maximum.max()))
                if self.profile is not None
                else (int(self.data.min()), int(self.data.max()))
            )
            if low < 0:
                raise parameter_error(
                    "data",
                    _OWNER,
                    f"token ids in [0, {len(self.vocab) - 1}] (one per vocab entry)",
                    described(f"ids ranging over [{low}, {top}]"),
                )
            if top >= len(self.vocab):
                raise parameter_error(
                    "data",
                    _OWNER,
                    f"token ids below the vocabulary size {len(self.vocab)}",
                    described(f"a maximum id of {top}"),
                )
        else:
            self.vocab = None

        if any(p.is_meta for p in model.parameters()):
            raise parameter_error(
                "model",
                _OWNER,
                "a model whose weights are in memory (load them first, e.g. "
                "model.load_state_dict(state, assign=True))",
                described("a model on the meta device"),
            )
        self.model = model.to(self.device).eval()
        self.discriminator = None if discriminator is None else discriminator.to(self.device).eval()
        self._set_label_model(label_model)
        self._batch_size = batch_size  # None: measured on first use (see batch_size)
        self._batch_size_given = batch_size is not None
        # The samples the families audit (rows explained or attacked, latents generated)
        # are drawn with this, apart from the audit's seed (run_audit sets it from
        # AuditConfig.sample_seed); the seed drives the audit's own randomness.
        self.sample_seed = 0
        self._anomaly_threshold = None if anomaly_threshold is None else float(anomaly_threshold)

        if self.labels is not None and kind == "classifier" and self.class_names is not None:
            n_classes = len(self.class_names)
            low, high = (
                self.profile.label_range
                if self.profile is not None
                else (self.labels.min(), self.labels.max())
            )
            if high >= n_classes or low < 0:
                raise parameter_error(
                    "labels",
                    _OWNER,
                    f"integer class indices in [0, {n_classes - 1}] (one per class name)",
                    described(f"labels ranging over [{low}, {high}]"),
                )

    @classmethod
    def from_huggingface(
        cls,
        model: nn.Module,
        tokenizer: Any,
        texts: Sequence[str],
        *,
        labels: Any = None,
        sensitive: Any = None,
        class_names: Sequence[str] | None = None,
        max_length: int = 128,
        **kwargs: Any,
    ) -> Target:
        """A text classifier Target from raw strings, tokenised by the model's own
        tokenizer (padded to the longest text, truncated to ``max_length`` pieces or the
        model's ``max_position_embeddings``, whichever is fewer)."""
        from deepaudit.audit import huggingface as hf

        if not hf.is_huggingface_model(model):
            raise parameter_error(
                "model", "Target.from_huggingface", "a transformers PreTrainedModel", model
            )
        if not callable(tokenizer) or not hasattr(tokenizer, "convert_ids_to_tokens"):
            raise parameter_error(
                "tokenizer", "Target.from_huggingface", "a Hugging Face tokenizer", tokenizer
            )
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            max_length = min(max_length, positions)  # the longest input the model reads
        probe = hf.encode_texts(tokenizer, texts, max_length, 0)  # checks the texts
        width = max(1, int((probe != hf.pad_id_of(model, tokenizer)).sum(axis=1).max()))
        ids = tokenizer(list(texts), padding="max_length", truncation=True, max_length=width)
        if class_names is None:
            labels_of = getattr(model.config, "id2label", None) or {}
            names = [str(labels_of.get(i, i)) for i in range(int(model.config.num_labels))]
            class_names = None if all(n.startswith("LABEL_") for n in names) else names
        kwargs.setdefault("name", type(model).__name__)
        return cls(
            model,
            modality="text",
            data=np.asarray(ids["input_ids"], dtype=np.int64),
            labels=labels,
            sensitive=sensitive,
            class_names=class_names,
            tokenizer=tokenizer,
            **kwargs,
        )

    def _adopt_huggingface(self, model, data, vocab, train_data, reference_data, class_names):
        """The transformers model wrapped to take padded ids and give logits; ids and
        vocabulary with the tokenizer's padding id swapped to 0."""
        from deepaudit.audit import huggingface as hf

        if self.kind != "classifier" or self.modality != "text":
            raise parameter_error(
                "model",
                _OWNER,
                "a transformers model audited as kind='classifier', modality='text' (a "
                "sequence classifier over token ids)",
                described(f"one given kind={self.kind!r}, modality={self.modality!r}"),
            )
        hf.check_output_width(model, class_names)
        self.pad_id = hf.pad_id_of(model, self.tokenizer)
        if vocab is None and self.tokenizer is not None:
            vocab = hf.tokenizer_vocab(self.tokenizer)
        if vocab is not None:
            vocab = hf.swap_vocab(vocab, self.pad_id)

        def swapped(ids):
            if ids is None or not _is_array_like(ids):
                return ids
            ids = ids if isinstance(ids, torch.Tensor) else np.asarray(ids)
            return hf.swap_ids(ids, self.pad_id)

        wrapped = hf.HuggingFaceClassifier(model, self.pad_id)
        self.metadata.setdefault("embedding_layer", wrapped.embedding_path())
        self.metadata.setdefault("huggingface_model", type(model).__name__)
        return wrapped, swapped(data), vocab, swapped(train_data), swapped(reference_data)

    def encode_texts(self, texts: Sequence[str], width: int) -> np.ndarray:
        """Token ids (padding 0) of ``texts`` as this target's model reads them: by its
        tokenizer when it has one, else by deepaudit's word tokenisation of ``vocab``."""
        if self.tokenizer is not None:
            from deepaudit.audit import huggingface as hf

            return hf.encode_texts(self.tokenizer, texts, width, self.pad_id)
        from deepaudit.audit import text

        return text.encode([text.tokenize(t) for t in texts], self.vocab, width)

    def _encode_raw(
        self,
        preprocess,
        data,
        reference_data,
        train_data,
        feature_names,
        categorical_features,
        feature_ranges,
    ) -> tuple:
        """The raw DataFrames encoded by ``preprocess``, with the names and groups of the
        encoded columns that make each raw column one logical feature."""
        if self.modality != "tabular" or self.kind == "generator" or self.stream is not None:
            raise parameter_error(
                "preprocess",
                _OWNER,
                "None except for tabular classifiers and autoencoders with data in memory",
                described(
                    f"a preprocessing step for {article(self.kind)} {self.kind} of "
                    f"{self.modality} data" + (" that streams" if self.stream else "")
                ),
            )
        for name, value in (
            ("feature_names", feature_names),
            ("categorical_features", categorical_features),
        ):
            if value is not None:
                raise parameter_error(
                    name, _OWNER, "None with preprocess= (it comes from the raw columns)", value
                )
        encoded, mapping = encode_raw(preprocess, data)
        self.raw_columns = mapping
        extra = []
        for name, raw in (("reference_data", reference_data), ("train_data", train_data)):
            if raw is not None:
                if not isinstance(raw, pd.DataFrame):
                    raise parameter_error(
                        name, _OWNER, "a raw DataFrame like data (preprocess= encodes it)", raw
                    )
                raw = encode_raw(preprocess, raw)[0]
            extra.append(raw)
        names = mapping.encoded_names
        groups = {c: [names[j] for j in mapping.groups[c]] for c in mapping.categorical}
        ranges = None
        if feature_ranges is not None:
            ranges = {}
            for column, bounds in feature_ranges.items():
                if column not in mapping.affine:
                    raise parameter_error(
                        "feature_ranges",
                        _OWNER,
                        "ranges of numeric raw columns that the preprocessing scales "
                        f"affinely ({', '.join(mapping.affine) or 'none'})",
                        column,
                    )
                slope, intercept = mapping.affine[column]
                lo, hi = sorted(slope * float(b) + intercept for b in bounds)
                ranges[column] = (lo, hi)
        return encoded, extra[0], extra[1], names, groups, ranges

    def _check_sample_shapes(self) -> None:
        """Reference and training samples have the shape of a sample of the data (for a
        generator, of each other: both are samples it is compared with)."""
        if self.kind == "generator":
            shape = None if self.reference_data is None else tuple(self.reference_data.shape[1:])
        elif self.profile is not None:
            shape = tuple(self.profile.sample_x.shape[1:])
        else:
            shape = tuple(self.data.shape[1:])
        for name in ("reference_data", "train_data"):
            given = getattr(self, name)
            if given is None or shape is None:
                continue
            if given.ndim < 1 or tuple(given.shape[1:]) != shape:
                raise parameter_error(
                    name,
                    _OWNER,
                    f"samples of the data's shape {shape}, one per row",
                    described(f"samples of shape {tuple(given.shape[1:])}"),
                )

    # -- what the data is --------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        """Evaluation rows: all of them, also when they stream."""
        if self.profile is not None:
            return self.profile.n_rows
        return 0 if self.data is None else int(self.data.shape[0])

    @property
    def streaming(self) -> bool:
        """True when the evaluation data is read batch by batch, not held in memory.

        ``data``, ``labels`` and ``sensitive`` then hold a seeded sample of the rows.
        """
        return self.stream is not None

    def iter_batches(self, *, desc: str | None = None) -> Iterator[Batch]:
        """Every evaluation row, in order, in batches of inputs, labels and attributes."""
        if self.stream is not None:
            batches: Any = iter(self.stream)
        else:
            batches = (
                Batch(
                    self.data[start : start + self.batch_size],
                    None if self.labels is None else self.labels[start : start + self.batch_size],
                    None
                    if self.sensitive is None
                    else self.sensitive.iloc[start : start + self.batch_size].reset_index(
                        drop=True
                    ),
                    start,
                )
                for start in range(0, self.n_samples, self.batch_size)
            )
        if desc is not None:
            total = -(-self.n_samples // max(1, self._stream_batch_size()))
            batches = nested_bar(batches, desc=desc, total=total, unit="batch")
        yield from batches

    def _stream_batch_size(self) -> int:
        return self.stream.batch_size if self.stream is not None else self.batch_size

    def sensitive_levels(self) -> pd.DataFrame | None:
        """The distinct combinations of the sensitive attributes over every row, with a
        :data:`LEVEL_COUNT` column (from the profiling pass when the data streams); its
        name cannot be an attribute's (an attribute may be called ``count``)."""
        if self.sensitive is None:
            return None
        if self.profile is not None:
            return self.profile.levels
        counts = self.sensitive.value_counts(sort=False)
        levels = counts.index.to_frame(index=False)
        levels.columns = list(self.sensitive.columns)
        levels[LEVEL_COUNT] = counts.to_numpy()
        return levels

    def sample_target(self) -> Target:
        """An in-memory Target of the sampled rows (itself when nothing streams). It
        counts its model evaluations with this target's counter."""
        if self.stream is None:
            return self
        return self._clone(self._evaluations)

    def for_worker(self) -> Target:
        """The model without the data: what a remote worker needs to run batches (with
        this target's batch size, measured here where there is data to measure on)."""
        return self._clone(
            _Counter(),
            _batch_size=self.batch_size,
            _batch_size_given=True,
            data=None,
            labels=None,
            sensitive=None,
            reference_data=None,
            train_data=None,
        )

    def sample_rng(self, stream: int = 0) -> np.random.Generator:
        """A generator for choosing which samples to audit (one ``stream`` per use)."""
        return np.random.default_rng([self.sample_seed, stream])

    def _clone(self, counter: _Counter, **changes: Any) -> Target:
        """A copy in memory (no stream) sharing the model, with ``changes`` applied."""
        clone = object.__new__(Target)
        clone.__dict__.update(self.__dict__)
        clone.stream, clone.profile = None, None
        clone.__dict__.update(changes)
        clone._evaluations = counter
        return clone

    @property
    def n_evaluations(self) -> int:
        """Samples passed through the model so far (its sample's included)."""
        return self._evaluations.value

    @n_evaluations.setter
    def n_evaluations(self, value: int) -> None:
        self._evaluations.value = int(value)

    @property
    def sensitive_names(self) -> list[str]:
        return [] if self.sensitive is None else [str(c) for c in self.sensitive.columns]

    @property
    def n_classes(self) -> int | None:
        if self.kind != "classifier":
            return None
        if self.class_names is not None:
            return len(self.class_names)
        out = self.predict_logits(self.data[:1])
        return max(2, out.shape[1])

    def _set_label_model(self, label_model: nn.Module | Target | None) -> None:
        if isinstance(self.metadata.get("label_model"), str):
            raise parameter_error(
                "metadata",
                _OWNER,
                "no 'label_model' name (pass the classifier itself: "
                "Target(label_model=deepaudit.models.load_model(name)))",
                described(f"metadata['label_model'] = {self.metadata['label_model']!r}"),
            )
        self.label_model_name: str | None = None
        self.label_class_names: list[str] | None = None
        if isinstance(label_model, Target):
            self.label_model_name = label_model.name
            self.label_class_names = label_model.class_names
            label_model = label_model.model
        elif label_model is not None:
            self.label_model_name = getattr(label_model, "__name__", type(label_model).__name__)
            if not isinstance(label_model, nn.Module):
                label_model = _FunctionModule(label_model)
        self.label_model = None if label_model is None else label_model.to(self.device).eval()

    def label_classes(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """The label model's class for each sample of ``x``: batched, without gradients,
        counted among this target's model evaluations."""
        if self.label_model is None:
            raise NotApplicableError("Target.label_classes() needs Target(label_model=...).")
        x = _to_tensor(x, "x", torch.float32)
        out = []
        with torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                chunk = x[start : start + self.batch_size].to(self.device)
                out.append(self.call(self.label_model, chunk).argmax(dim=1).cpu())
                self.n_evaluations += len(chunk)
        return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, dtype=np.int64)

    def _set_tabular_schema(self, feature_names, categorical_features, feature_ranges) -> None:
        self.feature_names = None
        self.feature_groups: dict[str, list[int]] = {}
        self.categorical: list[str] = []
        self.feature_ranges: dict[str, tuple[float, float]] = {}
        if self.modality != "tabular":
            for arg, value in (
                ("feature_names", feature_names),
                ("categorical_features", categorical_features),
                ("feature_ranges", feature_ranges),
            ):
                if value is not None:
                    raise parameter_error(arg, _OWNER, "None for non-tabular data", value)
            return
        # A generator's data are latent codes: its features are those of the real rows.
        source = self.reference_data if self.kind == "generator" else self.data
        if source is None and self.profile is None:
            raise parameter_error(
                "reference_data" if self.kind == "generator" else "data",
                _OWNER,
                "real rows of the tabular features (they name and bound them)"
                if self.kind == "generator"
                else "the evaluation rows",
                None,
            )
        width = source.shape[1] if source is not None else len(self.profile.minimum)
        if feature_names is None:
            feature_names = [f"x{i}" for i in range(width)]
        feature_names = [str(f) for f in feature_names]
        if len(feature_names) != width or len(set(feature_names)) != width:
            raise parameter_error(
                "feature_names", _OWNER, f"{width} distinct names, one per column", feature_names
            )
        self.feature_names = feature_names
        index = {f: i for i, f in enumerate(feature_names)}
        if categorical_features is None:
            categorical_features = {}
        elif not isinstance(categorical_features, Mapping):
            categorical_features = {str(f): [str(f)] for f in categorical_features}
        grouped: dict[str, list[int]] = {}
        for feature, columns in categorical_features.items():
            cols = [columns] if isinstance(columns, str) else list(columns)
            unknown = [c for c in cols if c not in index]
            if unknown or not cols:
                raise parameter_error(
                    "categorical_features",
                    _OWNER,
                    "a mapping from each categorical feature to its columns in feature_names",
                    described(f"{feature!r} -> {unknown or cols}"),
                )
            grouped[str(feature)] = [index[c] for c in cols]
        taken = {i for cols in grouped.values() for i in cols}
        # Logical features in column order: a categorical group sits where its first column is.
        order: list[tuple[int, str, list[int]]] = [
            (min(cols), f, cols) for f, cols in grouped.items()
        ]
        order += [(i, f, [i]) for f, i in index.items() if i not in taken]
        self.feature_groups = {f: cols for _, f, cols in sorted(order)}
        self.categorical = list(grouped)
        if self.profile is not None:
            observed_lo = self.profile.minimum.tolist()
            observed_hi = self.profile.maximum.tolist()
        else:
            observed_lo = source.min(dim=0).values.tolist()
            observed_hi = source.max(dim=0).values.tolist()
        ranges = {f: (observed_lo[i], observed_hi[i]) for f, i in index.items()}
        for column, bounds in (feature_ranges or {}).items():
            if column not in index:
                raise parameter_error(
                    "feature_ranges", _OWNER, "ranges keyed by names in feature_names", column
                )
            if (
                not isinstance(bounds, list | tuple)
                or len(bounds) != 2
                or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) for b in bounds)
            ):
                raise parameter_error(
                    "feature_ranges",
                    _OWNER,
                    "(low, high) pairs of numbers",
                    described(f"{column!r}: {bounds!r}"),
                )
            lo, hi = float(bounds[0]), float(bounds[1])
            if not lo <= hi:
                raise parameter_error(
                    "feature_ranges", _OWNER, "(low, high) pairs with low <= high", bounds
                )
            ranges[column] = (lo, hi)
        self.feature_ranges = ranges
        rows = source if source is not None else self.profile.sample_x
        for feature in self.categorical:
            _check_categorical(feature, self.feature_groups[feature], feature_names, rows, ranges)

    def tokens(self, i: int) -> list[str]:
        """The tokens of text sample ``i``, padding removed."""
        if self.vocab is None:
            raise NotApplicableError(
                _NOT_FOR_KIND.format(
                    method="tokens",
                    kinds="text",
                    a_kind=f"{article(self.modality)} {self.modality} one",
                )
            )
        return [self.vocab[t] for t in self.data[i].tolist() if t != 0]

    # -- calling the model -------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model's raw output on ``x``, with gradients, on the target's device.

        Works for gradient methods on models in eval mode, recurrent ones included.
        """
        x = x.to(self.device)
        self.n_evaluations += int(x.shape[0])
        with gradient_context(self.model, self.device):
            return self.call(self.model, x)

    def call(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``module(x)``; an exception the user's module raises comes back as a
        :class:`~deepaudit.errors.ModelCallError` that says which module, on what batch."""
        try:
            return module(x)
        except DeepAuditError:
            raise
        except Exception as exc:
            raise model_call_error(self._module_name(module), x, exc) from exc

    def _module_name(self, module: nn.Module) -> str:
        if module is self.model:
            return "model"
        if module is self.discriminator:
            return "discriminator"
        return "label_model" if module is self.label_model else type(module).__name__

    def score_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """The differentiable quantity audits explain and attack, one row per sample.

        Classifier: logits (N×C; a single logit becomes N×2 as [0, z]). Autoencoder: the
        anomaly score, mean squared reconstruction error (N). Generator: the
        discriminator's logit on ``x`` (N).
        """
        if self.kind == "classifier":
            return _as_two_logits(self.forward(x))
        if self.kind == "autoencoder":
            x = x.to(self.device)
            recon = self.forward(x)
            return ((recon - x) ** 2).flatten(1).mean(dim=1)
        if self.discriminator is None:
            raise NotApplicableError(
                "This generator has no discriminator, so there is no score to differentiate."
            )
        x = x.to(self.device)
        self.n_evaluations += int(x.shape[0])
        with gradient_context(self.discriminator, self.device):
            return self.call(self.discriminator, x).reshape(x.shape[0], -1)[:, 0]

    def batches(
        self, x: torch.Tensor | None = None, *, desc: str | None = None
    ) -> Iterator[torch.Tensor]:
        """Slices of ``x`` (default: the evaluation data) of at most ``batch_size`` rows."""
        x = self._inputs(x)
        starts = range(0, int(x.shape[0]), self.batch_size)
        if desc is not None:
            starts = nested_bar(starts, desc=desc, unit="batch")
        for start in starts:
            yield x[start : start + self.batch_size]

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor], x: Any) -> np.ndarray:
        outputs = []
        with torch.no_grad():
            for batch in self.batches(x):
                outputs.append(fn(batch.to(self.device)).detach().float().cpu())
        if not outputs:
            return np.zeros((0,), dtype=np.float32)
        return torch.cat(outputs).numpy()

    def _inputs(self, x: Any) -> torch.Tensor:
        if x is None and self.stream is not None:
            raise NotApplicableError(
                "This target streams its data, so there is no whole-data array to compute on: "
                "pass x, iterate target.iter_batches(), or use target.sample_target()."
            )
        if x is None:
            if self.data is None:
                raise parameter_error("x", _OWNER, "inputs (the target has no data)", None)
            return self.data
        if isinstance(x, torch.Tensor):
            return x
        dtype = (
            torch.long if self.modality == "text" and self.kind != "generator" else torch.float32
        )
        return _to_tensor(x, "x", dtype)

    def _counted_model(self, module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        def call(batch: torch.Tensor) -> torch.Tensor:
            self.n_evaluations += int(batch.shape[0])
            return self.call(module, batch)

        return call

    def predict_logits(self, x: Any = None) -> np.ndarray:
        """Logits of a classifier, N×C (a single-logit binary model gives N×2)."""
        self._require("predict_logits", ("classifier",))
        call = self._counted_model(self.model)
        return self._map(lambda b: _as_two_logits(call(b)), x)

    def predict_proba(self, x: Any = None) -> np.ndarray:
        """Class probabilities, N×C, batched and without gradients."""
        logits = torch.from_numpy(self.predict_logits(x))
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, x: Any = None) -> np.ndarray:
        """Predicted class index (classifier) or anomaly flag 0/1 (autoencoder)."""
        self._require("predict", ("classifier", "autoencoder"))
        if self.kind == "autoencoder":
            return (self.score(x) > self.anomaly_threshold).astype(np.int64)
        return self.predict_logits(x).argmax(axis=1).astype(np.int64)

    def score(self, x: Any = None) -> np.ndarray:
        """One number per sample: P(class 1) for binary classifiers (max probability for
        multiclass), reconstruction error for autoencoders, P(real) from a discriminator."""
        if self.kind == "classifier":
            proba = self.predict_proba(x)
            return proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)
        if self.kind == "autoencoder":
            return self.reconstruction_error(x)
        if self.discriminator is None:
            raise NotApplicableError("This generator has no discriminator to score samples.")
        call = self._counted_model(self.discriminator)
        return self._map(lambda b: torch.sigmoid(call(b).reshape(b.shape[0], -1)[:, 0]), x)

    def reconstruct(self, x: Any = None) -> np.ndarray:
        self._require("reconstruct", ("autoencoder",))
        return self._map(self._counted_model(self.model), x)

    def reconstruction_error(self, x: Any = None) -> np.ndarray:
        """Mean squared reconstruction error per sample: the anomaly score."""
        self._require("reconstruction_error", ("autoencoder",))
        call = self._counted_model(self.model)
        return self._map(lambda b: ((call(b) - b) ** 2).flatten(1).mean(dim=1), x)

    @property
    def anomaly_threshold(self) -> float:
        """Score above which a sample is flagged: given, or a quantile of reference error."""
        self._require("anomaly_threshold", ("autoencoder",))
        if self._anomaly_threshold is None:
            reference = self.reference_data if self.reference_data is not None else self.data
            errors = self.reconstruction_error(reference)
            self._anomaly_threshold = float(np.quantile(errors, DEFAULT_ANOMALY_QUANTILE))
        return self._anomaly_threshold

    def latent(self, n: int, seed: int) -> torch.Tensor:
        """``n`` standard normal latent codes drawn with ``seed`` (the same on any device)."""
        self._require("latent", ("generator",))
        generator = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.latent_dim, generator=generator)

    def generate(
        self, n: int | None = None, seed: int = 0, z: torch.Tensor | None = None
    ) -> np.ndarray:
        """Samples from a generator for latent codes ``z`` (default: the target's codes, or
        ``n`` codes drawn with ``seed``)."""
        self._require("generate", ("generator",))
        if z is None:
            z = self.data if n is None and self.data is not None else self.latent(n or 256, seed)
        return self._map(self._counted_model(self.model), z)

    def _require(self, method: str, kinds: tuple[str, ...]) -> None:
        if self.kind not in kinds:
            raise NotApplicableError(
                _NOT_FOR_KIND.format(
                    method=method,
                    kinds=" or ".join(kinds),
                    a_kind=f"{article(self.kind)} {self.kind}",
                )
            )

    # -- provenance ---------------------------------------------------------------------

    def model_sha256(self) -> str:
        """sha256 of the weights (and discriminator's), independent of device."""
        digest = hashlib.sha256()
        modules = [self.model] + ([self.discriminator] if self.discriminator is not None else [])
        for module in modules:
            for key, tensor in sorted(module.state_dict().items()):
                digest.update(key.encode())
                _update_tensor(digest, tensor)
        return digest.hexdigest()

    def data_sha256(self) -> str:
        """sha256 of the evaluation data, labels and sensitive attributes."""
        digest = hashlib.sha256()
        if self.profile is not None:
            digest.update(self.profile.sha256.encode())
        for part in (
            None if self.profile is not None else self.data,
            self.reference_data,
            self.train_data,
        ):
            if part is not None:
                _update_tensor(digest, part)
        if self.labels is not None and self.profile is None:
            digest.update(np.ascontiguousarray(self.labels).tobytes())
        if self.sensitive is not None and self.profile is None:
            digest.update(pd.util.hash_pandas_object(self.sensitive, index=False).values.tobytes())
        return digest.hexdigest()

    def describe(self) -> dict:
        """Plain-data description of the target, stored in every audit bundle."""
        levels = self.sensitive_levels()
        info: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "modality": self.modality,
            "model_class": type(self.model).__name__,
            "n_parameters": int(sum(p.numel() for p in self.model.parameters())),
            "n_samples": self.n_samples,
            "input_shape": None if self.data is None else list(self.data.shape[1:]),
            "class_names": self.class_names,
            "input_range": list(self.input_range),
            "sensitive": {c: sorted(map(str, levels[c].unique())) for c in self.sensitive_names},
            "metadata": to_plain(self.metadata, default=str),
        }
        if self.stream is not None:
            info["streaming"] = {
                "source": self.stream.describe(),
                "batch_size": self.stream.batch_size,
                "sample_size": int(self.data.shape[0]),
            }
        if self.modality == "tabular":
            info["feature_names"] = self.feature_names
            info["feature_groups"] = self.feature_groups
            info["categorical_features"] = self.categorical
        if self.raw_columns is not None:
            info["raw_columns"] = self.raw_columns.to_dict()
        if self.vocab is not None:
            info["vocab_size"] = len(self.vocab)
        if self.kind == "generator":
            info["latent_dim"] = self.latent_dim
            info["has_discriminator"] = self.discriminator is not None
        if self.label_model is not None:
            info["label_model"] = self.label_model_name
        return info

    @property
    def batch_size(self) -> int:
        """Samples one batch holds: the one given, else as many as the memory budget
        (:func:`deepaudit.audit.memory.batch_budget_mb`) holds at the cost of one
        sample's forward and backward pass, measured on the first use by one forward pass
        of one sample with hooks."""
        if self._batch_size is None:
            devices = [self.device.index or 0] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):  # a model's noise leaves no trace
                cost = sample_bytes(self.model, self._one_sample().to(self.device))
            self._batch_size = batch_size_for(
                cost, batch_budget_mb(self.device, self.memory_budget_mb)
            )
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int | None) -> None:
        self._batch_size = None if value is None else int(value)
        self._batch_size_given = value is not None

    @property
    def memory_budget_mb(self) -> float | None:
        """The memory (MB) a batch may take; ``None``: a share of the free memory."""
        return self._memory_budget_mb

    @memory_budget_mb.setter
    def memory_budget_mb(self, value: float | None) -> None:
        self._memory_budget_mb = None if value is None else float(value)
        if not self._batch_size_given:
            self._batch_size = None  # measured again, within the new budget

    def _one_sample(self) -> torch.Tensor:
        if self.data is not None and len(self.data):
            return self.data[:1]
        return torch.zeros(1, self.latent_dim or 1)

    def to(self, device: str | torch.device) -> Target:
        """Move the model (and discriminator) to ``device``; returns the target itself."""
        device = resolve_device(device, _OWNER)
        if device != self.device and not self._batch_size_given:
            self._batch_size = None  # another device, another free memory
        self.device = device
        self.model.to(self.device)
        for module in (self.discriminator, self.label_model):
            if module is not None:
                module.to(self.device)
        return self

    def subset(self, indices: Sequence[int] | np.ndarray) -> Target:
        """The same model on a subset of the evaluation samples (labels, attributes too)."""
        idx = np.asarray(indices, dtype=np.int64)  # of a streaming target: of its sample
        return self._clone(
            _Counter(self.n_evaluations),
            data=self.data[torch.from_numpy(idx)],
            labels=None if self.labels is None else self.labels[idx],
            sensitive=None
            if self.sensitive is None
            else self.sensitive.iloc[idx].reset_index(drop=True),
        )

    def __repr__(self) -> str:
        return (
            f"Target(name={self.name!r}, kind={self.kind!r}, modality={self.modality!r}, "
            f"n_samples={self.n_samples}, device={str(self.device)!r})"
        )


class _FunctionModule(nn.Module):
    """A function of a batch returning logits, seen as a module (moved and evaluated
    like the others; it has no weights of its own)."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)


class _Counter:
    """A count that clones of one Target can share."""

    __slots__ = ("value",)

    def __init__(self, value: int = 0) -> None:
        self.value = int(value)


# -- conversions ------------------------------------------------------------------------


def _as_two_logits(out: torch.Tensor) -> torch.Tensor:
    """A binary model's single logit z becomes [0, z], whose softmax is [1-σ(z), σ(z)]."""
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:
        out = torch.cat([torch.zeros_like(out), out], dim=1)
    return out


def _dataset_to_arrays(data: Any) -> tuple[Any, Any]:
    """A torch Dataset becomes stacked inputs (and labels when items are pairs)."""
    if data is None or _is_array_like(data):
        return data, None
    if isinstance(data, torch.utils.data.Dataset):
        try:
            n = len(data)  # type: ignore[arg-type]
        except TypeError as exc:
            raise parameter_error("data", _OWNER, "a Dataset with a length", data) from exc
        items = [data[i] for i in range(n)]
        if items and isinstance(items[0], tuple | list):
            xs = torch.stack([torch.as_tensor(it[0]) for it in items])
            ys = np.asarray([int(torch.as_tensor(it[1])) for it in items])
            return xs, ys
        return torch.stack([torch.as_tensor(it) for it in items]), None
    raise parameter_error(
        "data",
        _OWNER,
        "a torch tensor, numpy array, pandas DataFrame or torch Dataset",
        data,
    )


def _optional_samples(x: Any, name: str, dtype: torch.dtype) -> torch.Tensor | None:
    """Extra samples (reference or training data) as a tensor; ``None`` stays ``None``."""
    return None if x is None else _to_tensor(_dataset_to_arrays(x)[0], name, dtype)


def _to_tensor(x: Any, name: str, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(x, pd.DataFrame | pd.Series):
        non_numeric = (
            [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
            if isinstance(x, pd.DataFrame)
            else ([] if pd.api.types.is_numeric_dtype(x) else [x.name])
        )
        if non_numeric:
            raise parameter_error(
                name,
                _OWNER,
                "numeric columns (encode categorical columns before building a Target)",
                described(f"non-numeric columns {non_numeric}"),
            )
        x = x.to_numpy()
    if isinstance(x, list | tuple):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        if x.dtype == object or x.dtype.kind in "USV":
            raise parameter_error(
                name,
                _OWNER,
                "a numeric array (encode categories as numbers before building a Target)",
                described(f"an array of {x.dtype} values"),
            )
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise parameter_error(name, _OWNER, "a torch tensor, numpy array or pandas DataFrame", x)
    x = x.detach().cpu()
    if dtype == torch.long and x.is_floating_point() and not torch.equal(x, x.round()):
        raise parameter_error(name, _OWNER, "integer token ids", described("non-integer values"))
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise parameter_error(name, _OWNER, "finite values", described("NaN or infinite values"))
    return x.to(dtype).contiguous()


def _check_categorical(
    feature: str,
    columns: list[int],
    names: list[str],
    rows: torch.Tensor | None,
    ranges: Mapping[str, tuple[float, float]],
) -> None:
    """A one-hot group's rows hold one 1 and 0s elsewhere; an integer-coded column holds
    whole numbers inside its declared range. Audits perturb categories by these rules,
    so data that breaks them would be audited as something it is not."""
    if rows is None or len(rows) == 0:
        return
    values = rows[:, columns].double()
    if len(columns) > 1:
        binary = (values == 0) | (values == 1)
        bad = ~(binary.all(dim=1) & (values.sum(dim=1) == 1))
        if bool(bad.any()):
            row = int(bad.nonzero()[0, 0])
            raise parameter_error(
                "data",
                _OWNER,
                f"one-hot rows in the columns of categorical feature {feature!r} "
                "(one 1 and 0s elsewhere in each row; encode every category, "
                "e.g. OneHotEncoder(drop=None))",
                described(
                    f"{int(bad.sum())} rows that are not, the first (row {row}) "
                    f"{[round(float(v), 4) for v in values[row].tolist()]}"
                ),
            )
        return
    column = values[:, 0]
    name = names[columns[0]]
    low, high = ranges[name]
    if not bool(torch.all(column == column.round())):
        raise parameter_error(
            "data",
            _OWNER,
            f"whole-number codes in the integer-coded categorical column {name!r}",
            described(f"values such as {float(column[column != column.round()][0])}"),
        )
    if float(column.min()) < low or float(column.max()) > high:
        raise parameter_error(
            "data",
            _OWNER,
            f"codes of categorical column {name!r} inside its feature_ranges [{low:g}, {high:g}]",
            described(f"codes ranging over [{float(column.min()):g}, {float(column.max()):g}]"),
        )


def _check_data_shape(x: torch.Tensor, modality: str) -> None:
    expected = {
        "image": (4, "N×C×H×W images"),
        "text": (2, "N×L token ids"),
        "tabular": (2, "an N×F table"),
    }
    ndim, label = expected[modality]
    if x.ndim != ndim:
        raise parameter_error("data", _OWNER, f"{label} for {modality} data", x)
    if x.shape[0] == 0:
        raise parameter_error("data", _OWNER, "at least one sample", x)


def _to_labels(labels: Any, n: int) -> np.ndarray:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    y = np.asarray(labels)
    if y.ndim != 1:
        raise parameter_error("labels", _OWNER, "a 1-d array of class indices", y)
    if len(y) != n:
        raise ValidationError(
            LENGTH_MISMATCH_MESSAGE.format(name="labels", owner=_OWNER, expected=n, got=len(y))
        )
    indices = as_class_indices(y)
    if indices is None:
        raise parameter_error("labels", _OWNER, "integer class indices", y)
    return indices


def _n_rows(sensitive: Any) -> int:
    """Rows of sensitive attributes given as a DataFrame or a dict of columns."""
    if isinstance(sensitive, Mapping):
        return len(next(iter(sensitive.values()), []))
    return len(sensitive)


def _to_sensitive(sensitive: Any, n: int) -> pd.DataFrame | None:
    if sensitive is None:
        return None
    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame()
    if isinstance(sensitive, Mapping):
        columns = {}
        for key, values in sensitive.items():
            if isinstance(values, torch.Tensor):
                values = values.cpu().numpy()
            values = np.asarray(values)
            if values.ndim != 1:
                raise parameter_error(f"sensitive[{key!r}]", _OWNER, "a 1-d array", values)
            if len(values) != n:
                raise ValidationError(
                    LENGTH_MISMATCH_MESSAGE.format(
                        name=f"sensitive[{key!r}]", owner=_OWNER, expected=n, got=len(values)
                    )
                )
            columns[str(key)] = values
        frame = pd.DataFrame(columns)
    elif isinstance(sensitive, pd.DataFrame):
        if len(sensitive) != n:
            raise ValidationError(
                LENGTH_MISMATCH_MESSAGE.format(
                    name="sensitive", owner=_OWNER, expected=n, got=len(sensitive)
                )
            )
        frame = sensitive.reset_index(drop=True).copy()
        frame.columns = [str(c) for c in frame.columns]
    else:
        raise parameter_error(
            "sensitive", _OWNER, "a pandas DataFrame or a dict of arrays", sensitive
        )
    if frame.shape[1] == 0:
        raise parameter_error("sensitive", _OWNER, "at least one attribute", "none")
    for column in frame.columns:
        if frame[column].isna().any():
            raise parameter_error(
                f"sensitive[{column!r}]",
                _OWNER,
                "a group for every sample",
                described(plural(int(frame[column].isna().sum()), "missing value")),
            )
    return frame


def _update_tensor(digest: Any, tensor: torch.Tensor) -> None:
    t = tensor.detach().cpu().contiguous()
    digest.update(str(t.dtype).encode())
    digest.update(str(tuple(t.shape)).encode())
    digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")

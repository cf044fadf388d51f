"""``text_transformer``: a small BERT telling fresh from rotten Rotten Tomatoes snippets,
trained from scratch through the Hugging Face route (``deepaudit[hf]``).

A WordPiece tokenizer trained on the training split with ``tokenizers`` ships with the
package and is kept, as JSON, in the manifest; the model is a ``transformers`` ``BertForSequenceClassification``
audited unwrapped, as users' Hugging Face models are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from deepaudit.audit.huggingface import HuggingFaceClassifier
from deepaudit.audit.target import Target
from deepaudit.models.datasets import rotten_tomatoes
from deepaudit.models.datasets._files import package_data_path
from deepaudit.models.recipes.base import SPLIT_SEED, Recipe, Trained, head, train_classifier
from deepaudit.models.recipes.lstm import (
    SNIPPETS_DATASET,
    SNIPPETS_LICENCE,
    SPLIT_FRACTIONS,
    snippet_splits,
    text_classifier_metrics,
)
from deepaudit.models.registry import Floor, ModelSpec, register_model
from deepaudit.models.training import TrainConfig

MAX_LEN = 64
VOCAB_SIZE = 6000
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BERT = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "max_position_embeddings": MAX_LEN,
    "hidden_dropout_prob": 0.2,
    "attention_probs_dropout_prob": 0.1,
    "num_labels": 2,
}


#: The WordPiece tokenizer the model was trained with, shipped: ``tokenizers``' trainer
#: breaks ties between equally frequent merges in hash order, so two trainings on the
#: same texts can differ; made once by :func:`train_tokenizer` on the training split.
TOKENIZER_FILE = "rotten_tomatoes_wordpiece.json"


def shipped_tokenizer() -> str:
    return package_data_path(TOKENIZER_FILE).read_text(encoding="utf-8")


def train_tokenizer(texts: list[str]) -> str:
    """A BERT-style WordPiece tokenizer trained on ``texts``, as JSON (how the shipped
    one was made; not bit-for-bit repeatable, see :data:`TOKENIZER_FILE`)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import WordPieceTrainer

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        texts, WordPieceTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIALS, min_frequency=2)
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece()
    return tok.to_str()


def load_tokenizer(tokenizer_json: str):
    """The trained tokenizer as a transformers fast tokenizer."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer_json),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_LEN,
    )


def _bert(kwargs: Mapping[str, Any]) -> nn.Module:
    from transformers import BertConfig, BertForSequenceClassification

    return BertForSequenceClassification(BertConfig(**kwargs))


def _ids(tokenizer, texts: list[str]) -> torch.Tensor:
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=MAX_LEN)
    return torch.as_tensor(np.asarray(encoded["input_ids"], dtype=np.int64))


@register_model(
    ModelSpec(
        name="text_transformer",
        kind="classifier",
        modality="text",
        dataset=SNIPPETS_DATASET,
        licence=SNIPPETS_LICENCE,
        description=(
            "Classifies a movie-review snippet as rotten (0) or fresh (1) with a small "
            "BERT (transformers' BertForSequenceClassification) and its own WordPiece "
            "tokenizer, trained from scratch. It is audited as a Hugging Face model is: "
            "unwrapped, padding masked, the tokenizer's pieces shown."
        ),
        architecture="BERT: WordPiece 6,000, 2 layers, 128 wide, 4 heads, [CLS] pooler, linear head",
        floors=(Floor("accuracy", 0.74, description="accuracy on the held-out snippets"),),
        sensitive=(),
        planted_cues=(
            "None planted: use the identity-term templates (gender, religion, "
            "nationality, ethnicity), encoded whole by the model's tokenizer."
        ),
        limitations=(
            "Trained from scratch on ~10,000 snippets, without pre-training. Needs the "
            "optional extra deepaudit[hf] (transformers, tokenizers). Not in `deepaudit "
            "demo` by default (its audit takes about 2 minutes on 2 CPU cores): "
            "`deepaudit demo -m text_transformer`."
        ),
        demo=False,
    )
)
class TextTransformerRecipe(Recipe):
    config = TrainConfig(epochs=10, batch_size=64, lr=5e-4, weight_decay=0.01, patience=3)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        kwargs = dict(model_kwargs["model"])
        return {"model": HuggingFaceClassifier(_bert(kwargs), kwargs.get("pad_token_id", 0))}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        data = snippet_splits(SPLIT_SEED)
        tokenizer_json = shipped_tokenizer()  # the same ids for every training seed
        tokenizer = load_tokenizer(tokenizer_json)
        kwargs = {**BERT, "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id}
        torch.manual_seed(seed)
        model = HuggingFaceClassifier(_bert(kwargs), tokenizer.pad_token_id)
        train = head((_ids(tokenizer, data["train"][0]), torch.from_numpy(data["train"][1])), limit)
        validation = (
            _ids(tokenizer, data["validation"][0]),
            torch.from_numpy(data["validation"][1]),
        )
        result = train_classifier(
            model, train, validation, config=config, seed=seed, device=device,
            desc="text_transformer", clip_norm=1.0,
        )  # fmt: skip
        return Trained(
            modules={"model": model},
            model_kwargs={"model": kwargs},
            preprocessing={
                "split_seed": SPLIT_SEED,
                "split_fractions": list(SPLIT_FRACTIONS),
                "max_len": MAX_LEN,
                "tokenizer_json": tokenizer_json,
            },
            result=result,
            data_sha256=rotten_tomatoes.vendored_sha256(),
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        tokenizer = load_tokenizer(pre["tokenizer_json"])
        texts, labels = snippet_splits(pre["split_seed"], ("test",))["test"]
        encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=pre["max_len"])
        return Target(
            modules["model"].model,  # the transformers model itself, as a user has it
            kind="classifier",
            modality="text",
            data=np.asarray(encoded["input_ids"], dtype=np.int64),
            labels=labels,
            class_names=list(rotten_tomatoes.CLASS_NAMES),
            tokenizer=tokenizer,
            name=self.spec.name,
            metadata={"split": "held-out snippets (10 %)", "max_len": pre["max_len"]},
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        return text_classifier_metrics(target)

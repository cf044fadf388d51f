"""The robustness audit of a classifier target: images, text or tabular rows.

Clean accuracy on every evaluation sample; white-box sweeps (PGD, FGSM), the
minimal flipping ε, a query-only attack and the sanity checks on a seeded subset;
word substitution for text; natural perturbations; a few adversarial examples per group.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from deepaudit.audit.changes import raw_changes
from deepaudit.audit.robustness import examples as ex
from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.custom import custom_attack_rows
from deepaudit.audit.robustness.natural import natural_perturbations
from deepaudit.audit.robustness.problem import Problem, attack_problem
from deepaudit.audit.robustness.registry import registered_attacks
from deepaudit.audit.robustness.report import report_problem, sanity_table
from deepaudit.audit.robustness.result import RobustnessResult
from deepaudit.audit.robustness.space import (
    embedding_layer,
    image_space,
    mutable_columns,
    tabular_space,
    text_space,
)
from deepaudit.audit.robustness.stats import group_masks, proportion
from deepaudit.audit.robustness.tables import accuracy_rows
from deepaudit.audit.robustness.words import substitution_attack
from deepaudit.audit.target import Target


def classifier_problem(
    target: Target, attacked: np.ndarray, labels: np.ndarray, options: RobustnessConfig
) -> Problem:
    """The target's classifier over the ``attacked`` samples, one space per norm."""
    device = target.device
    x = target.data[torch.from_numpy(attacked)].to(device)

    def logits(inputs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return target.score_tensor(inputs)

    limited = ""
    if target.modality == "image":
        spaces = {norm: image_space(x, target.input_range, logits) for norm in options.norms}
    elif target.modality == "tabular":
        columns = mutable_columns(target, options.immutable_features)
        spaces = {norm: tabular_space(target, x, columns, logits) for norm in options.norms}
        limited = f" (only {len(columns)} of {len(target.feature_groups)} features may move)"
    else:
        layer = embedding_layer(target.model, target.metadata.get("embedding_layer"))
        spaces = {norm: text_space(target, layer, x, norm) for norm in options.norms}
    sensitive = (
        None if target.sensitive is None else target.sensitive.iloc[attacked].reset_index(drop=True)
    )
    n_classes = target.n_classes or 2
    return Problem(
        modality=target.modality,
        spaces=spaces,
        labels=torch.as_tensor(labels[attacked], dtype=torch.long, device=device),
        n_classes=n_classes,
        sensitive=sensitive,
        sample_ids=attacked,
        batch_size=target.batch_size,
        limited=limited,
    )


def run_classifier(
    target: Target, options: RobustnessConfig, seed: int, tick: Callable[[str], None]
) -> RobustnessResult:
    """The robustness family on a classifier target (see the module docstring)."""
    result = RobustnessResult()
    tick("clean accuracy")
    logits = target.predict_logits()
    predicted = logits.argmax(axis=1)
    if target.labels is None:
        labels = predicted
        result.notes.append(
            "No labels were given: accuracy here is agreement with the model's own clean "
            "predictions, so every number measures how stable the predictions are."
        )
    else:
        labels = target.labels
    correct_all = predicted == labels
    result.metrics["n_samples"] = target.n_samples
    result.metrics["clean_accuracy"] = float(correct_all.mean())
    result.tables["clean_accuracy"] = [
        {"attribute": a, "group": g, **proportion(correct_all[m], options.confidence)}
        for a, g, m in group_masks(target.sensitive, target.n_samples)
    ]
    rng = np.random.default_rng(seed)
    order = target.sample_rng(3).permutation(target.n_samples)  # which rows: the data
    attacked = np.sort(order[: min(target.n_samples, options.n_samples)])
    generator = torch.Generator().manual_seed(seed)
    problem = classifier_problem(target, attacked, labels, options)
    grids = {norm: options.grid(norm, target.modality) for norm in options.norms}
    attacks = attack_problem(problem, options, grids, generator, tick)
    # Interval resamples follow the data (the sample seed): the same samples, the same
    # intervals, whatever the audit's seed did to the attacks.
    checks = report_problem(problem, attacks, options, target.sample_rng(9), result, logits)
    if registered_attacks() and target.modality in ("image", "tabular"):
        tick("registered attacks")
        result.tables["curve"] += custom_attack_rows(problem, attacks, options, seed)
    words = None
    if target.modality == "text" and options.max_changed_words > 0:
        words = _word_attack(target, problem, attacks, options, result, tick)
    if options.natural_samples > 0:
        tick("natural perturbations")
        natural_ids = np.sort(order[: min(target.n_samples, options.natural_samples)])
        rows = natural_perturbations(target, natural_ids, labels, options, rng)
        result.tables["natural"] = rows
        drops = [r["drop"] for r in rows if r["attribute"] == "overall"]
        if drops:
            result.metrics["natural_worst_drop"] = max(drops)
    _examples(target, problem, attacks, words, options, result)
    sanity_table(checks, result)
    return result


def _word_attack(target, problem, attacks, options, result, tick):
    """Nearest-neighbour word substitution on the correctly classified attacked texts."""
    tick("word substitution")
    layer = embedding_layer(target.model, target.metadata.get("embedding_layer"))
    ids = target.data[torch.from_numpy(problem.sample_ids)].to(target.device)
    correct = attacks.first.correct
    rows = torch.from_numpy(np.flatnonzero(correct)).to(target.device)
    changed = np.zeros(problem.n, dtype=np.int64)
    success = np.zeros(problem.n, dtype=bool)
    adversarial = ids.clone()
    if len(rows):
        out = substitution_attack(
            target,
            layer,
            ids[rows],
            problem.labels[rows],
            max_changed=options.max_changed_words,
            n_neighbours=options.word_neighbours,
            n_candidates=options.word_candidates,
            min_similarity=options.word_min_similarity,
        )
        index = rows.cpu().numpy()
        changed[index] = out.changed.cpu().numpy()
        success[index] = out.success.cpu().numpy()
        adversarial[rows] = out.ids
    for k in range(options.max_changed_words + 1):
        robust = correct & ~(success & (changed <= k))
        result.tables["curve"] += accuracy_rows(
            "word substitution", "words", k, robust, correct, problem.sensitive, options.confidence
        )
    robust = proportion(correct & ~success, options.confidence)
    result.metrics["word_robust_accuracy"] = robust["value"]
    return success, changed, adversarial


def _examples(target, problem, attacks, words, options, result) -> None:
    """Adversarial examples per group: from word substitution for text, else from the
    first threat model's sweep (the perturbation that first broke the sample)."""
    if options.n_examples == 0:
        return
    sw = attacks.first
    if target.modality == "text":
        if words is None:
            return
        broken, changed, adversarial_ids = words
        adversarial = adversarial_ids
        original = target.data[torch.from_numpy(problem.sample_ids)].to(target.device)
        attack, norm = "word substitution", "words"
    else:
        broken = sw.correct & (sw.broken_at < len(sw.grid))
        space = problem.spaces[sw.norm]
        rows = torch.arange(problem.n, device=space.x0.device)
        original = space.x0
        adversarial = space.inputs(sw.eta, rows).detach()
        attack, norm = "PGD", sw.norm
    chosen = ex.pick(broken, problem.sensitive, options.n_examples)
    if not chosen:
        return
    index = torch.as_tensor([i for i, _, _ in chosen], device=original.device)
    before = target.predict_logits(original[index]).argmax(axis=1)
    after = target.predict_logits(adversarial[index]).argmax(axis=1)
    rows, originals, adversarials = [], [], []
    for j, (i, attribute, group) in enumerate(chosen):
        label = int(problem.labels[i])
        row = {
            "example": j,
            "attack": attack,
            "norm": norm,
            "epsilon": float(changed[i]) if words is not None else sw.grid[sw.broken_at[i]],
            "attribute": attribute,
            "group": group,
            "sample_id": int(problem.sample_ids[i]),
            "label": ex.label_name(label, target.class_names),
            "before": ex.label_name(int(before[j]), target.class_names),
            "after": ex.label_name(int(after[j]), target.class_names),
            "label_index": label,
            "before_index": int(before[j]),
            "after_index": int(after[j]),
        }
        o = original[i].detach().cpu().numpy()
        a = adversarial[i].detach().cpu().numpy()
        if target.modality == "text":
            row["text_before"] = " ".join(target.vocab[t] for t in o if t != 0)
            row["text_after"] = " ".join(target.vocab[t] for t in a if t != 0)
        elif target.modality == "tabular":
            row["changes"] = raw_changes(o, a, target)
        rows.append(row)
        originals.append(o)
        adversarials.append(a)
    result.tables["examples"] = rows
    ex.save(result.arrays, rows, originals, adversarials)

"""Self-training on unlabelled pixels: one round of pseudo-labels.

``HSIConfig.self_training`` (``spectranet hsi train --self-training THRESHOLD``; not in the
paper; issue 24's lever "self-training on unlabelled pixels"). A seed's model, trained as its
recipe says (the CNN, and the spectral SVM mix when the recipe has one, its weight and window
chosen on validation), classifies the seed's *unlabelled pool*; each pool pixel whose top
probability (the mix's, when mixing) is at least the threshold takes its top class as a
pseudo-label; a fresh model of the same recipe and seed trains on the training and
pseudo-labelled pixels for as many optimisation steps. The SVM member fits on the real training
pixels only; its weight is chosen again on validation with the new CNN. The run pipeline and
:class:`~spectranet.hsi.estimator.HSIClassifier` both call :func:`self_train`, each with its own
way to train a model of the recipe.

.. autosummary::
    :toctree: generated/

    self_train
    unlabelled_pool
    patch_safe
    make_pool
    Pool
    select_confident
    pseudo_label
    PseudoLabels
    training_targets
    retraining_config
    pseudo_label_record

Rules
-----
- The pool holds the pixels that have a ground-truth class and are in none of the seed's
  training, validation and test sets: the disjoint protocol's buffers, or the pixels of a split
  file in no map (and those its buffer dropped). Never a test or validation pixel, never a
  background pixel (no class). The random split and the per-class training shares put every
  labelled pixel in a set: their pool is empty, and the first model is kept.
- The pool's ground truth never trains anything: the training targets are the training
  pixels' labels, the validation pixels' (which score the epochs) and the pseudo-labels
  (:func:`training_targets`). It only scores the pseudo-labels afterwards
  (:func:`pseudo_label_record`: reported, never used to choose).
- A leakage-free split (the disjoint protocol; a split file without leakage) guarantees that
  no training patch holds a test or a validation pixel: its buffers are half a window wide
  (:func:`spectranet.hsi.disjoint.disjoint_split`, then a binary dilation of the test and
  validation masks removes what is left). A pseudo-labelled pixel trains like a training pixel,
  so there only the pool pixels whose ``window x window`` patch holds no test and no validation
  pixel are classified (:func:`patch_safe`). The paper's random split puts test pixels inside
  training patches by design: the rule is not applied there (nor needed: its pool is empty).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spectranet.config import HSIConfig
from spectranet.engine.training import seed_everything
from spectranet.errors import DataError
from spectranet.hsi.disjoint import _near
from spectranet.hsi.predictor import HSIPredictor
from spectranet.hsi.recipe import TrainedModel
from spectranet.hsi.splits import SETS, Split

__all__ = ["self_train", "Pool", "PseudoLabels", "unlabelled_pool", "patch_safe", "make_pool",
           "select_confident", "pseudo_label", "training_targets", "retraining_config",
           "pseudo_label_record"]


def unlabelled_pool(labels: np.ndarray, split: Split) -> np.ndarray:
    """The labelled pixels that are in none of a split's sets, as flat indices.

    Parameters
    ----------
    labels : int ndarray, shape (H, W)
        Class index 0..K-1 per pixel, -1 = background (no class).
    split : Split
        The seed's training, validation and test pixels (flat indices ``r * W + c``).

    Returns
    -------
    int64 ndarray, shape (n,)
        Sorted; never a background, training, validation or test pixel.

    Examples
    --------
    >>> labels = np.array([[0, 0, -1], [1, 1, 1]])
    >>> split = Split(train=np.array([0]), val=np.array([3]), test=np.array([5]))
    >>> unlabelled_pool(labels, split)
    array([1, 4])
    """
    flat = np.asarray(labels).ravel()
    taken = np.zeros(flat.size, dtype=bool)
    for name in SETS:
        taken[getattr(split, name)] = True
    return np.flatnonzero((flat >= 0) & ~taken).astype(np.int64)


def patch_safe(pixels: np.ndarray, avoid: np.ndarray, shape: tuple[int, int],
               window: int) -> np.ndarray:
    """The ``pixels`` whose ``window x window`` patch holds no pixel of ``avoid``.

    The rule of the leakage-free split, applied to pixels that will train: the patch centred
    on a kept pixel (clipped at the scene's border, where the patch is padded by reflection
    of pixels already inside it) contains none of ``avoid``.

    Parameters
    ----------
    pixels, avoid : int ndarray
        Flat pixel indices ``r * W + c``.
    shape : (H, W)
    window : odd int >= 1, pixels

    Returns
    -------
    int64 ndarray
        ``pixels`` in their order, those near ``avoid`` left out.

    Examples
    --------
    >>> patch_safe(np.array([0, 1, 3, 4]), np.array([2]), (1, 5), 3)  # 1 and 3 touch pixel 2
    array([0, 4])
    """
    mask = np.zeros(shape[0] * shape[1], dtype=bool)
    mask[np.asarray(avoid, dtype=np.int64)] = True
    near = _near(mask.reshape(shape), window).ravel()
    pixels = np.asarray(pixels, dtype=np.int64)
    return pixels[~near[pixels]]


@dataclass(frozen=True)
class Pool:
    """A seed's unlabelled pool and the part of it that may be pseudo-labelled.

    Attributes
    ----------
    pixels : int64 ndarray
        Every pool pixel (:func:`unlabelled_pool`), flat indices.
    eligible : int64 ndarray
        Those whose patch respects the split's rule (:func:`patch_safe`); all of ``pixels``
        when no rule applies.
    window : int or None
        The patch side the rule used, pixels; None when it was not applied.
    """

    pixels: np.ndarray
    eligible: np.ndarray
    window: int | None

    def rule_text(self) -> str:
        """How the eligible pixels were chosen, for ``metrics.json`` and the report."""
        if self.window is None:
            return ("not applied: the split is not leakage-free (a random split puts test "
                    "pixels inside training patches by design)")
        return (f"a pool pixel is labelled only if its {self.window} x {self.window} patch "
                "holds no test and no validation pixel (the leakage-free split's rule)")


def make_pool(labels: np.ndarray, split: Split, window: int, *, leakage_free: bool) -> Pool:
    """The seed's pool, and under a leakage-free split the pixels its rule allows.

    ``labels`` (H, W): class index, -1 = background; ``window``: the model's patch side.
    ``leakage_free``: the split promises that no training patch holds a test or validation
    pixel (:func:`spectranet.hsi.fixed_split.preprocessing_on_training`), a promise the
    pseudo-labelled pixels must keep.
    """
    pixels = unlabelled_pool(labels, split)
    if not leakage_free:
        return Pool(pixels, pixels, None)
    avoid = np.concatenate([split.test, split.val])
    return Pool(pixels, patch_safe(pixels, avoid, labels.shape, window), int(window))


@dataclass(frozen=True)
class PseudoLabels:
    """The pool pixels a model is sure of, with the class it gives them.

    Attributes
    ----------
    pixels : int64 ndarray, shape (n,)
        Sorted flat indices.
    labels : int64 ndarray, shape (n,)
        Their pseudo-labels, class indices 0..K-1 (the top class).
    confidence : float64 ndarray, shape (n,)
        Their top probability, >= ``threshold``.
    threshold : float in (0, 1)
    pool : Pool
        What was classified (``pool.eligible``).
    """

    pixels: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    threshold: float
    pool: Pool

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the seed folder's ``pseudo_labels.json``)."""
        return {"threshold": self.threshold, "pixels": self.pixels.tolist(),
                "labels": self.labels.tolist(),
                "confidence": [round(float(c), 6) for c in self.confidence],
                "pool": int(self.pool.pixels.size), "eligible": int(self.pool.eligible.size),
                "patch_rule": self.pool.rule_text()}


def select_confident(proba: np.ndarray, ids: np.ndarray,
                     threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels whose top probability is at least ``threshold``, with their top class.

    Parameters
    ----------
    proba : float ndarray, shape (N, K)
        Class probabilities of the pixels ``ids``.
    ids : int ndarray, shape (N,)
        Flat pixel indices, one per row.
    threshold : float in (0, 1)
        Kept when ``max(proba[i]) >= threshold`` (ties of the top class go to the lower index,
        as ``argmax``).

    Returns
    -------
    pixels, labels : int64 ndarray, shape (n,)
        Sorted by pixel.
    confidence : float64 ndarray, shape (n,)

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]])
    >>> select_confident(proba, np.array([7, 3, 5]), 0.6)
    (array([3, 7]), array([1, 0]), array([0.6, 0.9]))
    """
    proba, ids = np.asarray(proba, dtype=np.float64), np.asarray(ids, dtype=np.int64)
    top = proba.max(axis=1) if len(proba) else np.zeros(0)
    keep = np.flatnonzero(top >= threshold)
    order = keep[np.argsort(ids[keep], kind="stable")]
    return ids[order], proba[order].argmax(axis=1).astype(np.int64), top[order]


def pseudo_label(predictor: HSIPredictor, cube: np.ndarray, pool: Pool, threshold: float,
                 **scoring: Any) -> PseudoLabels:
    """Classify the eligible pool pixels with a trained model; keep the confident ones.

    Parameters
    ----------
    predictor : HSIPredictor
        The seed's first model: its probabilities are the network's mixed with its spectral
        SVM's when it has one (:meth:`HSIPredictor.proba_pixels`), the final ones.
    cube : ndarray, shape (H, W, bands)
        The scene as read.
    pool : Pool
    threshold : float in (0, 1)
    **scoring
        ``reduced``, ``batch_size``, ``device`` of :meth:`HSIPredictor.proba_pixels`.
    """
    if pool.eligible.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PseudoLabels(empty, empty.copy(), np.zeros(0), float(threshold), pool)
    proba, ids = predictor.proba_pixels(cube, pool.eligible, **scoring)
    return PseudoLabels(*select_confident(proba, ids, threshold), float(threshold), pool)


def training_targets(labels: np.ndarray, labelled: np.ndarray,
                     pseudo: PseudoLabels) -> np.ndarray:
    """The label map a self-trained model sees: real labels where given, pseudo-labels, -1.

    ``labels`` (H, W) at ``labelled`` (flat indices whose real label the model may read: its
    training and validation pixels), the pseudo-labels at ``pseudo.pixels``, -1 elsewhere: the
    pool's and the test pixels' ground truth is not in the returned int64 (H, W) map.

    Raises
    ------
    DataError
        A pseudo-labelled pixel is a training or validation pixel.
    """
    clash = np.intersect1d(pseudo.pixels, labelled)
    if clash.size:
        raise DataError(f"{clash.size} pseudo-labelled pixels are training or validation "
                        f"pixels (first: {int(clash[0])}); the pool must exclude them")
    out = np.full(labels.size, -1, dtype=np.int64)
    out[labelled] = labels.ravel()[labelled]
    out[pseudo.pixels] = pseudo.labels
    return out.reshape(labels.shape)


def retraining_config(config: HSIConfig, first_steps: int) -> HSIConfig:
    """``config`` training the self-trained model for the first model's optimisation steps.

    ``steps`` becomes ``first_steps``, the steps the first model ran (epochs x its batches per
    epoch), so the larger training set trains ``ceil(first_steps / batches per epoch)``
    epochs: as many steps, rounded up to whole epochs
    (:func:`spectranet.engine.optim.training_epochs`).
    """
    return dataclasses.replace(config, steps=int(first_steps))


def _accuracies(predictor: HSIPredictor, cube: np.ndarray, labels: np.ndarray,
                sets: dict[str, np.ndarray], **scoring: Any) -> dict[str, float | None]:
    """``<set>_accuracy``: OA of the final (mixed) classes on each set (flat ``labels``)."""
    out: dict[str, float | None] = {}
    for name, pixels in sets.items():
        proba, ids = (predictor.proba_pixels(cube, pixels, **scoring) if len(pixels)
                      else (None, None))
        out[f"{name}_accuracy"] = (None if ids is None
                                   else float(np.mean(proba.argmax(1) == labels[ids])))
    return out


def pseudo_label_record(pseudo: PseudoLabels, truth: np.ndarray | None,
                        n_classes: int) -> dict[str, Any]:
    """What ``metrics.json`` says of a seed's pseudo-labels.

    ``threshold``, ``pool`` (pixels), ``eligible``, ``patch_rule``, ``kept``,
    ``kept_per_class`` (by pseudo-label); with the flat ground truth ``truth`` (read here only,
    to report; None when unknown, as in the estimator) also ``precision`` (the share of kept
    pixels whose pseudo-label is their class; None when none is kept), ``correct_per_class``
    and ``pool_per_class`` (by true class).
    """
    record: dict[str, Any] = {
        "threshold": pseudo.threshold, "pool": int(pseudo.pool.pixels.size),
        "eligible": int(pseudo.pool.eligible.size), "patch_rule": pseudo.pool.rule_text(),
        "kept": int(pseudo.pixels.size),
        "kept_per_class": np.bincount(pseudo.labels, minlength=n_classes).tolist()}
    if truth is None:
        return record
    correct = truth[pseudo.pixels] == pseudo.labels
    return record | {
        "precision": float(correct.mean()) if correct.size else None,
        "correct_per_class": np.bincount(pseudo.labels[correct], minlength=n_classes).tolist(),
        "pool_per_class": np.bincount(truth[pseudo.pool.pixels], minlength=n_classes).tolist()}


def self_train(first: TrainedModel, pool: Pool, config: HSIConfig,
               retrain: Callable[[np.ndarray, np.ndarray, HSIConfig], TrainedModel], *,
               cube: np.ndarray, labels: np.ndarray, train: np.ndarray, val: np.ndarray,
               scored: dict[str, np.ndarray], pool_truth: bool,
               **scoring: Any) -> tuple[TrainedModel, dict[str, Any], PseudoLabels]:
    """One round of self-training after a seed's first model.

    The first model pseudo-labels the eligible pool (:func:`pseudo_label`, threshold
    ``config.self_training``); with at least one pseudo-label, the torch, NumPy and Python
    generators are seeded again with the first model's seed and ``retrain`` trains a fresh
    model of the recipe on the training and pseudo-labelled pixels for as many steps
    (:func:`training_targets`, :func:`retraining_config`). Without one, the first model is
    kept (the same data, seed and steps would train it again).

    Parameters
    ----------
    first : TrainedModel
    pool : Pool
    config : HSIConfig
        ``self_training`` > 0.
    retrain : callable
        ``retrain(training pixels, label map, config) -> TrainedModel``: a fresh model of the
        recipe trained on those pixels (classes from the map, -1 = unknown) for ``config``'s
        steps, its SVM member (if any) fitted on the real training pixels only and weighted
        on the validation pixels.
    cube : ndarray, shape (H, W, bands)
        The scene as read.
    labels : int ndarray, shape (H, W)
        Real labels at least at ``train``, ``val`` and the ``scored`` sets, -1 elsewhere.
    train, val : int ndarray
        Flat indices of the real training and validation pixels.
    scored : dict of str to int ndarray
        Sets where both models' accuracy is reported (validation, test); never used to choose.
    pool_truth : bool
        ``labels`` holds the pool's ground truth: the record gives the pseudo-labels' precision.
    **scoring
        ``reduced``, ``batch_size``, ``device`` (:meth:`HSIPredictor.proba_pixels`).

    Returns
    -------
    kept : TrainedModel
        The self-trained model, or ``first`` when nothing was pseudo-labelled.
    record : dict
        :func:`pseudo_label_record`, ``retrained`` (bool), ``first`` and (retrained)
        ``self_trained``: each model's ``<set>_accuracy``, epochs, steps, training seconds and
        SVM weight.
    pseudo : PseudoLabels
    """
    flat = labels.ravel()

    def summary(model: TrainedModel) -> dict[str, Any]:
        mix = model.predictor.svm_mix
        return _accuracies(model.predictor, cube, flat, scored, **scoring) | {
            "epochs": model.epochs, "steps": model.steps,
            "train_seconds": model.result.train_seconds,
            "svm_weight": None if mix is None else mix.weight}

    pseudo = pseudo_label(first.predictor, cube, pool, config.self_training, **scoring)
    record = pseudo_label_record(pseudo, flat if pool_truth else None,
                                 first.predictor.n_classes) | {"first": summary(first)}
    if pseudo.pixels.size == 0:
        return first, record | {"retrained": False}, pseudo
    seed_everything(first.predictor.seed)  # a fresh model of the same seed
    kept = retrain(np.union1d(train, pseudo.pixels),
                   training_targets(labels, np.union1d(train, val), pseudo),
                   retraining_config(config, first.steps))
    return kept, record | {"retrained": True, "self_trained": summary(kept)}, pseudo

"""Fold-wise cross-validation over predefined folds, and clip-level aggregation.

Folds are never reshuffled. For test fold k, validation is either the previous fold *present*
(cyclically, ``"fold"``: another test fold of the cross-validation), none (``"none"``), or a
share of the training folds' clips drawn by source recording and stratified by class
(``"group"``, :func:`grouped_validation`): then no choice made in round k sees any clip of a
fold that is tested. Every test clip is scored from its windows: mean window probability, or a
majority vote.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from spectranet.errors import ConfigError, DataError

__all__ = ["aggregate_clips", "fold_assignments", "fold_split", "grouped_validation",
           "round_split", "round_warnings", "validation_summary"]


def fold_assignments(
    folds_present: Iterable[int], test_fold: int
) -> tuple[tuple[int, ...], int, int]:
    """Training, validation and test folds for one cross-validation round.

    Parameters
    ----------
    folds_present : iterable of int
        Folds that actually hold clips (e.g. ``ClipTable.folds_present``); duplicates ignored.
    test_fold : int
        Must be present.

    Returns
    -------
    train_folds : tuple of int
        Every other present fold, ascending.
    val_fold : int
        The present fold just before ``test_fold`` in ascending order, wrapping around
        (folds [1, 2, 3, 10], test 1 -> validation 10).
    test_fold : int

    Raises
    ------
    ConfigError
        Fewer than 3 folds present, or ``test_fold`` absent.

    Examples
    --------
    >>> fold_assignments([1, 2, 3, 10], 1)
    ((2, 3), 10, 1)
    """
    present = sorted({int(f) for f in folds_present})
    if len(present) < 3:
        raise ConfigError(f"folds_present must hold at least 3 folds (train, validation, "
                          f"test), got {present}")  # fmt: skip
    if test_fold not in present:
        raise ConfigError(f"test_fold must be one of the folds present {present}, "
                          f"got {test_fold!r}")  # fmt: skip
    k = present.index(test_fold)
    val = present[k - 1]  # k == 0 wraps to the last fold
    train = tuple(f for f in present if f not in (val, test_fold))
    return train, val, int(test_fold)


def fold_split(clip_folds: Sequence[int] | np.ndarray, test_fold: int, *,
               validation: bool = True) -> dict[str, np.ndarray]:
    """Clip indices of the training, validation and test sets for ``test_fold``.

    Parameters
    ----------
    clip_folds : array of int, shape (n_clips,)
        Fold of each clip (``ClipTable.folds``).
    test_fold : int
    validation : bool, default True
        False: no validation fold; every fold but the test fold trains, ``"val"`` is empty.

    Returns
    -------
    dict
        ``{"train", "val", "test"}`` -> ascending int64 index arrays, pairwise disjoint.
    """
    folds = np.asarray(clip_folds, dtype=np.int64)
    if folds.ndim != 1:
        raise DataError(f"clip_folds must be 1-D, got shape {folds.shape}")
    train, val, test = fold_assignments(np.unique(folds[folds >= 0]).tolist(), test_fold)
    if not validation:
        train = [*train, val]
    return {
        "train": np.flatnonzero(np.isin(folds, train)),
        "val": np.flatnonzero(folds == val) if validation else np.zeros(0, np.int64),
        "test": np.flatnonzero(folds == test),
    }


def grouped_validation(labels: np.ndarray, groups: np.ndarray, candidates: np.ndarray, *,
                       share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split some clips into training and validation clips, whole recordings on one side.

    scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold` (shuffled, seeded)
    cuts the candidates' recordings into ``n = max(2, round(1 / share))`` folds with class
    proportions as even as the recordings allow; its first fold validates. A class with fewer
    recordings than ``n`` cannot be spread evenly and may be missing from validation.

    Parameters
    ----------
    labels, groups : int ndarray, shape (n_clips,)
        Class and source recording of every clip (``ClipTable.labels``, ``ClipTable.groups``).
    candidates : int ndarray, shape (m,)
        Indices of the clips to split (a round's training folds).
    share : float in (0, 0.5], default 0.2
        Wanted share of the candidates' recordings in validation; the share drawn is
        ``1 / n`` (0.2: one fold of 5; 0.3: one of 3).
    seed : int >= 0, default 0

    Returns
    -------
    train, val : int64 ndarray
        Ascending clip indices, disjoint, together ``candidates``; no group in both.

    Raises
    ------
    ConfigError
        ``share`` outside (0, 0.5], or fewer than ``n`` recordings among the candidates.
    DataError
        ``labels`` and ``groups`` of other shapes.

    Examples
    --------
    >>> labels = np.array([0, 0, 1, 1, 0, 1]); groups = np.array([0, 0, 1, 2, 3, 4])
    >>> grouped_validation(labels, groups, np.arange(6), share=0.5, seed=0)
    (array([3, 4, 5]), array([0, 1, 2]))
    """
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 0.5:
        raise ConfigError(f"val_share must be a number in (0, 0.5], got {share!r}")
    labels, groups = np.asarray(labels), np.asarray(groups)
    if labels.ndim != 1 or groups.shape != labels.shape:
        raise DataError(f"labels and groups must be 1-D of one length, got shapes "
                        f"{labels.shape} and {groups.shape}")
    candidates = np.sort(np.asarray(candidates, dtype=np.int64))
    n_splits = max(2, round(1 / share))
    n_groups = len(np.unique(groups[candidates]))
    if n_groups < n_splits:
        raise ConfigError(f"val_share: the training folds hold {n_groups} recordings, fewer "
                          f"than the {n_splits} that a validation share of {share} needs")
    folds = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a rare class: stratified as far as its recordings go
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        train, val = next(folds.split(candidates, labels[candidates], groups[candidates]))
    return candidates[np.sort(train)], candidates[np.sort(val)]


def round_split(clip_folds: Sequence[int] | np.ndarray, test_fold: int, *,
                validation: str = "fold", labels: np.ndarray | None = None,
                groups: np.ndarray | None = None, share: float = 0.2,
                seed: int = 0) -> dict[str, np.ndarray]:
    """Clip indices of one round's training, validation and test sets under a validation rule.

    Parameters
    ----------
    clip_folds : int array, shape (n_clips,)
        Fold of each clip (``ClipTable.folds``).
    test_fold : int
    validation : {"fold", "none", "group"}, default "fold"
        ``"fold"`` and ``"none"``: :func:`fold_split` (at least 3 folds). ``"group"``: every
        other fold is a training fold and :func:`grouped_validation` draws the validation
        clips from them (at least 2 folds).
    labels, groups : int ndarray, shape (n_clips,), optional
        Class and source recording of each clip; required by ``"group"``.
    share : float in (0, 0.5], default 0.2
    seed : int >= 0, default 0
        Seeds the ``"group"`` draw.

    Returns
    -------
    dict
        ``{"train", "val", "test"}`` -> ascending int64 index arrays, pairwise disjoint.
    """
    if validation not in ("fold", "none", "group"):
        raise ConfigError(f"validation must be one of ('fold', 'none', 'group'), "
                          f"got {validation!r}")
    if validation != "group":
        return fold_split(clip_folds, test_fold, validation=validation == "fold")
    if labels is None or groups is None:
        raise ConfigError("validation 'group' needs the clips' labels and groups")
    folds = np.asarray(clip_folds, dtype=np.int64)
    present = sorted(set(folds[folds >= 0].tolist()))
    if len(present) < 2 or test_fold not in present:
        raise ConfigError(f"test_fold must be one of at least 2 folds present, got {test_fold!r} "
                          f"with folds {present}")
    training = np.flatnonzero((folds >= 0) & (folds != test_fold))
    train, val = grouped_validation(labels, groups, training, share=share, seed=seed)
    return {"train": train, "val": val, "test": np.flatnonzero(folds == test_fold)}


def validation_summary(split: dict[str, np.ndarray], clip_folds: np.ndarray,
                       groups: np.ndarray, rule: str) -> dict[str, object]:
    """Where a round's validation clips come from.

    Returns
    -------
    dict
        ``rule`` (the validation choice), ``folds`` (those its clips belong to), ``clips``,
        ``recordings`` (distinct groups) and ``share`` (validation clips over training and
        validation clips).
    """
    val = split["val"]
    return {"rule": rule, "folds": sorted(set(np.asarray(clip_folds)[val].tolist())),
            "clips": int(val.size), "recordings": int(len(np.unique(np.asarray(groups)[val]))),
            "share": float(val.size / max(val.size + split["train"].size, 1))}


def round_warnings(labels: np.ndarray, clip_folds: np.ndarray, test_folds: Sequence[int],
                   class_names: Sequence[str], *, validation: bool = True,
                   min_val_clips: int = 20) -> list[str]:
    """Warnings on the rounds of a cross-validation, one sentence each.

    A class with no training clip in a round cannot be learnt there; a validation fold of
    fewer than ``min_val_clips`` clips picks the best epoch on noise.

    Parameters
    ----------
    labels, clip_folds : ndarray, shape (n_clips,)
        Class index and fold of each clip.
    test_folds : sequence of int
    class_names : sequence of str
        Indexed by label.
    validation : bool, default True
        Whether the rounds keep a validation fold (see :func:`fold_split`).
    min_val_clips : int, default 20
    """
    labels = np.asarray(labels)
    out = []
    for fold in test_folds:
        split = fold_split(clip_folds, fold, validation=validation)
        missing = sorted(set(range(len(class_names))) - set(labels[split["train"]].tolist()))
        if missing:
            names = ", ".join(class_names[k] for k in missing)
            out.append(f"test fold {fold}: no training clip of class {names}")
        if validation and len(split["val"]) < min_val_clips:
            out.append(f"test fold {fold}: the validation fold has {len(split['val'])} clips "
                       f"(fewer than {min_val_clips}): the best epoch is picked on noise")
    return out


def aggregate_clips(
    window_probs: np.ndarray,
    clip_ids: np.ndarray,
    *,
    method: Literal["mean", "vote"] = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """Combine window probabilities into one score per clip.

    Parameters
    ----------
    window_probs : ndarray, shape (N, K), float
        Class probabilities of each window (rows sum to 1).
    clip_ids : ndarray, shape (N,), int
        Clip of each window.
    method : {"mean", "vote"}, default "mean"
        ``"mean"``: the clip's mean window probability. ``"vote"``: majority vote of the
        windows' arg-max classes, ties broken by the higher mean probability (then the lower
        class index). The vote score is ``(votes_k + 0.5 * mean_prob_k) / (n_windows + 0.5)``:
        rows sum to 1, any extra vote outranks any probability difference, and its arg-max is
        the tie-broken winner.

    Returns
    -------
    clip_ids_unique : ndarray, shape (C,), int64
        Ascending.
    clip_probs : ndarray, shape (C, K), float64
        Scores aligned with ``clip_ids_unique``; predict with ``argmax(axis=1)``.

    Raises
    ------
    ConfigError
        Unknown ``method``.
    DataError
        Shapes disagree, no windows, or non-finite probabilities.
    """
    if method not in ("mean", "vote"):
        raise ConfigError(f"method must be 'mean' or 'vote', got {method!r}")
    probs = np.asarray(window_probs, dtype=np.float64)
    ids = np.asarray(clip_ids)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise DataError(f"window_probs must have shape (N >= 1, K), got {probs.shape}")
    if ids.shape != (probs.shape[0],):
        raise DataError(f"clip_ids must have shape ({probs.shape[0]},), got {ids.shape}")
    if not np.isfinite(probs).all():
        raise DataError("window_probs must be finite, got NaN or inf")
    unique, inverse = np.unique(ids, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(unique)).astype(np.float64)
    sums = np.zeros((len(unique), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    mean = sums / counts[:, None]
    if method == "mean":
        return unique.astype(np.int64), mean
    votes = np.zeros_like(sums)
    np.add.at(votes, (inverse, probs.argmax(axis=1)), 1.0)
    return unique.astype(np.int64), (votes + 0.5 * mean) / (counts[:, None] + 0.5)

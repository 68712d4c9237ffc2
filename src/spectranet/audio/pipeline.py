"""Sound runs: ``features``, ``train`` and ``evaluate``, the functions behind ``spectranet audio``.

A run folder holds ``config.json``, ``metrics.json`` and ``report.md`` over every test fold and
seed, and one ``fold_<k>/seed_<s>/`` folder per round with its split (clip indices),
checkpoint (best on the validation fold), metrics and figures. Finished rounds are skipped on a
rerun; an interrupted round resumes from its checkpoint. Under ``torchrun`` every process
trains (``fit`` runs DistributedDataParallel) and only rank 0 writes the run folder.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.audio.augment import SpecAugment
from spectranet.audio.baseline import BaselineConfig, cross_validate, mfcc_features
from spectranet.audio.cache import FeatureCache
from spectranet.audio.datasets import ClipTable, load_clips
from spectranet.audio.extraction import WindowTable, extract_features
from spectranet.audio.features import FeatureSettings
from spectranet.audio.fusion import fuse_round
from spectranet.audio.models import build_model, check_reach, check_window_fits
from spectranet.audio.predictor import SoundPredictor, SoundScores, network_from_state
from spectranet.audio.protocol import (
    round_split,
    round_warnings,
    validation_summary,
)
from spectranet.audio.scaling import Standardizer
from spectranet.config import AudioConfig, from_dict
from spectranet.engine.batches import ArrayBatches
from spectranet.engine.checkpoints import update_metadata
from spectranet.engine.distributed import check_device
from spectranet.engine.identity import check_same_data, read_run
from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.engine.optim import fit_options
from spectranet.engine.plots import plot_confusion_matrix, plot_history
from spectranet.engine.precision import resolve_precision
from spectranet.engine.run import Run, SavedModel, rescore
from spectranet.engine.runs import RunDir, read_json
from spectranet.engine.training import fit

__all__ = ["features", "train", "evaluate", "data_fingerprint", "feature_settings",
           "default_cache", "prepare", "model_options", "round_loaders"]


def feature_settings(config: AudioConfig) -> FeatureSettings:
    """The :class:`FeatureSettings` of a configuration."""
    return FeatureSettings(sr=config.sr, n_fft=config.n_fft, hop_length=config.hop_length,
                           n_mels=config.n_mels, frames=config.frames, overlap=config.overlap,
                           pad=config.short_clip)  # type: ignore[arg-type]


def model_options(config: AudioConfig) -> dict[str, Any]:
    """Keyword arguments of :func:`spectranet.audio.models.build_model` for ``config``.

    Piczak's CNN has a fixed design: ``filters`` and ``batch_norm`` do not apply to it; the
    window (``n_mels`` x ``frames``, e.g. its 101-frame long segments) sizes its dense layers.
    """
    if config.arch == "piczak":
        return {"dropout": config.dropout, "n_mels": config.n_mels, "frames": config.frames}
    options: dict[str, Any] = {"filters": config.filters, "dropout": config.dropout}
    if config.batch_norm:
        options["batch_norm"] = True
    return options


def default_cache() -> FeatureCache:
    """Feature cache under ``$SPECTRANET_CACHE`` (default ``~/.cache/spectranet``)/features."""
    base = os.environ.get("SPECTRANET_CACHE") or Path.home() / ".cache" / "spectranet"
    return FeatureCache(Path(base) / "features")


def prepare(config: AudioConfig, *, root: str | Path | None = None,
            progress: bool = True) -> tuple[ClipTable, WindowTable]:
    """Read the dataset's clips (the folds present only) and their feature windows."""
    clips = load_clips(config.dataset, root=root, on_error=config.on_error)  # type: ignore[arg-type]
    clips.cv_folds(config.folds, name=config.dataset)
    windows = extract_features(clips, feature_settings(config),
                               cache=default_cache() if config.feature_cache else None,
                               jobs=config.jobs, progress=progress,
                               on_error=config.on_error)  # type: ignore[arg-type]
    return clips, windows


def data_fingerprint(config: AudioConfig, root: str | Path | None = None) -> str:
    """The fingerprint of the clips a run of ``config`` reads (names, sizes, classes, folds)."""
    return load_clips(config.dataset, root=root,
                      on_error=config.on_error).fingerprint()  # type: ignore[arg-type]


def features(config: AudioConfig, *, root: str | Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Extract and cache the feature windows of a dataset; return a summary.

    Returns
    -------
    dict
        ``clips``, ``windows``, ``silent_windows``, ``folds``, ``cache_hits``, ``seconds``,
        ``skipped`` (file and reason) and the feature ``settings``.
    """
    clips, windows = prepare(config, root=root, progress=progress)
    return {
        "dataset": config.dataset,
        "clips": len(clips),
        "windows": len(windows),
        "silent_windows": int(windows.silent.sum()),
        "folds": clips.folds_present,
        "cache_hits": windows.cache_hits,
        "seconds": round(windows.seconds, 3),
        "skipped": [list(s) for s in (*clips.skipped, *windows.skipped)],
        "settings": windows.settings.to_dict(),
    }


def train(config: AudioConfig, out: str | Path, *, root: str | Path | None = None,
          progress: bool = True) -> dict[str, Any]:
    """Cross-validate ``config.arch`` over the test folds and seeds; write a run folder.

    For test fold k the validation fold is the previous fold present and the others train
    (:func:`spectranet.audio.protocol.fold_split`), or with ``config.validation="none"`` every
    other fold trains and the last epoch is kept, or with ``"group"`` a share of the training
    folds' recordings validates (:func:`spectranet.audio.protocol.round_split`; the clips are
    in each round's ``split.json``, their folds and counts in its ``validation``);
    normalisation statistics come from the training clips only; silent windows are dropped
    from training only; every test clip is scored by the mean (or vote) of its windows. With
    ``config.baseline`` the MFCC baseline runs on the same folds and goes into
    ``metrics.json`` (``baseline``) and the report. With ``config.baseline_weight`` each round
    fits the MFCC forest on its training clips and classifies test clips by the mix of both
    probabilities (:mod:`spectranet.audio.fusion`; the round's ``fusion``; the checkpoint's
    :class:`~spectranet.audio.predictor.SoundPredictor` holds the forest and its weight;
    ``predictions.npz`` keeps ``cnn_probs`` and ``baseline_probs``).

    Returns
    -------
    dict
        ``metrics.json``: ``clip_accuracy`` and ``window_accuracy`` (mean over rounds),
        ``folds`` (one object per test fold: ``fold``, ``clip_accuracy``, ...), ``mean`` and
        ``std``, pooled ``per_class_accuracy`` and ``confusion_matrix``.
    """
    from spectranet.audio import report

    clips, windows = prepare(config, root=root, progress=progress)
    test_folds = clips.cv_folds(config.folds, name=config.dataset)
    n_classes = len(clips.class_names)
    cautions = round_warnings(clips.labels, clips.folds, test_folds, clips.class_names,
                              validation=config.validation == "fold")
    for caution in cautions:
        warnings.warn(f"{config.dataset}: {caution}", UserWarning, stacklevel=2)
    check_reach(config.arch, config.n_mels, config.frames)  # before the filters' check
    check_window_fits(build_model(config.arch, n_classes, **model_options(config)), config.arch,
                      config.n_mels, config.frames)  # validate before writing
    check_device(config.device)
    grid = [(fold, seed) for fold in test_folds for seed in config.seeds]
    splits = {(fold, seed): round_split(clips.folds, fold, validation=config.validation,
                                        labels=clips.labels, groups=clips.groups,
                                        share=config.val_share, seed=seed)
              for fold, seed in grid}  # a grouped draw that cannot be made fails here
    precision = resolve_precision(config.precision)
    windows.check_no_copies_across_folds(clips)
    run = Run.open(out, config, clips.fingerprint(), domain="audio",
                   content=windows.content_fingerprint(clips), describe={
        "precision_resolved": precision, "features": windows.settings.to_dict(),
        "classes": list(clips.class_names),
        "skipped": [list(s) for s in (*clips.skipped, *windows.skipped)]})
    from spectranet.engine.progress import bar as progress_bar


    @functools.cache
    def mfcc() -> np.ndarray:  # computed once, only when a round needs it
        return mfcc_features(clips, sr=config.sr)

    rounds = [
        _train_round(clips, windows, config, (fold, seed, splits[fold, seed]), precision, run,
                     progress, mfcc if config.baseline_weight != 0 else None)
        for fold, seed in progress_bar(grid, desc="folds", enabled=progress and len(grid) > 1)
    ]
    metrics = summarise(rounds, n_classes) | {"warnings": cautions}
    if run.folder is None:  # not rank 0: trained along, writes nothing
        return metrics
    if config.baseline != "none":
        metrics["baseline"] = _baseline(clips, test_folds, config, run.folder)
    run.folder.save_figure(plot_confusion_matrix(metrics["confusion_matrix"], clips.class_names),
                           "confusion_matrix")
    from spectranet.audio.plots import plot_examples, plot_fold_accuracy

    run.folder.save_figure(plot_fold_accuracy({config.arch: metrics["folds"]}), "fold_accuracy")
    run.folder.save_figure(plot_examples(clips, feature_settings(config)), "examples", dpi=60)
    run.finish(metrics, report.render(config, clips, windows, precision, metrics))
    return metrics


def _baseline(clips: ClipTable, test_folds: list[int], config: AudioConfig,
              run: RunDir) -> dict[str, Any]:
    """The MFCC baseline on the run's folds, computed once and kept in ``baseline.json``."""
    path = run.path / "baseline.json"
    if path.is_file():
        return read_json(path)
    baseline = BaselineConfig(dataset=config.dataset, classifier=config.baseline,
                              seed=config.seeds[0], sr=config.sr,
                              validation=config.validation == "fold")
    metrics, _ = cross_validate(clips, test_folds, baseline)
    run.write_json("baseline.json", metrics)
    return metrics


def summarise(rounds: list[dict[str, Any]], n_classes: int) -> dict[str, Any]:
    """Combine per-round metrics into the run's ``metrics.json``."""
    folds = []
    for fold in dict.fromkeys(r["fold"] for r in rounds):
        mine = [r for r in rounds if r["fold"] == fold]
        mean, _ = mean_std(mine)
        folds.append({"fold": fold, "clip_accuracy": mean["clip_accuracy"],
                      "window_accuracy": mean["window_accuracy"],
                      "seeds": [r["seed"] for r in mine], "test_clips": mine[0]["test_clips"]})
    keys = ("clip_accuracy", "window_accuracy")
    mean, std = mean_std([{k: f[k] for k in keys} for f in folds])
    t = np.concatenate([r["clip_true"] for r in rounds])
    p = np.concatenate([r["clip_pred"] for r in rounds])
    pooled = classification_metrics(t, p, n_classes=n_classes)
    return {
        "clip_accuracy": mean["clip_accuracy"],
        "window_accuracy": mean["window_accuracy"],
        "folds": folds,
        "mean": mean,
        "std": std,
        "per_class_accuracy": pooled["per_class_accuracy"],
        "macro_f1": pooled["macro_f1"],
        "confusion_matrix": pooled["confusion_matrix"],
        "confusion_matrix_note": "clip counts pooled over the test folds (rows = truth)",
        "train_seconds": float(sum(r["train_seconds"] for r in rounds)),
        "rounds": [{k: v for k, v in r.items() if k not in ("clip_true", "clip_pred", "history")}
                   for r in rounds],
    }


def round_loaders(x: np.ndarray, clips: ClipTable, windows: WindowTable,
                  split: dict[str, np.ndarray], config: AudioConfig, seed: int
                  ) -> tuple[Standardizer, dict[str, ArrayBatches]]:
    """The scaler and the train / val batches of one round, as ``config`` asks.

    The scaler is fitted on the training windows (silent ones dropped when
    ``config.drop_silent``); training batches are shuffled, augmented and drawn per
    ``config.sampling``; validation takes ``config.val_windows`` (no ``"val"`` loader when
    the split has no validation clips). Test clips are scored by the round's
    :class:`~spectranet.audio.predictor.SoundPredictor`.
    """
    labels = clips.labels[windows.clip_ids]
    train_w = windows.windows_of(split["train"])
    if config.drop_silent:
        kept = train_w[~windows.silent[train_w]]
        train_w = kept if kept.size else train_w
    scaler = Standardizer().fit(x, indices=train_w)
    augment = SpecAugment() if config.augment else None

    def train_tf(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        xb = scaler.transform(xb)
        return augment(xb, rng) if augment is not None else xb

    def eval_tf(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return scaler.transform(xb)

    loaders = {
        "train": ArrayBatches(x, labels, windows.clip_ids, indices=train_w,
                              batch_size=config.batch_size, shuffle=True, seed=seed,
                              transform=train_tf,
                              groups=windows.clip_ids if config.sampling == "clips" else None),
    }
    if split["val"].size:
        rows = (windows.middle_windows(split["val"]) if config.val_windows == "middle"
                else windows.windows_of(split["val"]))
        loaders["val"] = ArrayBatches(x, labels, windows.clip_ids, indices=rows,
                                      batch_size=256, transform=eval_tf)
    return scaler, loaders


def _train_round(clips: ClipTable, windows: WindowTable, config: AudioConfig,
                 this: tuple[int, int, dict[str, np.ndarray]], precision: str, parent: Run,
                 progress: bool, mfcc: Callable[[], np.ndarray] | None) -> dict[str, Any]:
    fold, seed, split = this
    name = f"fold_{fold}/seed_{seed}"
    if (finished := parent.finished_unit(name, needs=("predictions.npz",))) is not None:
        saved = np.load(parent.path / name / "predictions.npz")
        return finished | {"clip_true": saved["clip_true"], "clip_pred": saved["clip_pred"]}
    unit = parent.unit(name, {k: v.tolist() for k, v in split.items()}
                       | {"test_fold": fold, "validation": config.validation,
                          "clip_names": [r.name for r in clips.records],
                          "clip_groups": [r.group for r in clips.records]}, seed)
    run = unit.folder  # None on ranks other than 0: they train along and write nothing
    scaler, loaders = round_loaders(windows.x, clips, windows, split, config, seed)
    n_classes = len(clips.class_names)
    train_labels = loaders["train"].y[loaders["train"].indices]
    network_options = model_options(config)
    model = build_model(config.arch, n_classes, **network_options)
    options = fit_options(config, model, train_labels, n_classes,
                          batches_per_epoch=len(loaders["train"]))
    predictor = SoundPredictor(model, config.arch, network_options, windows.settings,
                               scaler, tuple(clips.class_ids), tuple(clips.class_names),
                               config.aggregate, precision, seed, fold)
    result = fit(model, loaders["train"], loaders.get("val"), checkpoint_path=unit.checkpoint,
                 device=config.device, precision=precision, metadata=predictor.to_state(),
                 progress=progress, desc=f"fold {fold} seed {seed}", log=unit.log,
                 keep=config.keep, **options)
    test = _scores(predictor, windows, split["test"], config.device)
    fusion = None
    if mfcc is not None:
        cnn = {"test": (test.clip_ids, _network(test))}
        if split["val"].size:
            val = _scores(predictor, windows, split["val"], config.device)
            cnn["val"] = (val.clip_ids, _network(val))
        forest, fusion, base = fuse_round(mfcc(), clips.labels, split["train"], cnn,
                                          weight=config.baseline_weight, seed=seed)
        predictor = predictor.with_forest(forest, fusion["weight"])
        test = predictor.fuse(test, base["test"])
        if run is not None:  # evaluate and predict read the forest and weight from there
            update_metadata(unit.checkpoint, predictor.to_state())
    metrics = clip_metrics(test, clips) | ({} if fusion is None else {"fusion": fusion})
    saved = {k: metrics.pop(k) for k in ("clip_true", "clip_pred", "clip_probs", "clip_ids",
                                         "cnn_probs", "baseline_probs") if k in metrics}
    if run is not None:
        run.save_figure(plot_history(result.history, title=f"test fold {fold}, seed {seed}"),
                        "curves")
        np.savez(unit.path / "predictions.npz", **saved)
    metrics |= {"fold": fold, "seed": seed, "train_seconds": result.train_seconds,
                "best_epoch": result.best_epoch, "epochs": options["epochs"],
                "steps": options["epochs"] * len(loaders["train"]),
                "val_accuracy": result.best_val_accuracy if "val" in loaders else None,
                "history": result.history,
                "train_windows": len(loaders["train"].indices),
                "train_samples_per_epoch": len(loaders["train"].epoch_rows()),
                "test_clips": int(len(split["test"])),
                "validation": validation_summary(split, clips.folds, clips.groups,
                                                 config.validation)}
    return unit.finish(metrics) | {"clip_true": saved["clip_true"],
                                   "clip_pred": saved["clip_pred"]}


def clip_metrics(scores: SoundScores, clips: ClipTable) -> dict[str, Any]:
    """Window- and clip-level accuracy of a predictor's scores of some clips.

    With a forest, the clips are classified by the mix; ``cnn_probs`` and ``baseline_probs``
    keep both members' probabilities. The network's clip probabilities are kept as float32
    (``clip_probs``, or ``cnn_probs`` when fused), as the runs always have.
    """
    labels = clips.labels[scores.clip_ids]
    proba = _network(scores) if scores.forest_proba is None else scores.proba
    m = classification_metrics(labels, proba.argmax(1), n_classes=len(clips.class_names))
    out = {"clip_accuracy": m["overall_accuracy"],
           "per_class_accuracy": m["per_class_accuracy"], "macro_f1": m["macro_f1"],
           "confusion_matrix": m["confusion_matrix"], "clip_true": labels,
           "clip_pred": proba.argmax(1), "clip_probs": proba, "clip_ids": scores.clip_ids,
           "window_accuracy": float(np.mean(scores.window_proba.argmax(1)
                                            == clips.labels[scores.window_ids]))}
    if scores.forest_proba is not None:
        out |= {"cnn_probs": _network(scores), "baseline_probs": scores.forest_proba}
    return out


def _scores(predictor: SoundPredictor, windows: WindowTable, clip_indices: np.ndarray,
            device: str, mfcc: Callable[[np.ndarray], np.ndarray] | None = None
            ) -> SoundScores:
    """The predictor's scores of every window of some clips (in batches of 256)."""
    return predictor.scores(windows.x, windows.clip_ids, indices=windows.windows_of(clip_indices),
                            mfcc=mfcc, device=device)


def _network(scores: SoundScores) -> np.ndarray:
    """The network's clip probabilities as the runs keep them: float32."""
    return scores.network_proba.astype(np.float32)


def evaluate(run: str | Path, *, root: str | Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Re-score every round of a finished run from its checkpoint on its test fold."""
    run = Path(run)
    saved = read_run(run, expect="audio")[0]
    config = from_dict(AudioConfig, saved["config"], where=str(run / "config.json"))
    clips, windows = prepare(config, root=root, progress=progress)
    check_same_data(run, saved, clips.fingerprint(), content=windows.content_fingerprint(clips),
                    files=str(config.dataset))

    def score_round(saved: SavedModel) -> dict[str, Any]:
        predictor = SoundPredictor.from_saved(saved)
        split = round_split(clips.folds, predictor.fold, validation=config.validation,
                            labels=clips.labels, groups=clips.groups, share=config.val_share,
                            seed=predictor.seed)

        def mfcc(ids: np.ndarray) -> np.ndarray:  # the test clips' only, for the forest
            return mfcc_features(dataclasses.replace(clips, records=tuple(
                clips.records[i] for i in ids)), sr=predictor.features.sr)

        m = clip_metrics(_scores(predictor, windows, split["test"], config.device, mfcc), clips)
        return m | {"fold": predictor.fold, "seed": predictor.seed,
                    "train_seconds": saved.train_seconds, "test_clips": int(len(split["test"]))}

    rounds = rescore(run, domain="audio", build=network_from_state, score=score_round,
                     pattern="fold_*/seed_*/checkpoint.pt")
    return summarise(rounds, len(clips.class_names))

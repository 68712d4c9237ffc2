"""``spectranet audio predict``: label new recordings with a trained run.

A run's trained model answers as a :class:`~spectranet.audio.predictor.SoundPredictor`
(standardisation, network, clip aggregation, the MFCC forest of a fused run).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectranet.audio.decoding import load_audio
from spectranet.audio.plots import plot_timeline
from spectranet.audio.predictor import SoundPredictor, network_from_state
from spectranet.engine.distributed import check_device
from spectranet.engine.identity import check_out_dir
from spectranet.engine.ownership import output_folder
from spectranet.engine.progress import bar
from spectranet.engine.run import best_model, model_from_state
from spectranet.engine.runs import RunDir

#: The kind of output folder ``predict`` writes (its marker).
PREDICT = "audio predict"

__all__ = ["predict", "load_run_predictor", "load_run_model", "model_from_checkpoint",
           "model_from_metadata", "segments", "segment_summary"]


def model_from_metadata(meta: dict[str, Any]) -> torch.nn.Module:
    """The untrained model a checkpoint's metadata describes (the run layer's ``build``).

    :func:`~spectranet.audio.predictor.network_from_state`, under its earlier name.
    """
    return network_from_state(meta)


def load_run_predictor(run: str | Path, *, seed: int | None = None) -> SoundPredictor:
    """The trained model of a sound run's round with the best validation accuracy.

    ``seed`` restricts the choice to that seed's rounds. Its network is in eval mode with the
    kept weights; its MFCC forest (a run trained with ``baseline_weight``) is fitted again
    from the clips the checkpoint stores.
    """
    return SoundPredictor.from_saved(best_model(
        run, domain="audio", build=network_from_state,
        pattern=f"fold_*/seed_{'*' if seed is None else seed}/checkpoint.pt"))


def load_run_model(run: str | Path, *, seed: int | None = None
                   ) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of :func:`load_run_predictor`, in eval mode, and its checkpoint metadata.

    The metadata is :meth:`SoundPredictor.to_state`.
    """
    predictor = load_run_predictor(run, seed=seed)
    return predictor.model, predictor.to_state()


def model_from_checkpoint(state: dict[str, Any]) -> torch.nn.Module:
    """Rebuild a sound run's model, in eval mode on the CPU, from a checkpoint ``fit`` wrote.

    The architecture and its options come from the checkpoint's metadata.
    """
    return model_from_state(state, "audio", network_from_state).model


def predict(run: str | Path, files: list[str | Path], *, out: str | Path | None = None,
            top: int = 3, device: str = "cpu", progress: bool = True) -> list[dict[str, Any]]:
    """Label each file with a run's model: top label, top-3 probabilities, window timeline.

    The clip score is the mean (or vote, as the run was trained) of its window probabilities;
    for a run trained with ``baseline_weight``, mixed with the MFCC forest's probabilities of
    the file as the run scored its test clips (:class:`SoundPredictor`). With ``out``, writes
    ``predictions.csv`` and, for each recording longer than one window,
    ``<stem>_timeline.csv`` (window start and end in seconds, predicted class, the network's
    probabilities) and ``figures/<stem>_timeline.png``.

    ``device`` ("cpu", "cuda", "cuda:<index>") is checked before anything is read;
    ``progress`` shows a bar over the files on a terminal. Output files take each input's
    stem; a repeated stem gets ``_2``, ``_3``... in input order.

    Returns
    -------
    list of dict
        Per file: ``file``, ``label``, ``top3`` (name, probability) pairs, ``windows``,
        ``timeline`` (per window: ``start``, ``end``, ``label``, ``probabilities``),
        ``segments`` (runs of windows with the same top class, see :func:`segments`).

    Raises
    ------
    DataNotFoundError, DataError
        A missing, empty or undecodable file (checked for every file before any output).
    ConfigError
        ``device`` is not available here.
    """
    check_device(device)
    if out is not None:
        check_out_dir(out, marker=None, kind=PREDICT)
    predictor = load_run_predictor(run)
    names = list(predictor.class_names)
    audio = [load_audio(f, sr=predictor.features.sr) for f in files]  # validates every file
    rows = []
    for path, y in bar(list(zip(files, audio, strict=True)), desc="files",
                       enabled=progress and len(files) > 1):
        mfcc = None if predictor.forest is None else predictor.forest_features(y)[None]
        scores = predictor.scores(predictor.windows(y), mfcc=mfcc, device=device)
        probs, clip = scores.window_proba, scores.proba
        order = np.argsort(-clip[0])[:top]
        starts, ends = predictor.features.window_times(len(probs))
        rows.append({
            "file": str(path),
            "label": names[order[0]],
            "top3": [(names[k], float(clip[0, k])) for k in order],
            "windows": len(probs),
            "timeline": [
                {"start": float(s), "end": float(e), "label": names[int(p.argmax())],
                 "probabilities": p.round(5).tolist()}
                for s, e, p in zip(starts, ends, probs, strict=True)
            ],
            "segments": segments(starts, ends, probs, names),
        })
    if out is not None:
        with output_folder(out, PREDICT, run=str(Path(run).resolve())) as folder:
            _write(folder, rows, names)
    return rows


def segments(starts: np.ndarray, ends: np.ndarray, probs: np.ndarray,
             names: list[str]) -> list[dict[str, Any]]:
    """Merge consecutive windows with the same top class into segments.

    Parameters
    ----------
    starts, ends : ndarray, shape (n_windows,)
        Window start and end times in seconds, ascending (windows may overlap).
    probs : ndarray, shape (n_windows, n_classes)
        Class probabilities per window.
    names : list of str, length n_classes

    Returns
    -------
    list of dict
        Per segment: ``start`` (its first window's start, s), ``end`` (its last window's end,
        s), ``label`` and ``probability`` (that class's mean probability over the segment's
        windows).

    Examples
    --------
    >>> p = np.array([[.9, .1], [.7, .3], [.2, .8]])
    >>> [(s["start"], s["end"], s["label"], round(s["probability"], 2))
    ...  for s in segments(np.array([0., 1., 2.]), np.array([2., 3., 4.]), p, ["a", "b"])]
    [(0.0, 3.0, 'a', 0.8), (2.0, 4.0, 'b', 0.8)]
    """
    top = probs.argmax(1)
    out: list[dict[str, Any]] = []
    first = 0
    for i in range(1, len(top) + 1):
        if i == len(top) or top[i] != top[first]:
            k = int(top[first])
            out.append({"start": float(starts[first]), "end": float(ends[i - 1]),
                        "label": names[k], "probability": float(probs[first:i, k].mean())})
            first = i
    return out


def segment_summary(row: dict[str, Any]) -> str:
    """One line per file's segments: ``"0.0-3.7 s dog_bark 0.81, 1.9-4.0 s siren 0.64"``."""
    return ", ".join(f"{s['start']:.1f}-{s['end']:.1f} s {s['label']} {s['probability']:.2f}"
                     for s in row["segments"])


def _write(folder: RunDir, rows: list[dict[str, Any]], names: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "label", "top1", "p1", "top2", "p2", "top3", "p3", "windows"])
    for r in rows:
        pairs = [v for name, p in r["top3"] for v in (name, f"{p:.4f}")]
        writer.writerow([r["file"], r["label"], *pairs, r["windows"]])
    folder.write_text("predictions.csv", buf.getvalue())
    for r in rows:  # what the command prints, kept in the folder's run.log
        top = ", ".join(f"{name} {p:.2f}" for name, p in r["top3"])
        folder.log(f"{r['file']}: {r['label']}  ({top})")
    stems = _unique_stems([r["file"] for r in rows])
    for r, stem in zip(rows, stems, strict=True):
        if r["windows"] < 2:
            continue
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["start_s", "end_s", "label", *names])
        for w in r["timeline"]:
            writer.writerow([f"{w['start']:.3f}", f"{w['end']:.3f}", w["label"],
                             *(f"{p:.4f}" for p in w["probabilities"])])
        folder.write_text(f"{stem}_timeline.csv", buf.getvalue())
        times = np.array([w["start"] for w in r["timeline"]])
        probs = np.array([w["probabilities"] for w in r["timeline"]])
        folder.save_figure(plot_timeline(times, probs, names, title=Path(r["file"]).name),
                           f"{stem}_timeline")


def _unique_stems(files: list[str]) -> list[str]:
    """File stems for output names; a repeated stem gets ``_2``, ``_3``... in input order."""
    seen: dict[str, int] = {}
    stems = []
    for f in files:
        stem = Path(f).stem
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return stems

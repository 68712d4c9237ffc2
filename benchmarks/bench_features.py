"""Sound feature extraction (clips/s) on real UrbanSound8K clips: plain librosa loop vs ours.

Issue 5, benchmark 1 (targets: >= 3x on a cold cache, >= 50x on a warm cache). Candidates,
timed interleaved in one process on the first ``--clips`` clips of
``$SPECTRANET_DATA/audio/urbansound8k_subset`` (``load_clips("urbansound8k")``):

- ``reference``: a plain per-file loop: ``librosa.load(path, sr=22050)`` (soundfile + soxr_hq),
  the same loop-padding of clips shorter than one window, ``librosa.feature.melspectrogram`` +
  ``power_to_db`` + ``librosa.feature.delta`` over the clip, windows cut by hand (41 frames,
  hop 20);
- ``ours cold``: ``extract_features(clips, settings, cache=<empty temporary folder>, jobs=N)``
  (decoding, transforms and writing the cache);
- ``ours warm``: the same call again on the now full cache (``cache_hits == clips``);
- ``ours cold, 1 process``: ``jobs=1`` on an empty cache, printed for the record.

Every process, the reference included, uses one BLAS thread (the reference's best case on this
shared machine; see ``extract_features``). Our arrays are checked equal to the reference's on
every clip, within 1e-3 dB.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_features.py``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, interleaved_rates, machine_summary, print_comparison

from spectranet.audio.datasets import ClipRecord, load_clips
from spectranet.audio.extraction import extract_features
from spectranet.audio.features import FeatureSettings

TARGET_COLD, TARGET_WARM = 3.0, 50.0
TOLERANCE_DB = 1e-3


def reference_features(path: Path, s: FeatureSettings) -> np.ndarray:
    """One clip the plain way: (n_windows, 2, n_mels, frames) float32."""
    y, _ = librosa.load(path, sr=s.sr, mono=True)
    need = (s.frames - 1) * s.hop_length
    if y.size < need:  # same rule as ours: loop-pad to exactly one window
        y = np.resize(y, need)
    mel = librosa.feature.melspectrogram(y=y, sr=s.sr, n_fft=s.n_fft, hop_length=s.hop_length,
                                         n_mels=s.n_mels)
    logmel = librosa.power_to_db(mel, ref=s.ref, amin=s.amin, top_db=s.top_db)
    delta = librosa.feature.delta(logmel, width=s.delta_width, order=1, mode="interp")
    hop = int(s.frames * (1 - s.overlap))
    n = 1 + (logmel.shape[1] - s.frames) // hop
    return np.stack([np.stack([logmel[:, k * hop:k * hop + s.frames],
                               delta[:, k * hop:k * hop + s.frames]]) for k in range(n)])


def reference_loop(records: list[ClipRecord], s: FeatureSettings) -> list[np.ndarray]:
    """The plain per-file loop over every clip."""
    return [reference_features(Path(r.path), s) for r in records]


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200, help="clips measured (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of ours")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    args = parser.parse_args(argv)
    threadpool_limits(limits=1, user_api="blas")
    print(machine_summary())
    table = load_clips("urbansound8k", root=data_root())
    records = list(table.records[: args.clips])
    settings = FeatureSettings()
    scratch = Path(tempfile.mkdtemp(prefix="bench_features_"))
    state = {"round": 0}

    def cold() -> int:
        state["round"] += 1
        folder = scratch / f"cache_{state['round']}"
        extract_features(records, settings, cache=folder, jobs=args.jobs, progress=False)
        state["warm_folder"] = folder
        return len(records)

    def cold_one_process() -> int:
        state["round"] += 1
        extract_features(records, settings, cache=scratch / f"cache_{state['round']}", jobs=1,
                         progress=False)
        return len(records)

    def warm() -> int:
        extract_features(records, settings, cache=state["warm_folder"], jobs=args.jobs,
                         progress=False)
        return len(records)

    try:
        tic = time.perf_counter()
        # "ours cold" precedes "ours warm" in every rotation but one; warm always reuses the
        # cache the latest cold call filled, so it is warm whatever the order.
        cold()
        rates = interleaved_rates(
            {"reference": lambda: len(reference_loop(records, settings)),
             "ours cold": cold, "ours cold, 1 process": cold_one_process, "ours warm": warm},
            rounds=args.rounds, warmup=0,
        )
        elapsed = time.perf_counter() - tic
        # equality on every clip measured, cold (computed) and warm (read back) arrays
        expected = reference_loop(records, settings)
        folder = scratch / "check"
        got_cold = extract_features(records, settings, cache=folder, jobs=args.jobs,
                                    progress=False)
        got_warm = extract_features(records, settings, cache=folder, jobs=args.jobs,
                                    progress=False)
        assert got_warm.cache_hits == len(records), got_warm.cache_hits
        worst = 0.0
        for got in (got_cold, got_warm):
            for r, ref in zip(records, expected, strict=True):
                mine = got.x[got.clip_ids == r.clip_id]
                if mine.shape != ref.shape:
                    raise SystemExit(f"{r.path}: shape {mine.shape} != reference {ref.shape}")
                worst = max(worst, float(np.abs(mine - ref).max()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    windows = len(got_cold)
    print(f"UrbanSound8K: {len(records)} clips ({windows} windows), jobs {args.jobs}, "
          f"{args.rounds} rounds in {elapsed:.0f} s")
    verdict = "OK" if worst <= TOLERANCE_DB else "FAILED"
    print(f"equality on all {len(records)} clips: max |ours - reference| = {worst:.2e} dB "
          f"(tolerance {TOLERANCE_DB:g} dB): {verdict}")
    ref = rates["reference"]
    one = rates["ours cold, 1 process"]
    print(f"    {'ours cold, jobs=1 (for the record)':<40} {one:>10,.0f} clips/s  "
          f"ratio {one / ref:5.2f}x")
    print_comparison("features, cold cache vs plain librosa loop", ref, rates["ours cold"],
                     unit="clips/s", target=TARGET_COLD)
    print_comparison("features, warm cache vs plain librosa loop", ref, rates["ours warm"],
                     unit="clips/s", target=TARGET_WARM)
    if worst > TOLERANCE_DB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

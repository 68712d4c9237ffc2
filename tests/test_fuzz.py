"""Property-based tests: random and mutated inputs to the parsers and readers a user feeds.

Each gives a working result (a model of the right output shape, a clip table, an array) or a
:class:`~spectranet.errors.SpectranetError`; never another exception.
"""

import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import soundfile as sf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectranet.audio.datasets import load_clips
from spectranet.audio.models import build_model, check_window_fits
from spectranet.errors import SpectranetError
from spectranet.hsi.datasets import read_cube, read_labels

FUZZ = settings(max_examples=int(os.environ.get("SPECTRANET_FUZZ_EXAMPLES", 60)), deadline=None,
                derandomize=not os.environ.get("SPECTRANET_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.function_scoped_fixture])
TOKENS = ["Cov1", "Cov2", "Cov3", "DilaCov1", "DilaCov2(2)", "DilaCov3(3)", "DilaCov1(0)",
          "Max-pooling", "piczak", "+", " + ", "(", ")", "2", "-1", " ", "cov", "Pool", ""]


def _mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(0, 3))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "insert", "flip"]))
        if op == "drop":
            text = text[:i] + text[i + 1:]
        elif op == "dup":
            text = text[:i] + text[i] + text[i:]
        elif op == "insert":
            text = text[:i] + data.draw(st.sampled_from("+() 0123456789CDMailovp-")) + text[i:]
        else:
            text = text[:i] + chr((ord(text[i]) + 1) % 128) + text[i + 1:]
    return text


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=8), st.data())
def test_layer_specs(tokens, data):
    spec = _mutate("".join(tokens), data)
    try:
        model = build_model(spec, 10, filters=[4, 4, 8, 8])
        check_window_fits(model, spec, 64, 41)
    except SpectranetError:
        return
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 2, 64, 41)).shape == (2, 10)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["a.wav", "b.wav", "sub/c.wav", "x.wav", "", "a.WAV",
                                           "b.flac", "a,b.wav", '"q".wav']),
                          st.sampled_from(["dog", "cat", "1", "2", "", " ", "d,og"]),
                          st.sampled_from(["1", "2", "3", "", "x", "-1", "2.5"])),
                min_size=0, max_size=6),
       st.booleans(), st.data())
def test_user_audio_csv(rows, with_fold, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("a.wav", "b.wav", "sub/c.wav"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            sf.write(folder / name, np.zeros(2205, np.float32), 22050)
        header = "file,label,fold" if with_fold else "file,label"
        lines = [",".join(r if with_fold else r[:2]) for r in rows]
        (folder / "labels.csv").write_text(_mutate("\n".join([header, *lines]) + "\n", data))
        try:
            table = load_clips(folder)
        except SpectranetError:
            return
        assert len(table) == len(table.labels) == len(table.folds) >= 1
        assert all(r.path.is_file() for r in table.records)
        assert len({r.path for r in table.records}) == len(table)  # no file twice


def _valid_cube_files(folder: Path) -> dict[str, bytes]:
    cube = np.random.default_rng(0).random((6, 5, 4)).astype(np.float32)
    np.save(folder / "c.npy", cube)
    scipy.io.savemat(folder / "c5.mat", {"cube": cube}, do_compression=True)
    with h5py.File(folder / "c73.mat", "w", userblock_size=512) as f:
        f["cube"] = cube.transpose()
    return {n: (folder / n).read_bytes() for n in ("c.npy", "c5.mat", "c73.mat")}


@FUZZ
@given(st.sampled_from(["c.npy", "c5.mat", "c73.mat"]),
       st.sampled_from(["truncate", "flip", "zero", "none"]), st.data())
def test_cube_and_label_readers(name, how, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = bytearray(_valid_cube_files(folder)[name])
        i = data.draw(st.integers(0, len(raw) - 1))
        if how == "truncate":
            raw = raw[:i]
        elif how == "flip":
            n = data.draw(st.integers(1, 64))
            raw[i:i + n] = bytes(b ^ 0xFF for b in raw[i:i + n])
        elif how == "zero":
            raw[i:] = bytes(len(raw) - i)
        path = folder / ("m_" + name)
        path.write_bytes(bytes(raw))
        for read in (read_cube, read_labels):
            try:
                out = read(path)
            except SpectranetError:
                continue
            array = out if read is read_cube else out[0]
            assert isinstance(array, np.ndarray) and array.ndim == (3 if read is read_cube else 2)

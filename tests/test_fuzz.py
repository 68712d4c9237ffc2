"""Property-based tests: random and mutated inputs to the parsers and readers a user feeds.

Each gives a working result (a model of the right output shape, a clip table, an array) or a
:class:`~spectranet.errors.SpectranetError`; never another exception.
"""

import math
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import soundfile as sf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectranet.audio.datasets import load_clips
from spectranet.audio.models import build_model, check_window_fits
from spectranet.errors import SpectranetError
from spectranet.hsi.datasets import read_cube, read_labels
from spectranet.hsi.readers import read_array

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


# ---------------------------------------------------------------- issue 26: no traceback
# Each entry point runs twice: ~150 examples in the fast suite, 2,000 under -m slow.
FUZZ_CI = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
FUZZ_SLOW = settings(max_examples=2000, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


def _twice(*strategies):
    """A fast and a slow (2,000 examples) hypothesis test of the same body."""
    def wrap(body):
        fast = FUZZ_CI(given(*strategies)(body))
        slow = pytest.mark.slow(FUZZ_SLOW(given(*strategies)(body)))
        return fast, slow
    return wrap


CSV_FIELDS = ["a.wav", "sub/c.wav", "../a.wav", "/etc/passwd", "sub/../a.wav", "..", "C:\\x.wav",
              "caf\xe9", "dog", "1", "", "\x00", '"', "\ufeff", "\r"]


def _csv_body(rows, header, encoding, junk):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        (folder / "sub").mkdir(parents=True)
        for name in ("a.wav", "sub/c.wav"):
            sf.write(folder / name, np.zeros(64, np.float32), 22050)
        (Path(tmp) / "outside.wav").write_bytes(b"RIFF")
        text = "\n".join([header, *(",".join(r) for r in rows)]) + "\n"
        (folder / "labels.csv").write_bytes(text.encode(encoding, errors="replace") + junk)
        try:
            table = load_clips(folder)
        except SpectranetError:
            return
        root = folder.resolve()
        assert all(r.path.resolve().is_relative_to(root) for r in table.records)


test_csv_rows, test_csv_rows_slow = _twice(
    st.lists(st.lists(st.sampled_from(CSV_FIELDS), min_size=1, max_size=4), max_size=5),
    st.sampled_from(["file,label", "file,label,fold", "file", "label,file", ""]),
    st.sampled_from(["utf-8", "latin-1", "utf-16"]), st.binary(max_size=8),
)(_csv_body)


def _header_body(shape, descr, body, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        with open(path, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": False,
                                                      "shape": tuple(shape)})
            fh.write(body)
        if suffix == ".npz":
            import zipfile
            with zipfile.ZipFile(Path(tmp) / "x.npz", "w") as z:
                z.write(path, "cube.npy")
            path = Path(tmp) / "x.npz"
        size = path.stat().st_size
        for read in (read_array, read_cube, lambda p: read_labels(p)[0]):
            try:
                array = read(path)
            except SpectranetError:
                continue
            assert array.nbytes <= max(size, 1) * 8  # nothing beyond what the file holds


test_array_headers, test_array_headers_slow = _twice(
    st.lists(st.one_of(st.integers(0, 40), st.integers(10**6, 10**15)), max_size=4),
    st.sampled_from(["<f4", "<f8", "<i8", "|u1", "|b1", "<c8", ">i4", "<U3", "|V4"]),
    st.binary(max_size=512), st.sampled_from([".npy", ".npz"]),
)(_header_body)


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 10**20),
                    st.sampled_from([0, 1, 0.5, -0.0, 1e-300, 1e300]))
HSI_FLOATS = ["lr", "weight_decay", "mixup", "label_smoothing", "spectral_noise", "dropout",
              "val_fraction", "svm_weight"]
AUDIO_FLOATS = ["lr", "weight_decay", "mixup", "label_smoothing", "dropout", "momentum",
                "overlap"]


def _options_body(domain, preset, values):
    from spectranet.config import make_config

    names = HSI_FLOATS if domain == "hsi" else AUDIO_FLOATS
    options = dict(zip(names, values, strict=False))
    extra = {"cube": "c.npy", "gt": "g.npy", "scene": None} if domain == "hsi" else {}
    try:
        config = make_config(domain, preset, **options, **extra)
    except SpectranetError:
        return
    for name in options:
        value = getattr(config, name)
        assert value is None or math.isfinite(value), (name, value)


test_option_values, test_option_values_slow = _twice(
    st.sampled_from(["hsi", "audio"]), st.sampled_from(["paper", "standard", "quick"]),
    st.lists(NUMBERS, min_size=1, max_size=8),
)(_options_body)

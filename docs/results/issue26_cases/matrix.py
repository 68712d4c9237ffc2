"""Issue 26's cases through the command line on a source tree: python matrix.py SRC OUTDIR.

Each case builds its input from real data under $SPECTRANET_DATA (a 30 x 30 crop of Indian
Pines, twelve UrbanSound8K clips of two classes as 16-bit WAV), runs `spectranet` with
PYTHONPATH=SRC and records the exit code, whether a traceback was printed, the outcome and the
last line of standard error in OUTDIR/matrix.json.
"""
import csv, json, os, shutil, subprocess, sys
from pathlib import Path

import numpy as np
import soundfile as sf

SRC, T = sys.argv[1], Path(sys.argv[2])
shutil.rmtree(T, ignore_errors=True)
T.mkdir(parents=True)
DATA = Path(os.environ["SPECTRANET_DATA"])
ENV = os.environ | {"PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "SPECTRANET_DATA": str(DATA),
                    "SPECTRANET_CACHE": str(T / "cache")}
PY = sys.executable
results = []


def sp(*args, cwd=None, timeout=600):
    try:
        r = subprocess.run([PY, "-m", "spectranet", *map(str, args)], capture_output=True,
                           text=True, env=ENV, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 0, "", "(still running after the timeout: not refused)"
    return r.returncode, r.stdout, r.stderr


def last(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[:160]


def record(case, rc, err, outcome):
    tb = "Traceback" in err
    results.append({"case": case, "rc": rc, "traceback": tb, "outcome": outcome,
                    "last": last(err)})
    print(f"{case:45s} rc={rc} tb={tb} {outcome} | {last(err)}", flush=True)


# ---- data
sys.path.insert(0, SRC)
from spectranet.hsi.readers import read_array  # noqa: E402

src = DATA / "hsi" / "indian_pines"
cube = read_array(src / "Indian_pines_corrected.mat", ndim=3)[60:90, 60:90].astype(np.float32)
gt = read_array(src / "Indian_pines_gt.mat", ndim=2)[60:90, 60:90].astype(np.int64)
H = T / "hsi"
H.mkdir()
np.save(H / "cube.npy", cube)
np.save(H / "gt.npy", gt)
HT = ["--preset", "quick", "--model", "conv2d", "--window", "5", "--components", "4",
      "--epochs", "1", "--no-progress"]


def hsi_train(out, *extra, cube="cube.npy", gtf="gt.npy", cwd=H):
    return sp("hsi", "train", "--cube", cube, "--gt", gtf, *HT, "--out", out, *extra, cwd=cwd)


rc, out, err = hsi_train("run", "--seeds", "0", "1")
assert rc == 0, err
RUN = H / "run"

us = DATA / "audio" / "urbansound8k_subset"
A = T / "clips"
A.mkdir()
rows = []
taken = {}
for row in csv.DictReader(open(us / "metadata" / "UrbanSound8K.csv")):
    f, c = int(row["fold"]), row["class"]
    if c not in ("dog_bark", "siren") or f not in (1, 2, 3) or taken.get((f, c), 0) >= 2:
        continue
    stem = Path(row["slice_file_name"]).stem
    y, sr = sf.read(us / "audio" / f"fold{f}" / f"{stem}.flac", dtype="float32")
    sf.write(A / f"{stem}.wav", y, sr, subtype="PCM_16")
    rows.append({"file": f"{stem}.wav", "label": c, "fold": f})
    taken[f, c] = taken.get((f, c), 0) + 1


def write_rows(folder, rs):
    with open(folder / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, ["file", "label", "fold"])
        w.writeheader()
        w.writerows(rs)


write_rows(A, rows)
AT = ["--preset", "quick", "--folds", "3", "--filters", "4,4,8,8", "--epochs", "1",
      "--no-progress"]


def clone_audio(name, rs=None):
    d = T / name
    shutil.copytree(A, d)
    if rs is not None:
        write_rows(d, rs)
    return d


rc, out, err = sp("audio", "train", "--dataset", A, *AT, "--out", T / "arun")
assert rc == 0, err
ARUN = T / "arun"

# ---- silent wrong results
d = clone_audio("cut")
wav = d / rows[0]["file"]
b = wav.read_bytes()
wav.write_bytes(b[:44 + (len(b) - 44) // 2])
rc, out, err = sp("audio", "train", "--dataset", d, *AT, "--out", T / "cut_run")
record("half-cut WAV trains", rc, err, "refused" if rc else "trained on it")

d = clone_audio("copy")
src1 = next(r for r in rows if r["fold"] == 1)
shutil.copyfile(d / src1["file"], d / "copy.wav")
write_rows(d, rows + [{"file": "copy.wav", "label": src1["label"], "fold": 3}])
rc, out, err = sp("audio", "train", "--dataset", d, *AT, "--out", T / "copy_run")
record("byte-identical copy in another fold", rc, err, "refused" if rc else "trained")

d = clone_audio("dotdot")
(d / "sub").mkdir()
write_rows(d, rows + [{"file": f"sub/../{src1['file']}", "label": src1["label"], "fold": 3}])
rc, out, err = sp("audio", "train", "--dataset", d, *AT, "--out", T / "dotdot_run")
record("sub/../x.wav in another fold", rc, err, "refused" if rc else "trained")

for preset in ("paper", "quick"):
    rc, out, err = sp("audio", "train", "--dataset", A, "--preset", preset, "--arch",
                      "DilaCov1(100)", "--folds", "3", "--epochs", "1", "--out",
                      T / f"dila_{preset}", "--no-progress")
    record(f"DilaCov1(100) under {preset}", rc, err,
           "reach refused" if "reaches" in err else ("trained" if rc == 0 else "other error"))

d = clone_audio("content")
rc, out, err = sp("audio", "train", "--dataset", d, *AT, "--out", T / "content_run")
assert rc == 0, err
wav = d / rows[0]["file"]
y, sr = sf.read(wav, dtype="float32")
sf.write(wav, np.flip(y), sr, subtype="PCM_16")
rc, out, err = sp("audio", "train", "--dataset", d, *AT, "--out", T / "content_run")
record("samples changed, same size, same --out", rc, err, "refused" if rc else "old metrics")

ev = T / "ev_swap"
shutil.copytree(RUN, ev)
g2 = gt.copy()
g2[gt == 2], g2[gt == 10] = 10, 2
h2 = T / "hsi_swap"
shutil.copytree(H, h2, ignore=shutil.ignore_patterns("run"))
np.save(h2 / "gt.npy", g2)
cfg = json.loads((ev / "config.json").read_text())
cfg["config"]["cube"], cfg["config"]["gt"] = str(h2 / "cube.npy"), str(h2 / "gt.npy")
(ev / "config.json").write_text(json.dumps(cfg))
rc, out, err = sp("hsi", "evaluate", ev, "--no-progress", cwd=H)
record("evaluate: classes swapped in gt", rc, err, "refused" if rc else "new numbers")

ev = T / "ev_split"
shutil.copytree(RUN, ev)
s = json.loads((ev / "seed_0" / "split.json").read_text())
s["test"] = s["train"]
(ev / "seed_0" / "split.json").write_text(json.dumps(s))
rc, out, err = sp("hsi", "evaluate", ev, "--no-progress", cwd=H)
record("evaluate: test set replaced in split.json", rc, err, "refused" if rc else "new numbers")

ev = T / "ev_cube"
shutil.copytree(RUN, ev)
np.save(T / "other_cube.npy", cube[::-1])
cfg = json.loads((ev / "config.json").read_text())
cfg["config"]["cube"] = str(T / "other_cube.npy")
(ev / "config.json").write_text(json.dumps(cfg))
rc, out, err = sp("hsi", "evaluate", ev, "--no-progress", cwd=H)
record("evaluate: config.json -> another cube", rc, err, "refused" if rc else "new numbers")

elsewhere = T / "elsewhere"
elsewhere.mkdir()
np.save(elsewhere / "cube.npy", cube[:, ::-1].copy())
np.save(elsewhere / "gt.npy", gt[:, ::-1].copy())
rc, out, err = sp("hsi", "evaluate", RUN, "--no-progress", cwd=elsewhere)
rc0, out0, _ = sp("hsi", "evaluate", RUN, "--no-progress", cwd=H)
record("evaluate from elsewhere (relative paths)", rc, err,
       "same numbers" if out == out0 else "other file read")

# ---- data loss
mine = T / "mine"
mine.mkdir()
(mine / "config.json").write_text('{"config": {}}')
(mine / "report.md").write_text("mine")
rc, out, err = hsi_train(mine)
record("--out: user's folder with config.json", rc, err,
       "kept" if (mine / "report.md").read_text() == "mine" else "overwritten")

mine = T / "mine_pred"
mine.mkdir()
(mine / "map.npy").write_bytes(b"mine")
rc, out, err = sp("hsi", "predict", RUN, H / "cube.npy", "--out", mine, "--no-progress")
record("hsi predict --out onto user's files", rc, err,
       "kept" if (mine / "map.npy").read_bytes() == b"mine" else "overwritten")

mine = T / "mine_apred"
mine.mkdir()
(mine / "predictions.csv").write_text("mine")
rc, out, err = sp("audio", "predict", ARUN, A / rows[0]["file"], "--out", mine, "--no-progress")
record("audio predict --out onto user's files", rc, err,
       "kept" if (mine / "predictions.csv").read_text() == "mine" else "overwritten")

(T / "model.pt").write_bytes(b"mine")
rc, out, err = sp("export", RUN, "--format", "torchscript", "--out", T / "model.pt")
record("export --out onto an existing file", rc, err,
       "kept" if (T / "model.pt").read_bytes() == b"mine" else "overwritten")

first = subprocess.Popen([PY, "-m", "spectranet", "hsi", "train", "--cube", "cube.npy", "--gt",
                          "gt.npy", *HT[:-3], "--epochs", "400", "--no-progress", "--out", "two"],
                         cwd=H, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
import time  # noqa: E402
deadline = time.time() + 120
while not (H / "two" / "config.json").exists() and time.time() < deadline:
    time.sleep(0.2)
rc, out, err = sp("hsi", "train", "--cube", "cube.npy", "--gt", "gt.npy", *HT, "--out", "two",
                  "--epochs", "400", cwd=H, timeout=30)
first.kill()
first.wait()
record("two trainings into one --out", rc, err, "second refused" if rc else "both ran")

linked = T / "linked"
shutil.copytree(RUN, linked)
outside = T / "outside"
outside.mkdir()
(outside / "keep.txt").write_text("keep")
shutil.rmtree(linked / "seed_0" / "figures")
(linked / "seed_0" / "figures").symlink_to(outside)
(linked / "run.log").unlink()
(linked / "run.log").symlink_to(outside / "keep.txt")
rc, out, err = hsi_train(linked, "--seeds", "0", "1")
record("symlinks in a run folder", rc, err,
       "outside untouched" if sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
       and (outside / "keep.txt").read_text() == "keep" else "written through")

# ---- tracebacks
g = gt.copy()
g[g == 10] = 10**12
np.save(T / "gt12.npy", g)
rc, out, err = hsi_train(T / "r12", gtf=T / "gt12.npy")
record("gt id 10^12", rc, err, "error line" if rc and "Traceback" not in err else "traceback")


def forged(path, shape, descr="<f4"):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
        fh.write(bytes(64))


forged(T / "big.npy", (10**6, 10**6, 200))
rc, out, err = hsi_train(T / "rbig", cube=T / "big.npy")
record(".npy cube header of terabytes", rc, err, "error line" if "Traceback" not in err else "traceback")
forged(T / "split.npy", (30, 30, 10**12), "<i8")
rc, out, err = hsi_train(T / "rsplit", "--split-file", T / "split.npy")
record(".npy split header of terabytes", rc, err, "error line" if "Traceback" not in err else "traceback")

for opt, val in (("--lr", "nan"), ("--lr", "inf"), ("--weight-decay", "inf")):
    rc, out, err = hsi_train(T / f"r{opt}{val}", opt, val)
    record(f"{opt} {val}", rc, err,
           "traceback" if "Traceback" in err else ("refused" if rc else "trained"))

d = T / "latin"
d.mkdir()
(d / "labels.csv").write_bytes("file,label\na.wav,caf\xe9\n".encode("latin-1"))
rc, out, err = sp("audio", "features", "--dataset", d, "--no-progress")
record("labels CSV in latin-1", rc, err, "error line" if "Traceback" not in err else "traceback")
(d / "labels.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
rc, out, err = sp("audio", "features", "--dataset", d, "--no-progress")
record("labels CSV binary", rc, err, "error line" if "Traceback" not in err else "traceback")

ev = T / "ev_key"
shutil.copytree(RUN, ev)
cfg = json.loads((ev / "config.json").read_text())
cfg["config"]["colour"] = "blue"
(ev / "config.json").write_text(json.dumps(cfg))
rc, out, err = sp("hsi", "evaluate", ev, "--no-progress", cwd=H)
record("config.json with an unknown key", rc, err, "error line" if "Traceback" not in err else "traceback")

# ---- other
d = clone_audio("outside_csv", rows + [{"file": "/etc/passwd", "label": "siren", "fold": 1}])
rc, out, err = sp("audio", "features", "--dataset", d, "--no-progress")
record("CSV row /etc/passwd", rc, err, "refused as outside" if "outside the dataset" in err else "opened")
(T / "outside.wav").write_bytes(b"x")
d = clone_audio("outside2", rows + [{"file": "../outside.wav", "label": "siren", "fold": 1}])
rc, out, err = sp("audio", "features", "--dataset", d, "--no-progress")
record("CSV row ../outside.wav", rc, err, "refused as outside" if "outside the dataset" in err else "read")

gone = T / "gone"
shutil.copytree(RUN, gone)
(gone / "seed_1" / "checkpoint.pt").unlink()
rc, out, err = sp("hsi", "predict", gone, H / "cube.npy", "--out", T / "gone_pred", "--no-progress")
record("predict with seed_1's checkpoint missing", rc, err, "refused" if rc else "used another seed")
rc, out, err = sp("export", gone, "--format", "torchscript", "--out", T / "gone.pt")
record("export with seed_1's checkpoint missing", rc, err, "refused" if rc else "used another seed")

np.save(T / "const.npy", np.full_like(cube, 5.0))
rc, out, err = hsi_train(T / "rconst", cube=T / "const.npy")
record("constant cube", rc, err, "warned" if "warning: " in err and "constant" in err else "no word")

log = (ARUN / "run.log").read_text() if (ARUN / "run.log").exists() else ""
record("audio train top-level run.log", 0, "", "holds lines" if log.strip() else "empty")
rc, out, err = sp("audio", "predict", ARUN, A / rows[0]["file"], "--out", T / "apred", "--no-progress")
log = (T / "apred" / "run.log").read_text() if (T / "apred" / "run.log").exists() else ""
record("audio predict run.log", rc, err, "holds lines" if log.strip() else "empty")

d = clone_audio("garbage")
(d / rows[0]["file"]).write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(64))
rc, out, err = sp("audio", "features", "--dataset", d, "--no-progress")
record("decode error names the file", rc, err, "BytesIO shown" if "BytesIO" in err else "file named")

(T / "matrix.json").write_text(json.dumps(results, indent=1))

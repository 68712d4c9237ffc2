"""Re-render published Chen et al. (2019) grid reports from their results.json.

The report is written again by the library's current
:func:`spectranet.experiments.chen2019.write_report`; no run is trained and no number is
recomputed (the rows, the folds' accuracies and the convergence summaries are read from the
folder's ``results.json`` and ``convergence.json``). Each row is marked ``rendered_from`` so the
report says so. Needed because sound rows record no epochs or seed count, so
``spectranet experiment chen2019 NAME --out FOLDER`` would train a published folder again
instead of re-rendering it (see :func:`spectranet.experiments.results.published_results`).

Usage: SPECTRANET_DATA=... python rerender_chen2019.py FOLDER [FOLDER ...]
(the experiment and scale are read from each report's header).
"""
import json
import re
import sys
from pathlib import Path

from spectranet.experiments import chen2019

for out in map(Path, sys.argv[1:]):
    if (out / "runs").exists():
        sys.exit(f"error: {out} holds runs/: run the experiment command instead")
    header = (out / "report.md").read_text()
    found = re.search(r"`spectranet experiment chen2019 (\w+) --scale (\w+)`", header)
    if found is None:
        sys.exit(f"error: {out}/report.md: no 'spectranet experiment chen2019' line")
    name, scale = found.groups()
    rows = [r | {"rendered_from": "results.json"}
            for r in json.loads((out / "results.json").read_text())["runs"]]
    print(chen2019.write_report(name, scale, out, rows, []), "re-rendered")

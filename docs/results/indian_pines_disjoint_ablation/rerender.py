"""Re-render finished hsi runs' report.md from their config.json and seed_*/metrics.json with
the library's current report (spectranet.hsi.report.render); the numbers are not recomputed.
Used on the published `standard` reports and the W_val_quarter_monitor line (issue 13).
Usage: python rerender.py RUN [RUN ...]
"""
import json
import sys
from pathlib import Path

from spectranet.config import HSIConfig
from spectranet.hsi.pipeline import load_scene_of
from spectranet.hsi.report import render

for run in map(Path, sys.argv[1:]):
    stored = json.loads((run / "config.json").read_text())
    config = HSIConfig(**stored["config"])
    per_seed = [json.loads(p.read_text()) for p in sorted(run.glob("seed_*/metrics.json"))]
    precision = stored["resolved"].get("precision_resolved") or stored["config"]["precision"]
    (run / "report.md").write_text(render(load_scene_of(config, None), config, precision,
                                          per_seed))
    print(run, "re-rendered")

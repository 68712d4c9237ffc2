"""Render the sound ablation's report from its grid folder while runs are still pending
(issue 23): the finished runs' rows, the others marked pending; nothing is trained.

Usage: python render_partial.py GRID   (the folder of `spectranet experiment chen2019 ablation`)
"""

import os
import sys
from pathlib import Path

from spectranet.experiments import chen2019
from spectranet.experiments.results import collect_results

grid = Path(sys.argv[1])
runs, _ = chen2019.build_runs("ablation", "standard")
rows = collect_results(runs, grid)
print(chen2019.write_report("ablation", "standard", grid, rows, [],
                            root=os.environ.get("SPECTRANET_DATA")))

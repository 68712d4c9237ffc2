"""Markdown reports of experiment grids: header, tables, figures, failures; tables also as CSV/JSON.

A :class:`Report` collects Markdown blocks and named tables; :meth:`Report.write` saves
``OUT/report.md``, ``OUT/tables.json`` and one ``OUT/tables/<slug>.csv`` per table. Figures are
PNG files inside ``OUT/figures/`` (new plots, or PNGs a run wrote, copied by
:func:`collect_figure`) and are linked with relative paths, so the folder ``report.md`` +
``figures/`` reads on its own.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spectranet.engine.runs import atomic_write_json, atomic_write_text, save_figure

__all__ = ["Report", "pct", "machine", "collect_figure", "save_plot", "status_section",
           "NOT_CONFIRMED"]

#: Written in a paper column where the number could not be checked against the paper.
NOT_CONFIRMED = "not confirmed"


def pct(value: float | None, std: float | None = None, *, digits: int = 1) -> str:
    """Format a fraction as percent, with ``± std`` when given; ``-`` when unknown."""
    if value is None:
        return "-"
    text = f"{100 * value:.{digits}f}"
    return text if std is None else f"{text} ± {100 * std:.{digits}f}"


def machine() -> dict[str, Any]:
    """Platform, CPU count and library versions of this machine."""
    import numpy
    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or
            platform.machine(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__}


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60] or "table"


def collect_figure(src: str | Path, out: str | Path, name: str) -> str | None:
    """Copy a PNG a run wrote into ``out/figures/<name>.png``; return its relative path.

    When ``src`` does not exist (a published grid folder keeps ``figures/`` but not the run
    folders), an earlier copy at the target is used as it is; with neither, returns None.
    """
    src = Path(src)
    target = Path(out) / "figures" / f"{name}.png"
    if not src.is_file():
        return f"figures/{name}.png" if target.is_file() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return f"figures/{name}.png"


def save_plot(fig: Any, out: str | Path, name: str) -> str:
    """Save a matplotlib figure as ``out/figures/<name>.png``; return its relative path."""
    save_figure(fig, Path(out) / "figures" / f"{name}.png", dpi=90)
    return f"figures/{name}.png"


class Report:
    """Markdown report under construction.

    Parameters
    ----------
    title : str
    experiment : str
        ``paper name`` as typed on the command line, e.g. ``"chen2019 exp1"``.
    scale : {"quick", "paper"}
    data : str
        What data the runs used (dataset, folds, scenes).
    settings : sequence of str
        The recipe and every reduction from the paper's settings, one line each.
    """

    def __init__(self, title: str, *, experiment: str, scale: str, data: str,
                 settings: Sequence[str]) -> None:
        m = machine()
        self.tables: dict[str, dict[str, Any]] = {}
        self.lines = [
            f"# {title}", "",
            f"- experiment: `spectranet experiment {experiment} --scale {scale}`",
            f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
            f"- machine: {m['platform']}, {m['processor']}, {m['cpu_count']} CPUs; Python "
            f"{m['python']}, torch {m['torch']}, numpy {m['numpy']}",
            f"- scale: `{scale}`",
            f"- data: {data}", "",
            "Settings" + (" (reductions from the paper's settings are stated)"
                          if scale == "quick" else "") + ":", "",
            *[f"- {s}" for s in settings], "",
        ]

    def add(self, *lines: str) -> None:
        """Append Markdown lines."""
        self.lines += list(lines)

    def section(self, title: str, *lines: str) -> None:
        """Append a ``##`` heading and optional lines."""
        self.lines += [f"## {title}", "", *lines]
        if lines:
            self.lines.append("")

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
              note: str | None = None) -> None:
        """Append a Markdown table (with a bold caption) and keep it for CSV/JSON export."""
        def cell(v: Any) -> str:
            return "-" if v is None else str(v).replace("|", "\\|")

        self.tables[title] = {"headers": list(headers), "rows": [list(r) for r in rows]}
        self.lines += [f"**{title}**", "", "| " + " | ".join(headers) + " |",
                       "|" + "---|" * len(headers)]
        self.lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
        self.lines.append("")
        if note:
            self.lines += [note, ""]

    def figure(self, caption: str, path: str | None) -> None:
        """Append an image link (relative path), or say the figure is missing."""
        self.lines += [f"![{caption}]({path})" if path else f"*{caption}: not available*", ""]

    def write(self, out: str | Path) -> Path:
        """Write ``report.md``, ``tables.json`` and ``tables/*.csv`` into ``out``."""
        out = Path(out)
        atomic_write_json(out / "tables.json", self.tables)
        for title, table in self.tables.items():
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(table["headers"])
            writer.writerows(table["rows"])
            atomic_write_text(out / "tables" / f"{_slug(title)}.csv", buf.getvalue())
        return atomic_write_text(out / "report.md", "\n".join(self.lines).rstrip() + "\n")


def status_section(report: Report, rows: Sequence[Mapping[str, Any]],
                   skipped: Sequence[tuple[str, str]] = ()) -> None:
    """Append the runs' status: counts, failed/pending runs with their errors, skipped data.

    Rows with a ``rendered_from`` key (see :func:`spectranet.experiments.grid.published_results`)
    add a line saying the report was rendered again from saved results.
    """
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    report.section("Runs", f"{len(rows)} runs: {summary}. Every run has its own folder "
                   "`runs/<name>/` (configuration, split, checkpoints, metrics, figures); all "
                   "numbers are also in `results.csv`, `results.json`, `tables.json` and "
                   "`tables/*.csv`.")
    if any(r.get("rendered_from") for r in rows):
        report.add("This report was rendered again from `results.json`, without training: the "
                   "run folders are not in this folder, so the date and machine above are the "
                   "rendering's, not the runs'.", "")
    reused = [r for r in rows if r.get("reused_from")]
    if reused:
        report.table("Runs reused from other experiments", ["run", "copied from"],
                     [[r["name"], f"`{_short_source(r['reused_from'])}`"] for r in reused],
                     note="Same domain and configuration as a finished run of another grid "
                          "(`--reuse`): copied, not retrained.")
    bad = [r for r in rows if r["status"] != "done"]
    if bad:
        report.table("Runs not finished", ["run", "status", "reason"],
                     [[r["name"], r["status"], r.get("error") or "not run yet"] for r in bad],
                     note="Rerun the same command to retry them; finished runs are kept.")
    if skipped:
        report.table("Skipped data", ["data", "reason"], [list(s) for s in skipped])


def _short_source(path: str) -> str:
    """``<grid folder name>/runs/<run>`` of a reused run's absolute source path."""
    parts = Path(path).parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else path

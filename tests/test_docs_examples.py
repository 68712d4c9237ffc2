"""The Python examples of the README's estimator section and of docs/estimators.md run.

The README's runs in CI; the doc's train sound models for minutes and run with ``-m slow``.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _run(blocks: list[str]) -> str:
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "<example>", "exec"), namespace)  # noqa: S102 - our own docs
    return out.getvalue()


def test_readme_estimator_example_runs(data_root, monkeypatch):
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## scikit-learn estimators"):text.index("## Exporting a model")]
    printed = _run(_python_blocks(section))
    assert printed.startswith("(40, 40) [")


@pytest.mark.slow  # four minutes: the sound examples train on a few hundred clips
@pytest.mark.parametrize("doc", ["docs/estimators.md"])
def test_doc_examples_run(doc, data_root, monkeypatch, tmp_path):
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks((ROOT / doc).read_text())
    assert len(blocks) >= 4
    printed = _run(blocks)
    assert "dog_bark" in printed and "(40, 40) (40, 40, 8)" in printed


def test_readme_sound_window_is_the_tested_one_of_docs_export():
    """The README's window function is word for word the one tests/test_export.py runs."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Exporting a model"):text.index("## Several GPUs")]
    (readme,) = _python_blocks(section)
    function = readme[readme.index("def sound_windows"):]
    assert function in (ROOT / "docs" / "export.md").read_text()

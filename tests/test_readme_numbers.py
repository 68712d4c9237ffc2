"""The README's results tables stay tied to the reports they link.

Every number of a results table's ``result`` column must appear in one of the files its row
links to (``report.md``, notes, ``.txt`` outputs), as printed or rounded from a longer figure
there (the README's 65.3 stands for a report's 65.34). An edited report or README that drifts
from the other fails here, and so does a row that links no file.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: A number as written in prose: optional sign, thousands commas, optional decimals; not part of
#: a word or a longer number ("Cov1", "bf16", "4.3.2").
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?!\w|\.\d)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
READABLE = {".md", ".txt", ".csv", ".json"}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def results_rows(text: str) -> list[tuple[str, str, list[str]]]:
    """(experiment cell, result cell, linked paths) of each row of the "Results" sections' tables.

    A table's result column is the one headed "result"; its links may sit in any cell.
    """
    rows = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        if not section.lower().startswith("results"):
            continue
        lines = section.splitlines()
        for i, line in enumerate(lines):
            if not (line.startswith("|") and i + 1 < len(lines)
                    and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip())):
                continue  # not a table header
            header = [h.lower() for h in _cells(line)]
            assert "result" in header, f"results table without a 'result' column: {line}"
            col = header.index("result")
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                cells = _cells(row)
                rows.append((cells[0], cells[col], LINK.findall(row)))
    return rows


def numbers(text: str) -> list[str]:
    """The numbers written in ``text``, as printed (sign and commas kept)."""
    return [m.group() for m in NUMBER.finditer(text)]


def _plain(token: str) -> str:
    return token.lstrip("+-").replace(",", "")


def linked_text(links: list[str], root: Path = ROOT) -> str:
    """The text of the linked files (a folder stands for its ``report.md``; anchors dropped)."""
    texts = []
    for link in links:
        if "://" in link:
            continue
        path = root / link.split("#", 1)[0]
        if path.is_dir():
            path = path / "report.md"
        assert path.is_file(), f"README links {link}, which is not a file"
        if path.suffix in READABLE:
            texts.append(path.read_text())
    return "\n".join(texts)


def missing_numbers(result: str, source: str) -> list[str]:
    """Numbers of ``result`` that ``source`` holds neither as printed nor to more decimals.

    A number with d decimals is found when a number of ``source`` rounds to it at d decimals.
    """
    found = [_plain(t) for t in numbers(source)]
    missing = []
    for token in numbers(result):
        plain = _plain(token)
        digits = len(plain.split(".")[1]) if "." in plain else 0
        if not any(f == plain or ("." in f and len(f.split(".")[1]) > digits
                                  and f"{float(f):.{digits}f}" == plain) for f in found):
            missing.append(token)
    return missing


ROWS = results_rows((ROOT / "README.md").read_text())


def test_the_readme_has_results_rows_with_links():
    assert len(ROWS) >= 10
    assert all(row[2] for row in ROWS), [row[0][:60] for row in ROWS if not row[2]]


@pytest.mark.parametrize("experiment, result, links", ROWS, ids=[r[0][:40] for r in ROWS])
def test_each_number_of_a_result_is_in_the_linked_files(experiment, result, links):
    assert links, f"row {experiment[:60]!r} links no report"
    assert numbers(result), f"row {experiment[:60]!r} has no number"
    missing = missing_numbers(result, linked_text(links))
    assert not missing, f"row {experiment[:60]!r}: {missing} not in {links}"


def test_numbers_match_as_printed_or_rounded():
    source = "OA 65.34 ± 2.47 %, 1446 clips, interval [-0.36, +1.34], 99.5 and 7"
    assert missing_numbers("65.3 ± 2.47, 1,446, [-0.36, +1.34], +7", source) == []
    # 65.34 rounds to 65.3, not 65.4; a shorter figure cannot stand for a longer one (99.5 is
    # not 99.55); 34 is not 65.34; 1.34 stands for 1.3 but not for 1.4
    assert missing_numbers("65.4 / 65.35 / 99.55 / 34 / 1.3 / 1.4", source) == [
        "65.4", "65.35", "99.55", "34", "1.4"]
    assert numbers("Cov1 + DilaCov1(2), bf16, 4.3.2, 11 x 11") == ["2", "11", "11"]


def test_a_drifted_readme_row_is_caught():
    experiment, result, links = next(r for r in ROWS if "69.48 ± 2.77" in r[1])
    source = linked_text(links)
    assert missing_numbers(result, source) == []
    assert missing_numbers(result.replace("69.48 ± 2.77", "69.58 ± 2.77"), source) == ["69.58"]


def test_results_rows_parse_a_table_and_refuse_one_without_result_column(tmp_path):
    (tmp_path / "r.md").write_text("OA 12.34 %")
    text = ("## Results here\n\n| experiment | result | report |\n|---|---|---|\n"
            "| a | OA 12.3 % | [report](r.md#top) |\n| b | 1 | - |\n\n## Other\n| x |\n|---|\n")
    rows = results_rows(text)
    assert rows == [("a", "OA 12.3 %", ["r.md#top"]), ("b", "1", [])]
    assert missing_numbers(rows[0][1], linked_text(rows[0][2], tmp_path)) == []
    with pytest.raises(AssertionError, match="not a file"):
        linked_text(["gone.md"], tmp_path)
    with pytest.raises(AssertionError, match="without a 'result' column"):
        results_rows("## Results\n\n| experiment | value |\n|---|---|\n| a | 1 |\n")

import pytest

from spectranet.cli import _expand_lists, main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("hsi", "audio", "experiment", "data"):
        assert command in out


@pytest.mark.parametrize(("args", "expected"), [
    (["--seeds", "0", "1", "2", "--out", "x"], ["--seeds", "0", "--seeds", "1", "--seeds", "2",
                                               "--out", "x"]),
    (["--folds", "1", "10", "--seeds", "3"], ["--folds", "1", "--folds", "10", "--seeds", "3"]),
    (["--window", "11", "--seeds", "0"], ["--window", "11", "--seeds", "0"]),
])
def test_list_options_accept_space_separated_values(args, expected):
    assert _expand_lists(args) == expected


def test_data_list_shows_registry(capsys, data_root, monkeypatch):
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "indian_pines" in out and "salinas_a" in out


def test_unknown_scene_is_one_line_error(capsys, tmp_path):
    code = main(["hsi", "train", "--scene", "atlantis", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "atlantis" in err and "indian_pines" in err and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_train_per_class_count_must_be_whole(capsys, tmp_path):
    code = main(["hsi", "train", "--scene", "indian_pines", "--train-per-class", "2.5",
                 "--out", str(tmp_path / "r")])
    assert code == 2 and "whole number" in capsys.readouterr().err


def test_data_dir_option_sets_the_data_root(capsys, data_root, monkeypatch):
    monkeypatch.delenv("SPECTRANET_DATA", raising=False)
    assert main(["--data-dir", str(data_root), "data", "verify", "indian_pines"]) == 0
    out = capsys.readouterr().out
    assert "Indian_pines_corrected.mat: ok" in out and "Indian_pines_gt.mat: ok" in out
    assert "PASS: indian_pines: 2 of 2 files match their sha256" in out


def test_data_verify_says_fail_with_exit_status_1(tmp_path, capsys):
    folder = tmp_path / "hsi" / "indian_pines"
    folder.mkdir(parents=True)
    (folder / "Indian_pines_gt.mat").write_bytes(b"not the file")
    assert main(["--data-dir", str(tmp_path), "data", "verify", "indian_pines"]) == 1
    captured = capsys.readouterr()
    assert "Indian_pines_gt.mat: mismatch" in captured.out
    assert "FAIL: indian_pines: 2 of 2 files missing or with another sha256" in captured.err
    main(["--data-dir", str(tmp_path), "data", "list"])
    assert f"data root: {tmp_path}" in capsys.readouterr().out


def test_python_dash_m_is_the_same_command(tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "spectranet", *args], capture_output=True,
                              text=True, timeout=120)

    helped = run("--help")
    assert helped.returncode == 0 and all(c in helped.stdout for c in ("hsi", "audio", "data"))
    failed = run("hsi", "train", "--scene", "nope", "--out", str(tmp_path / "r"))
    err = failed.stderr
    assert failed.returncode == 1 and err.startswith("error: ") and "nope" in err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_help_lists_experiments_models_and_preset_values(capsys):
    assert main(["experiment", "--help"]) == 0
    text = capsys.readouterr().out
    assert "chen2019 exp1" in text and "ahmad2020 table4" in text
    assert main(["hsi", "train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # help wraps lines
    assert ("--model [conv2d|fast3dcnn|fast3dcnn_stem|fast3dcnn_stem_pixel|hamida|he_multiscale|"
            "hybridsn]") in text
    assert ("--epochs INTEGER Training epochs (replaces a preset's --steps). [preset paper: 50, "
            "quick: 20, standard: 50]") in text
    assert "--steps INTEGER Optimisation steps instead of epochs" in text
    assert "auto: bf16 autocast where the CPU has native bfloat16" in text
    for command in (["hsi", "predict"], ["audio", "predict"]):
        assert main([*command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--device" in text and "--no-progress" in text


def test_every_imported_package_is_declared():
    """Third-party imports of the package are dependencies (or extras) in pyproject.toml."""
    import ast
    import re
    import sys
    import tomllib
    from importlib.metadata import packages_distributions
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=\[ ;]", d, maxsplit=1)[0].lower()
                for d in [*project["dependencies"],
                          *(d for extra in project["optional-dependencies"].values()
                            for d in extra)]}
    dists = packages_distributions()
    imported = set()
    for path in (root / "src" / "spectranet").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported
                   if m not in sys.stdlib_module_names and m not in ("spectranet", "__future__")}
    missing = {m for m in third_party
               if not {d.lower() for d in dists.get(m, [m])} & declared}
    assert third_party >= {"torch", "numpy", "threadpoolctl", "sklearn"}
    assert missing == set()

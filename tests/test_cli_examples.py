"""Every command's help has an example, and the examples run as printed, in a fresh folder.

The examples are read from the help text itself (the lines under "Example"), with
``$SPECTRANET_DATA`` expanded, and run in order (train before evaluate and predict) in an empty
working folder. ``spectranet experiment``'s example (an hour-long grid) is only parsed.
"""

import os
import shlex

import click

from spectranet.cli import cli, main

ORDER = ["data list", "data verify", "data download", "hsi train", "hsi evaluate",
         "hsi predict", "export", "audio features", "audio train", "audio evaluate",
         "audio predict"]
PARSED_ONLY = {"experiment"}


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found |= _commands(command, f"{path} ")
        else:
            found[path] = command
    return found


def _examples(command: click.Command) -> list[str]:
    """Command lines under the help's "Example" heading (continuation lines joined)."""
    lines = (command.help or "").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("Example")), None)
    if start is None:
        return []
    examples, current = [], ""
    for line in lines[start + 1:]:
        text = line.strip()
        if not text:
            break
        current += text[:-1].strip() + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            examples.append(current)
            current = ""
    return examples


COMMANDS = _commands(cli)


def test_every_command_has_an_example_of_itself():
    assert set(COMMANDS) == set(ORDER) | PARSED_ONLY
    for path, command in COMMANDS.items():
        examples = _examples(command)
        assert examples, f"`spectranet {path}` has no example in its help"
        assert all(e.startswith(f"spectranet {path} ") or e == f"spectranet {path}"
                   for e in examples), examples


def test_examples_are_shown_unwrapped_in_help():
    text = COMMANDS["hsi train"].get_help(click.Context(COMMANDS["hsi train"]))
    assert "\n    spectranet hsi train --scene indian_pines --preset quick --epochs 2" in text


def test_experiment_example_parses():
    for example in _examples(COMMANDS["experiment"]):
        args = shlex.split(example)[1:]
        ctx = cli.make_context("spectranet", list(args), resilient_parsing=False)
        sub = ctx.command.get_command(ctx, args[0])
        sub.make_context(args[0], args[1:], parent=ctx)  # raises on a bad option or value


def test_examples_run_as_printed(data_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    for path in ORDER:
        for example in _examples(COMMANDS[path]):
            argv = shlex.split(os.path.expandvars(example))[1:]
            code = main(argv)
            out, err = capsys.readouterr()
            assert code == 0, f"{example}\n{out}\n{err}"
            if path == "hsi train":
                assert "overall_accuracy: " in out and (tmp_path / "runs/ip/report.md").is_file()
            if path == "audio predict":  # a 4 s dog bark: several windows, so segments
                assert "101415-3-0-2.flac: " in out and "\n  segments: 0.0-" in out
    assert (tmp_path / "runs/ip_map/map.npy").is_file()
    assert (tmp_path / "runs/ip.onnx").is_file() and (tmp_path / "runs/ip.onnx.json").is_file()
    assert (tmp_path / "runs/us8k/metrics.json").is_file()

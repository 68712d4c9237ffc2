"""``spectranet experiment --backend ray`` refusals: one ``error:`` line, nothing written."""

import os
import subprocess
import sys

from spectranet.cli import main


def test_backend_ray_without_ray_names_the_install_command(tmp_path, data_root):
    # ray made unimportable in a fresh process, as on a base install
    code = ("import sys; sys.modules['ray'] = None; from spectranet.cli import main; "
            f"sys.exit(main(['experiment', 'ahmad2020', 'table3', '--backend', 'ray', "
            f"'--out', {str(tmp_path / 'g')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "SPECTRANET_DATA": str(data_root)})
    assert done.returncode == 1
    assert done.stderr == ("error: --backend ray needs Ray, which is not installed here; install "
                           "it with: pip install -c constraints.txt -e '.[ray]'\n")
    assert not (tmp_path / "g").exists()


def test_address_needs_backend_ray(tmp_path, capsys):
    assert main(["experiment", "ahmad2020", "table3", "--address", "head:6379",
                 "--out", str(tmp_path / "g")]) == 1
    assert capsys.readouterr().err == "error: --address needs --backend ray\n"
    assert not (tmp_path / "g").exists()


def test_jobs_with_backend_ray_is_refused(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    assert main(["experiment", "ahmad2020", "table3", "--backend", "ray", "--jobs", "2",
                 "--out", str(tmp_path / "g")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --jobs 2 applies to --backend local; ") and err.count("\n") == 1
    assert not (tmp_path / "g").exists()

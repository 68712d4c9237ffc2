import hashlib
from pathlib import Path

import pytest

from spectranet.datahome import data_home, download, sha256sum, verify_file
from spectranet.errors import ChecksumError, ConfigError, DataNotFoundError


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "server" / "file.bin"
    path.parent.mkdir()
    payload = bytes(range(256)) * 5000  # > 1 MiB: several chunks
    path.write_bytes(payload)
    return path, hashlib.sha256(payload).hexdigest()


def test_data_home_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECTRANET_DATA", str(tmp_path))
    assert data_home() == tmp_path
    assert data_home("~/elsewhere") == Path.home() / "elsewhere"  # an explicit root wins


def test_data_home_default_is_per_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SPECTRANET_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_home() == tmp_path / ".cache" / "spectranet"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "xdg" / "spectranet"


def test_sha256sum_matches_hashlib(source):
    path, digest = source
    assert sha256sum(path) == digest


def test_sha256sum_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope.bin"):
        sha256sum(tmp_path / "nope.bin")


def test_verify_file(source):
    path, digest = source
    assert verify_file(path, digest.upper()) == digest
    with pytest.raises(ChecksumError, match=rf"file\.bin.*expected {'0' * 64}, got {digest}"):
        verify_file(path, "0" * 64)
    with pytest.raises(ConfigError, match="64 hex digits"):
        verify_file(path, "abc")


def test_download_good_checksum(source, tmp_path):
    path, digest = source
    dest = tmp_path / "data" / "sub" / "file.bin"
    assert download(path.as_uri(), dest, sha256=digest, progress=False) == dest
    assert dest.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin"]  # no temp file left


def test_download_without_checksum(source, tmp_path):
    path, _ = source
    dest = download(path.as_uri(), tmp_path / "out.bin", progress=False)
    assert dest.read_bytes() == path.read_bytes()


def test_download_bad_checksum_leaves_nothing(source, tmp_path):
    path, digest = source
    dest = tmp_path / "data" / "file.bin"
    with pytest.raises(ChecksumError, match=rf"file\.bin.*expected {'f' * 64}, got {digest}"):
        download(path.as_uri(), dest, sha256="f" * 64, progress=False)
    assert list(dest.parent.iterdir()) == []


def test_download_bad_checksum_keeps_existing_file(source, tmp_path):
    path, _ = source
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"old")
    with pytest.raises(ChecksumError):
        download(path.as_uri(), dest, sha256="f" * 64, progress=False)
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_download_missing_source(tmp_path):
    dest = tmp_path / "x.bin"
    with pytest.raises(DataNotFoundError, match="cannot download"):
        download((tmp_path / "absent.bin").as_uri(), dest, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_validates_before_work(source, tmp_path):
    path, _ = source
    with pytest.raises(ConfigError, match="sha256 must be 64 hex digits"):
        download(path.as_uri(), tmp_path / "d" / "x.bin", sha256="xyz")
    with pytest.raises(ConfigError, match="timeout must be > 0"):
        download(path.as_uri(), tmp_path / "d" / "x.bin", timeout=0)
    assert not (tmp_path / "d").exists()

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from spectranet.data import download_dataset, list_datasets, verify_dataset
from spectranet.datahome import RemoteFile
from spectranet.errors import ChecksumError, ConfigError, DataNotFoundError
from spectranet.hsi import scenes


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Register 'indian_pines' with two small files served from a local file:// folder."""
    server = tmp_path / "server"
    server.mkdir()
    info = scenes.get_scene_info("indian_pines")
    files = []
    for remote, payload in zip(info.files, (b"cube bytes" * 100, b"gt bytes"), strict=True):
        (server / remote.filename).write_bytes(payload)
        url = (server / remote.filename).as_uri()
        files.append(RemoteFile(remote.filename, url, hashlib.sha256(payload).hexdigest()))
    _register(monkeypatch, cube=files[0], gt=files[1])
    return tmp_path / "root", server, files


def _register(monkeypatch, **changes):
    info = replace(scenes.get_scene_info("indian_pines"), **changes)
    monkeypatch.setitem(scenes._SCENES, "indian_pines", info)


def test_unknown_dataset():
    for func in (download_dataset, verify_dataset):
        with pytest.raises(ConfigError, match="unknown dataset 'nope'.*indian_pines"):
            func("nope")


def test_download_then_verify(served):
    root, server, files = served
    paths = download_dataset("indian_pines", root, progress=False)
    assert paths == [root / "hsi" / "indian_pines" / f.filename for f in files]
    for path in paths:
        assert path.read_bytes() == (server / path.name).read_bytes()
    assert verify_dataset("indian_pines", root) == {f.filename: "ok" for f in files}


def test_verified_files_are_used_not_fetched_again(served):
    root, server, _ = served
    first = download_dataset("indian_pines", root, progress=False)
    for path in server.iterdir():
        path.unlink()  # the "network" is gone: a second call must not need it
    assert download_dataset("indian_pines", root, progress=False) == first


def test_existing_mismatching_file_is_never_overwritten(served):
    root, _, files = served
    folder = root / "hsi" / "indian_pines"
    folder.mkdir(parents=True)
    (folder / files[1].filename).write_bytes(b"edited by the user")
    with pytest.raises(ChecksumError, match="Indian_pines_gt.mat: sha256 mismatch.*delete it"):
        download_dataset("indian_pines", root, progress=False)
    assert (folder / files[1].filename).read_bytes() == b"edited by the user"
    assert not (folder / files[0].filename).exists()  # checked everything before fetching


def test_bad_registered_checksum_leaves_nothing(served, monkeypatch):
    root, _, files = served
    _register(monkeypatch, gt=replace(files[1], sha256="0" * 64))
    with pytest.raises(ChecksumError, match="Indian_pines_gt.mat.*expected 0{64}"):
        download_dataset("indian_pines", root, progress=False)
    assert not (root / "hsi" / "indian_pines" / files[1].filename).exists()
    leftovers = [p.name for p in (root / "hsi" / "indian_pines").iterdir()]
    assert leftovers == [files[0].filename]  # the good file, no temporary file


def test_missing_file_without_download(served):
    root, _, _ = served
    with pytest.raises(DataNotFoundError, match="spectranet data download indian_pines"):
        download_dataset("indian_pines", root, allow_download=False)


def test_missing_file_without_url(served, monkeypatch):
    root, _, files = served
    _register(monkeypatch, cube=replace(files[0], url=None))
    with pytest.raises(DataNotFoundError, match="no public URL"):
        download_dataset("indian_pines", root, progress=False)


def test_no_network_says_where_to_put_the_file_by_hand(served, monkeypatch):
    root, _, files = served
    _register(monkeypatch, cube=replace(files[0], url="http://127.0.0.1:9/cube.mat"))
    with pytest.raises(DataNotFoundError) as err:
        download_dataset("indian_pines", root, progress=False)
    message = str(err.value)
    assert "without a network, download http://127.0.0.1:9/cube.mat elsewhere" in message
    assert f"place it at {root / 'hsi' / 'indian_pines' / files[0].filename}" in message
    assert f"(sha256 {files[0].sha256})" in message and "\n" not in message
    assert not (root / "hsi" / "indian_pines" / files[0].filename).exists()


def test_unverified_file_is_used_with_warning(served, monkeypatch):
    root, _, files = served
    download_dataset("indian_pines", root, progress=False)
    _register(monkeypatch, gt=replace(files[1], sha256=None))
    with pytest.warns(UserWarning, match="unverified"):
        download_dataset("indian_pines", root, progress=False)
    assert verify_dataset("indian_pines", root)[files[1].filename] == "unverified"


def test_verify_statuses(served):
    root, _, files = served
    assert set(verify_dataset("indian_pines", root).values()) == {"missing"}
    download_dataset("indian_pines", root, progress=False)
    (root / "hsi" / "indian_pines" / files[0].filename).write_bytes(b"corrupted")
    assert verify_dataset("indian_pines", root) == {
        files[0].filename: "mismatch",
        files[1].filename: "ok",
    }


def test_list_datasets(served):
    root, _, _ = served
    download_dataset("indian_pines", root, progress=False)
    rows = {row["name"]: row for row in list_datasets(root)}
    assert set(rows) == set(scenes.list_scenes()) | {"urbansound8k", "esc50", "esc10"}
    assert {row["domain"] for row in rows.values()} == {"hsi", "audio"}
    assert rows["urbansound8k"]["status"] == "missing"
    assert rows["indian_pines"]["verified"] is True
    assert rows["indian_pines"]["status"] == "verified"
    assert rows["salinas"]["present"] is False and rows["salinas"]["status"] == "missing"
    quick = {row["name"]: row for row in list_datasets(root, checksums=False)}
    assert quick["indian_pines"]["verified"] is None and quick["indian_pines"]["present"]


def test_real_data_verify(data_root: Path):
    assert verify_dataset("indian_pines", data_root) == {
        "Indian_pines_corrected.mat": "ok",
        "Indian_pines_gt.mat": "ok",
    }
    status = verify_dataset("pavia_university", data_root)
    assert status == {"PaviaU.mat": "missing", "PaviaU_gt.mat": "ok"}


def test_audio_archive_is_downloaded_checked_and_extracted(tmp_path, monkeypatch):
    import io
    import tarfile

    from spectranet.audio import registry as audio

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, payload in (("UrbanSound8K/metadata/UrbanSound8K.csv", b"slice_file_name\n"),
                              ("UrbanSound8K/audio/fold1/a.wav", b"RIFF")):
            member = tarfile.TarInfo(name)
            member.size = len(payload)
            tf.addfile(member, io.BytesIO(payload))
    archive = tmp_path / "server" / "UrbanSound8K.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(buf.getvalue())
    info = replace(audio.get_dataset_info("urbansound8k"), url=archive.as_uri(),
                   sha256=hashlib.sha256(buf.getvalue()).hexdigest())
    monkeypatch.setitem(audio._REGISTRY, "urbansound8k", info)
    root = tmp_path / "root"
    (paths,) = download_dataset("urbansound8k", root, progress=False)
    assert paths == root / "audio" / "UrbanSound8K" / "metadata" / "UrbanSound8K.csv"
    assert (root / "audio" / "UrbanSound8K" / "audio" / "fold1" / "a.wav").read_bytes() == b"RIFF"
    assert verify_dataset("urbansound8k", root) == {"UrbanSound8K.tar.gz": "ok"}
    (root / "audio" / "UrbanSound8K.tar.gz").unlink()  # the extracted copy still counts
    assert verify_dataset("urbansound8k", root) == {
        "UrbanSound8K/metadata/UrbanSound8K.csv": "extracted"}
    archive.unlink()  # no network needed any more
    assert download_dataset("urbansound8k", root, progress=False) == [paths]

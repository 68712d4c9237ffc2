import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.distributed

from spectranet.engine import distributed as dist
from spectranet.errors import ConfigError

# A tiny model on synthetic blobs, trained by `fit` exactly as a single-process script would;
# run under torchrun, each rank saves what it ended with.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import numpy as np
    import torch
    from torch import nn

    from spectranet.engine import distributed as dist
    from spectranet.engine.batches import ArrayBatches
    from spectranet.engine.training import fit, seed_everything
    from spectranet.engine.optim import make_optimizer

    out = Path(sys.argv[1])


    def Batches(x, y, batch_size=16, shuffle=True, seed=0):
        return ArrayBatches(x.numpy(), y.numpy(), np.arange(len(y)), batch_size=batch_size,
                            shuffle=shuffle, seed=seed)


    g = np.random.default_rng(0)
    y = g.integers(0, 3, 200)
    x = g.normal(size=(200, 4)).astype(np.float32) + 2.5 * np.eye(3, 4, dtype=np.float32)[y]
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    seed_everything(1)  # the same seed on every rank, as in a single-process script
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    seen = []
    model.register_forward_pre_hook(lambda m, a: seen.append(len(a[0])) if m.training else None)
    opt = make_optimizer(model.parameters(), name="adam", lr=0.01)
    res = fit(model, Batches(x, y), Batches(x[:50], y[:50], shuffle=False), optimizer=opt,
              epochs=3, checkpoint_path=out / "checkpoint.pt", progress=False)
    r = dist.rank()
    torch.save(model.state_dict(), out / f"weights_rank{r}.pt")
    (out / f"rank{r}.json").write_text(json.dumps(
        {"world": dist.world_size(), "history": res.history, "train_samples": sum(seen)}))
    """
)


def _run_torchrun(tmp_path, nproc=2):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
           "--standalone", str(script), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is not available",
)
def test_fit_under_torchrun_trains_one_model(tmp_path):
    out = _run_torchrun(tmp_path)
    w0 = torch.load(out / "weights_rank0.pt")
    w1 = torch.load(out / "weights_rank1.pt")
    assert w0.keys() == w1.keys()
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k
    # one checkpoint, written by rank 0 only (no stray temporary files)
    assert sorted(p.name for p in out.iterdir() if "rank" not in p.name) == [
        "checkpoint.pt", "checkpoint.pt.sha256"]
    ckpt = torch.load(out / "checkpoint.pt", weights_only=False)
    for k in w0:
        assert torch.equal(ckpt["model"][k], w0[k])
    r0, r1 = (json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    def no_time(history):
        return [{k: v for k, v in h.items() if k != "seconds"} for h in history]

    assert no_time(r0["history"]) == no_time(r1["history"])
    assert r0["history"][-1]["train_accuracy"] > 0.8
    # 200 samples in 13 batches of 16 (last one 8): each rank trains on its 7 batches per epoch
    assert r0["train_samples"] + r1["train_samples"] == 3 * (200 + 16)
    assert abs(r0["train_samples"] - r1["train_samples"]) <= 3 * 16


def test_not_distributed_defaults(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert dist.init_from_env() is False
    assert (dist.is_distributed(), dist.rank(), dist.world_size(), dist.is_main_process()) == (
        False, 0, 1, True)
    model = torch.nn.Linear(2, 2)
    assert dist.wrap_model(model) is model and dist.unwrap_model(model) is model
    assert dist.all_reduce_sums([1, 2.5]) == [1.0, 2.5]


def test_init_from_env_errors(monkeypatch):
    with pytest.raises(ConfigError, match="backend must be one of"):
        dist.init_from_env("mpi")
    monkeypatch.setenv("WORLD_SIZE", "2")
    for name in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="missing"):
        dist.init_from_env()


@pytest.mark.parametrize("n", [0, 1, 2, 5, 6, 7])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shard_batches_matches_shard(n, world):
    order = np.random.default_rng(n).permutation(n)
    parts = [dist.shard(order, r, world) for r in range(world)]
    if n:
        assert {len(p) for p in parts} == {-(-n // world)}
        assert set(np.concatenate(parts)) == set(order)
    for r in range(world):
        assert list(dist.shard_batches(iter(order.tolist()), r, world)) == parts[r].tolist()
        sharded = dist.ShardedBatches(order.tolist(), r, world)
        assert len(sharded) == len(parts[r]) == len(list(sharded))
        plain = dist.ShardedBatches(order.tolist(), r, world, pad=False)
        assert list(plain) == order[r::world].tolist() and len(plain) == len(order[r::world])


def test_shard_rejects_bad_rank():
    with pytest.raises(ConfigError, match="rank must be an integer in"):
        dist.shard([1, 2], 2, 2)
    with pytest.raises(ConfigError, match="world must be an integer >= 1"):
        dist.shard([1, 2], 0, 0)


@pytest.mark.parametrize("n_batches", [1, 2, 5, 6])
@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("pad", [True, False])
def test_sharded_loader_builds_only_its_batches_and_matches_filtering(n_batches, world, pad):
    from spectranet.engine.batches import ArrayBatches

    n = 4 * n_batches - 1
    x = np.arange(n, dtype=np.float32)[:, None]
    built = []

    def transform(xb, rng):
        built.append(xb[0, 0])
        return xb

    loader = ArrayBatches(x, np.zeros(n), np.arange(n), batch_size=4, shuffle=True, seed=3,
                          transform=transform)
    everything = [b["id"].tolist() for b in loader]
    for r in range(world):
        built.clear()
        mine = [b["id"].tolist() for b in dist.ShardedBatches(loader, r, world, pad=pad)]
        filtered = list(dist.ShardedBatches(everything, r, world, pad=pad))  # plain list
        assert mine == filtered
        assert len(built) == len(mine)  # no batch built for the other ranks


def test_check_device_refuses_unknown_names():
    from spectranet.engine.distributed import check_device

    assert check_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="device must be 'cpu', 'cuda' or 'cuda:<index>', "
                                          "got 'gpu'"):
        check_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_check_device_refuses_cuda_without_a_gpu():
    from spectranet.engine.distributed import check_device

    with pytest.raises(ConfigError, match="'cuda' is not available: torch .* sees no CUDA GPU"):
        check_device("cuda")

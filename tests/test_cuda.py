"""The CUDA path of training and inference (``pytest -m cuda``, run by benchmarks/gpu_check.py).

Every test runs on ``"cpu"`` everywhere (so CI executes the very code the GPU check runs) and on
``"cuda"`` where a GPU is present, marked ``cuda``: a few bf16 steps with channels-last, a
checkpointed fit interrupted and resumed, and a map of a real Indian Pines crop predicted on the
device equal to the CPU's.
"""

import numpy as np
import pytest
import scipy.io
import torch

from spectranet.audio.models import from_spec
from spectranet.engine.batches import ArrayBatches
from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.optim import make_optimizer
from spectranet.engine.training import fit, seed_everything, train_one_epoch

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none")])
DEVICES = ["cpu", CUDA]
SOUND_SPEC = "Cov1 + Cov2 + Cov3 + DilaCov1(2)"


def _windows(n=64, seed=0):
    g = np.random.default_rng(seed)
    y = g.integers(0, 10, n)
    x = g.normal(size=(n, 2, 64, 41)).astype(np.float32)
    x[np.arange(n), 0, y * 6, :] += 3.0  # a class-dependent band, so that the model can learn
    return x, y


def _sound_model(device):
    seed_everything(0)
    return from_spec(SOUND_SPEC, 10, filters=[8, 8, 16, 16], batch_norm=True).to(device)


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_channels_last_steps_train_on_the_device(device):
    x, y = _windows()
    model = _sound_model(device)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = make_optimizer(model.parameters(), name="adam", lr=1e-3)
    batches = ArrayBatches(x, y, np.arange(len(y)), batch_size=16, shuffle=True, seed=0)
    loss, accuracy = train_one_epoch(model, batches, optimizer, device=device, precision="bf16",
                                     memory_format="channels_last")
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    assert all(p.device.type == device for p in model.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize("device", DEVICES)
def test_a_fit_interrupted_on_the_device_resumes_from_its_checkpoint(device, tmp_path):
    x, y = _windows()
    val = ArrayBatches(x[:32], y[:32], np.arange(32), batch_size=32, shuffle=False, seed=0)

    class Interrupted(ArrayBatches):
        def __iter__(self):
            if self.epoch == 2:  # the third epoch: as if the process were stopped here
                raise KeyboardInterrupt
            return super().__iter__()

    def run(path, loader=ArrayBatches):
        model = _sound_model(device)
        optimizer = make_optimizer(model.parameters(), name="sgd", lr=0.01, momentum=0.9)
        batches = loader(x, y, np.arange(len(y)), batch_size=16, shuffle=True, seed=0)
        result = fit(model, batches, val, optimizer=optimizer, epochs=3, device=device,
                     checkpoint_path=path, progress=False)
        return model, result

    full_model, full = run(tmp_path / "full.pt")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut.pt", Interrupted)
    assert "resume" in load_checkpoint(tmp_path / "cut.pt")
    resumed_model, resumed = run(tmp_path / "cut.pt")
    assert len(resumed.history) == 3
    assert [h["train_loss"] for h in resumed.history] == pytest.approx(
        [h["train_loss"] for h in full.history], rel=1e-4)
    for (name, a), b in zip(full_model.state_dict().items(),
                            resumed_model.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-5), name


@pytest.fixture(scope="module")
def ip_crop_run(data_root, tmp_path_factory):
    """A 1-epoch CPU run on a real 40 x 40 crop of Indian Pines, and the crop's cube file."""
    from spectranet.config import make_config
    from spectranet.hsi import pipeline

    folder = tmp_path_factory.mktemp("ip_crop")
    scene = data_root / "hsi" / "indian_pines"
    cube = scipy.io.loadmat(scene / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = scipy.io.loadmat(scene / "Indian_pines_gt.mat")["indian_pines_gt"]
    np.save(folder / "cube.npy", cube[30:70, 30:70].astype(np.float32))
    np.save(folder / "gt.npy", gt[30:70, 30:70].astype(np.int64))
    config = make_config("hsi", "quick", cube=str(folder / "cube.npy"),
                         gt=str(folder / "gt.npy"), epochs=1, window=9, seeds=[0])
    pipeline.train(config, folder / "run", progress=False)
    return folder


@pytest.mark.parametrize("device", DEVICES)
def test_a_map_predicted_on_the_device_equals_the_cpu_map(device, ip_crop_run, tmp_path):
    from spectranet.hsi.inference import predict

    cube = ip_crop_run / "cube.npy"
    predict(ip_crop_run / "run", cube, out=tmp_path / "cpu", device="cpu", progress=False)
    predict(ip_crop_run / "run", cube, out=tmp_path / f"on_{device}", device=device, progress=False)
    on_cpu = np.load(tmp_path / "cpu" / "map_index.npy")
    on_device = np.load(tmp_path / f"on_{device}" / "map_index.npy")
    assert on_cpu.shape == (40, 40)
    # kernels differ between devices: a pixel whose two best classes tie may flip
    assert np.mean(on_cpu == on_device) >= 0.995


@pytest.mark.parametrize("device", DEVICES)
def test_the_checkpointed_random_state_covers_the_device(device):
    from spectranet.engine.checkpoints import rng_state, set_rng_state

    seed_everything(0)
    torch.rand(3, device=device)  # the device's generator in use, as dropout uses it
    state = rng_state()
    assert ("cuda" in state) == (device == "cuda")
    first = torch.rand(5, device=device)
    set_rng_state(state)
    assert torch.equal(torch.rand(5, device=device), first)
    # a state saved on a GPU machine loads on a CPU-only one (its GPU part is not used there)
    set_rng_state(state | {"cuda": [torch.zeros(16, dtype=torch.uint8)]}
                  if device == "cpu" else state)

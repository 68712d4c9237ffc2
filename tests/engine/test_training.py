import hashlib

import numpy as np
import pytest
import torch
from torch import nn

from spectranet.engine.batches import ArrayBatches
from spectranet.engine.checkpoints import load_best_checkpoint, load_checkpoint
from spectranet.engine.optim import make_loss, make_optimizer, make_scheduler
from spectranet.engine.scoring import predict_proba
from spectranet.engine.training import fit, seed_everything, train_one_epoch
from spectranet.errors import ConfigError


class Batches(ArrayBatches):
    """The engine's seeded, per-epoch shuffled batches over the synthetic blobs."""

    def __init__(self, x, y, batch_size=16, shuffle=True, seed=0):
        super().__init__(x.numpy(), y.numpy(), np.arange(len(y)), batch_size=batch_size,
                         shuffle=shuffle, seed=seed)


def blobs(n=200, seed=0):
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    x = g.normal(size=(n, 4)).astype(np.float32) + 2.5 * np.eye(3, 4, dtype=np.float32)[y]
    return torch.as_tensor(x), torch.as_tensor(y)


def model_and_opt(seed=0):
    seed_everything(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    return model, make_optimizer(model.parameters(), name="adam", lr=0.01)


def test_fit_learns_and_keeps_best_epoch(tmp_path):
    x, y = blobs()
    model, opt = model_and_opt()
    res = fit(model, Batches(x, y), Batches(x[:50], y[:50], shuffle=False), optimizer=opt,
              epochs=6, checkpoint_path=tmp_path / "c.pt", progress=False, metadata={"k": 3})
    assert len(res.history) == 6
    assert res.history[-1]["train_accuracy"] > 0.8
    best = max(h["val_accuracy"] for h in res.history)
    assert res.best_val_accuracy == best
    assert res.history[res.best_epoch - 1]["val_accuracy"] == best
    ckpt = load_checkpoint(tmp_path / "c.pt")
    assert "resume" not in ckpt and ckpt["metadata"] == {"k": 3}
    for k, v in model.state_dict().items():
        assert torch.equal(v, ckpt["model"][k])


def test_best_not_last_weights_are_returned():
    x, y = blobs()
    model, _ = model_and_opt()
    # a learning rate that makes training diverge after the first epochs
    opt = make_optimizer(model.parameters(), name="sgd", lr=0.5, momentum=0.9)
    val = Batches(x[:50], y[:50], shuffle=False)
    res = fit(model, Batches(x, y), val, optimizer=opt, epochs=8, progress=False)
    from spectranet.engine.scoring import evaluate

    _, acc = evaluate(model, val)
    assert acc == pytest.approx(res.best_val_accuracy)


@pytest.mark.parametrize("validation", [True, False])
def test_resume_equals_uninterrupted(tmp_path, validation):
    x, y = blobs()
    val = Batches(x[:50], y[:50], shuffle=False) if validation else None
    model_a, opt_a = model_and_opt()
    full = fit(model_a, Batches(x, y), val, optimizer=opt_a, epochs=4, progress=False)
    assert [h["val_accuracy"] is None for h in full.history] == [not validation] * 4
    assert validation or full.best_epoch == 4  # without validation the last epoch is kept

    path2 = tmp_path / "d.pt"
    model_d, opt_d = model_and_opt()

    class Interrupt(Batches):
        def __iter__(self):
            if self.epoch == 2:
                raise KeyboardInterrupt
            return super().__iter__()

    with pytest.raises(KeyboardInterrupt):
        fit(model_d, Interrupt(x, y), val, optimizer=opt_d, epochs=4, progress=False,
            checkpoint_path=path2)
    assert "resume" in load_checkpoint(path2)
    model_e, opt_e = model_and_opt(seed=99)  # different init: must be overwritten by the resume
    resumed = fit(model_e, Batches(x, y), val, optimizer=opt_e, epochs=4, progress=False,
                  checkpoint_path=path2)
    assert [h["train_loss"] for h in resumed.history] == pytest.approx(
        [h["train_loss"] for h in full.history], rel=1e-6)
    for k, v in model_a.state_dict().items():
        assert torch.allclose(v, model_e.state_dict()[k])


def test_same_seed_same_numbers():
    x, y = blobs()
    val = Batches(x[:50], y[:50], shuffle=False)
    runs = []
    for _ in range(2):
        model, opt = model_and_opt(seed=7)
        runs.append(fit(model, Batches(x, y), val, optimizer=opt, epochs=2, progress=False))
    assert [h["train_loss"] for h in runs[0].history] == [h["train_loss"] for h in runs[1].history]


def test_bf16_runs_and_predict_proba():
    x, y = blobs()
    model, opt = model_and_opt()
    fit(model, Batches(x, y), Batches(x, y, shuffle=False), optimizer=opt, epochs=2,
        precision="bf16", progress=False)
    probs, ids = predict_proba(model, Batches(x, y, shuffle=False), precision="bf16")
    assert probs.shape == (200, 3) and probs.dtype == np.float32
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    assert ids.tolist() == list(range(200))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "rmsprop"}, "optimizer must be one of"),
    ({"lr": 0}, "learning rate"),
    ({"name": "sgd", "nesterov": True}, "nesterov"),
])
def test_optimizer_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_optimizer(nn.Linear(2, 2).parameters(), **kwargs)


def test_fit_rejects_bad_epochs_and_precision():
    model, opt = model_and_opt()
    x, y = blobs(20)
    with pytest.raises(ConfigError, match="epochs"):
        fit(model, Batches(x, y), Batches(x, y), optimizer=opt, epochs=0)
    with pytest.raises(ConfigError, match="precision"):
        fit(model, Batches(x, y), Batches(x, y), optimizer=opt, epochs=1, precision="fp16")


def test_nan_loss_stops_training_with_a_clear_error():
    from spectranet.engine.training import DivergedError

    x, y = blobs(40)
    x[3] = float("nan")
    model, opt = model_and_opt()
    with pytest.raises(DivergedError, match="training loss became nan"):
        fit(model, Batches(x, y), Batches(x, y, shuffle=False), optimizer=opt, epochs=1,
            progress=False)


def test_balanced_loss_weights_match_sklearn_and_a_hand_count():
    labels = np.array([0, 0, 0, 1])  # class 2 absent from training
    loss = make_loss("balanced", labels, n_classes=3)
    # n / (classes present * count): 4 / (2 * 3) and 4 / (2 * 1); absent class 0
    np.testing.assert_allclose(loss.weight.numpy(), [2 / 3, 2.0, 0.0], rtol=1e-6)
    assert make_loss("none").weight is None
    with pytest.raises(ConfigError, match="class_weight must be one of"):
        make_loss("inverse")
    with pytest.raises(ConfigError, match="needs the training labels"):
        make_loss("balanced")
    with pytest.raises(ConfigError, match=r"in \[0, 3\)"):
        make_loss("balanced", np.array([0, 3]), n_classes=3)


def test_fit_trains_with_the_given_loss():
    x, y = blobs()
    calls = []

    class Spy(nn.CrossEntropyLoss):
        def forward(self, logits, target):
            calls.append(len(target))
            return super().forward(logits, target)

    model, opt = model_and_opt()
    fit(model, Batches(x, y), Batches(x[:50], y[:50], shuffle=False), optimizer=opt, epochs=2,
        progress=False, loss_fn=Spy())
    assert sum(calls) == 2 * len(y)  # every training sample, both epochs; validation not
    # a rare, overlapping class: the balanced loss predicts it for more of its samples
    g = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], [300, 300, 30])
    x = (g.normal(size=(len(y), 4)) + 1.2 * np.eye(3, 4)[y]).astype(np.float32)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    recall = {}
    for mode in ("none", "balanced"):
        model, opt = model_and_opt()
        fit(model, Batches(x, y), Batches(x, y, shuffle=False), optimizer=opt, epochs=5,
            progress=False, loss_fn=make_loss(mode, y.numpy(), 3))
        probs, _ = predict_proba(model, Batches(x, y, shuffle=False))
        recall[mode] = (probs.argmax(1)[y.numpy() == 2] == 2).mean()
    assert recall["balanced"] > recall["none"] + 0.2, recall


def test_load_best_checkpoint_picks_the_highest_validation_accuracy(tmp_path):
    from spectranet.engine.checkpoints import save_checkpoint

    paths = []
    for i, acc in enumerate([0.5, 0.9, 0.9, 0.7]):
        paths.append(tmp_path / f"{i}.pt")
        save_checkpoint({"best_val_accuracy": acc, "tag": i}, paths[-1])
    path, state = load_best_checkpoint(paths)
    assert state["tag"] == 1 and path == paths[1]  # first of the tie
    with pytest.raises(ConfigError, match="no checkpoint"):
        load_best_checkpoint([])


def test_mixup_is_seeded_changes_training_and_is_validated():
    x, y = blobs()
    val = Batches(x[:50], y[:50], shuffle=False)
    losses = {}
    for mixup in (0.0, 0.4, 0.4):
        model, opt = model_and_opt(seed=3)
        res = fit(model, Batches(x, y), val, optimizer=opt, epochs=3, progress=False,
                  mixup=mixup)
        losses.setdefault(mixup, []).append([h["train_loss"] for h in res.history])
    assert losses[0.4][0] == losses[0.4][1]  # same seed, same mixing draws
    assert losses[0.4][0] != losses[0.0][0]
    assert losses[0.4][0][-1] > losses[0.0][0][-1]  # mixed targets are harder to fit
    model, opt = model_and_opt()
    with pytest.raises(ConfigError, match="mixup must be a number >= 0, got -1"):
        fit(model, Batches(x, y), val, optimizer=opt, epochs=1, progress=False, mixup=-1)


def test_mixup_loss_is_the_weighted_loss_of_both_labels(monkeypatch):
    x, y = blobs(n=8)
    model, opt = model_and_opt()
    model.eval()  # no dropout: the loss is a function of the weights only
    batch = {"x": x, "y": y, "id": torch.arange(8)}
    torch.manual_seed(11)
    lam = float(torch.distributions.Beta(0.5, 0.5).sample())
    perm = torch.randperm(8)
    with torch.no_grad():
        logits = model(lam * x + (1 - lam) * x[perm])
        ce = nn.CrossEntropyLoss()
        expected = float(lam * ce(logits, y) + (1 - lam) * ce(logits, y[perm]))
    monkeypatch.setattr(nn.Module, "train", lambda self, mode=True: self)  # keep eval mode
    torch.manual_seed(11)
    sgd = make_optimizer(model.parameters(), name="sgd", lr=1e-12)
    loss, _ = train_one_epoch(model, [batch], sgd, mixup=0.5)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_loss_by_hand():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    logp = torch.log_softmax(logits, 1)[0]
    target = torch.tensor([0])
    expected = -(0.9 * logp[0] + 0.1 / 3 * logp.sum())  # 0.1 spread over the 3 classes
    assert float(make_loss(label_smoothing=0.1)(logits, target)) == pytest.approx(float(expected))
    with pytest.raises(ConfigError, match="label_smoothing must be in"):
        make_loss(label_smoothing=1.0)


def test_onecycle_schedule_per_epoch():
    model, opt = model_and_opt()
    for group in opt.param_groups:
        group["lr"] = 0.003
    sched = make_scheduler(opt, name="onecycle", epochs=10)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(9):
        opt.step()
        sched.step()
        rates.append(opt.param_groups[0]["lr"])
    assert rates[0] == pytest.approx(0.003 / 25)  # warm-up starts at peak / 25
    assert rates[1] == pytest.approx((0.003 / 25 + 0.003) / 2)  # cosine warm-up, half way
    assert rates[2] == pytest.approx(0.003) == max(rates)  # peak after 30 % of 10 epochs
    assert rates[-1] < rates[0] and all(np.diff(rates[2:]) < 0)


def test_progress_to_a_file_is_one_line_per_epoch(tmp_path, capsys):
    x, y = blobs()
    model, opt = model_and_opt()
    fit(model, Batches(x, y), Batches(x[:50], y[:50], shuffle=False), optimizer=opt, epochs=2,
        progress=True, desc="round", checkpoint_path=tmp_path / "c.pt")
    err = capsys.readouterr().err.splitlines()  # captured: not a terminal
    assert [line.split(" loss ")[0] for line in err] == ["round: epoch 1/2", "round: epoch 2/2"]
    assert all(" val_acc 0." in line for line in err)


def test_checkpoints_are_plain_data_with_a_checked_sum(tmp_path):
    import pickle

    from spectranet.engine.checkpoints import load_checkpoint, save_checkpoint, sum_path
    from spectranet.errors import ConfigError, DataError

    x, y = blobs()
    model, opt = model_and_opt()
    path = tmp_path / "c.pt"
    fit(model, Batches(x, y), Batches(x[:50], y[:50], shuffle=False), optimizer=opt, epochs=2,
        checkpoint_path=path, progress=False, metadata={"names": ["a", "b", "c"]})
    state = load_checkpoint(path)
    assert state["metadata"] == {"names": ["a", "b", "c"]}
    recorded = sum_path(path).read_text().split()
    assert recorded == [hashlib.sha256(path.read_bytes()).hexdigest()]
    # a flipped byte: the recorded sum no longer matches
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"c.pt: sha256 differs from the one recorded"):
        load_checkpoint(path)
    # truncated or empty files: one-line errors
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty checkpoint"):
        load_checkpoint(path)
    # anything but plain data is refused when writing, and never executed when reading
    with pytest.raises(ConfigError, match="tensors and plain data only"):
        save_checkpoint({"array": np.zeros(3)}, tmp_path / "n.pt")

    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    crafted = tmp_path / "crafted.pt"
    crafted.write_bytes(pickle.dumps({"model": Payload()}))
    sum_path(crafted).write_text(hashlib.sha256(crafted.read_bytes()).hexdigest())
    with pytest.raises(DataError, match="refused, it holds objects other than tensors"):
        load_checkpoint(crafted)


def test_interrupted_checkpoint_write_still_verifies(tmp_path):
    """The sum file lists the new and the current sum until the new file is in place."""
    from spectranet.engine.checkpoints import load_checkpoint, save_checkpoint, sum_path

    path = tmp_path / "c.pt"
    save_checkpoint({"epoch": 1}, path)
    old = path.read_bytes()
    save_checkpoint({"epoch": 2}, path)
    new_sum = sum_path(path).read_text().split()[0]
    # the state after the sum file was written but before the new checkpoint moved in
    path.write_bytes(old)
    sum_path(path).write_text(f"{new_sum}\n{hashlib.sha256(old).hexdigest()}\n")
    assert load_checkpoint(path) == {"epoch": 1}


def test_log_gets_every_epoch_and_the_resumption(tmp_path):
    x, y = blobs()
    model, opt = model_and_opt()
    lines = []
    fit(model, Batches(x, y), None, optimizer=opt, epochs=2, progress=False, desc="seed 0",
        checkpoint_path=tmp_path / "c.pt", log=lines.append)
    assert [m.split(" loss ")[0] for m in lines] == ["seed 0: epoch 1/2", "seed 0: epoch 2/2"]


def test_keep_last_returns_the_last_epochs_weights_and_still_scores_validation():
    x, y = blobs()
    val = Batches(x[:50], y[:50], shuffle=False)
    model, _ = model_and_opt()
    # training that diverges after the first epochs: best and last differ
    opt = make_optimizer(model.parameters(), name="sgd", lr=0.5, momentum=0.9)
    res = fit(model, Batches(x, y), val, optimizer=opt, epochs=8, progress=False, keep="last")
    from spectranet.engine.scoring import evaluate

    _, acc = evaluate(model, val)
    assert res.best_epoch == 8
    assert acc == pytest.approx(res.history[-1]["val_accuracy"]) == res.best_val_accuracy
    assert all(h["val_accuracy"] is not None for h in res.history)
    assert max(h["val_accuracy"] for h in res.history) > res.history[-1]["val_accuracy"]
    with pytest.raises(ConfigError, match="keep must be one of"):
        fit(model, Batches(x, y), val, optimizer=opt, epochs=1, progress=False, keep="first")

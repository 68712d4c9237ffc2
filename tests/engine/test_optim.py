"""The engine's schedule rule: optimisation steps turned into epochs."""

import pytest

from spectranet.engine.optim import schedule_text, training_epochs
from spectranet.errors import ConfigError


@pytest.mark.parametrize(("steps", "batches", "epochs"), [
    (1050, 21, 50),   # the full split: exactly the epochs the recipe was tuned with
    (1050, 5, 210),   # a fifth of the batches: five times the epochs
    (1050, 4, 263),   # 1050 / 4 = 262.5: rounded up, at least the steps
    (5, 8, 1),        # fewer steps than one epoch's batches: one epoch
])
def test_steps_become_the_epochs_that_reach_them(steps, batches, epochs):
    assert training_epochs(50, steps, batches) == epochs
    assert steps <= epochs * batches < steps + batches


def test_without_steps_the_epochs_stand():
    assert training_epochs(50, None, 3) == 50


@pytest.mark.parametrize(("steps", "batches", "message"), [
    (0, 4, "steps must be an integer >= 1, got 0"),
    (2.5, 4, "steps must be an integer >= 1, got 2.5"),
    (True, 4, "steps must be an integer >= 1, got True"),
    (10, 0, "batches_per_epoch must be an integer >= 1, got 0"),
])
def test_bad_steps_are_refused(steps, batches, message):
    with pytest.raises(ConfigError, match=message):
        training_epochs(50, steps, batches)


def test_schedule_text():
    assert schedule_text(50, None, [50]) == "50 epochs"
    assert schedule_text(50, 1050, [210, 263]) == "1050 optimisation steps (210-263 epochs)"
    assert schedule_text(50, 1050, [50, 50]) == "1050 optimisation steps (50 epochs)"

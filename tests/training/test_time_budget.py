"""A training time budget: the epochs planned from the pace so far, and a run that keeps to them."""

import re

import pytest

from fusion_tf.training import time_budget
from fusion_tf.training.time_budget import epochs_within_budget, seconds_per_epoch
from fusion_tf.training.trainer import Trainer


@pytest.mark.parametrize(
    ("elapsed", "seconds_per_epoch", "epochs_done", "max_epochs", "epochs"),
    [
        (200.0, 180.0, 1, 21, 18),  # 3,100 s of 3,300 left hold 17 more epochs of 180 s
        (200.0, 180.0, 1, 10, 10),  # the configured count stays the upper bound
        (300.0, 100.0, 3, 21, 21),  # 30 more epochs fit: capped too
        (3200.0, 180.0, 1, 21, 1),  # 100 s left: no more epoch ends in time
        (4000.0, 180.0, 2, 21, 2),  # over budget already: what is trained stays
    ],
)
def test_epochs_within_a_budget_of_55_minutes(
    elapsed, seconds_per_epoch, epochs_done, max_epochs, epochs
):
    assert epochs_within_budget(3300.0, elapsed, seconds_per_epoch, epochs_done, max_epochs) == (
        epochs
    )


@pytest.mark.parametrize(
    ("planned_epochs", "epochs"),
    [
        # 3,100 s left hold 17 more epochs of 180 s (18 in all), 3,034 s (2% kept) only 16.
        (17, 17),  # the whole budget holds one more, the budget less its margin does not
        (16, 17),  # the budget less its margin holds one more: it is added
        (19, 18),  # one past the budget is given up at once, with no margin
        (18, 18),
    ],
)
def test_a_re_plan_adds_an_epoch_only_with_time_to_spare(planned_epochs, epochs):
    assert time_budget.ADD_MARGIN == 0.02
    assert epochs_within_budget(3300.0, 200.0, 180.0, 1, 21, planned_epochs) == epochs


def test_epochs_within_budget_needs_a_pace():
    with pytest.raises(ValueError, match="seconds_per_epoch=0"):
        epochs_within_budget(60.0, 1.0, 0.0, 1, 3)


def test_an_epoch_costs_its_steps_at_their_mean_pace_and_a_mean_epoch_end():
    # 99 steps in 198 s and two epoch ends in 30 s: 100 steps at 2 s, and 15 s.
    assert seconds_per_epoch(198.0, 99, 100, 30.0, 2) == pytest.approx(215.0)


@pytest.mark.parametrize(("timed_steps", "epoch_ends"), [(0, 1), (5, 0)])
def test_the_pace_needs_a_step_and_an_epoch_end(timed_steps, epoch_ends):
    with pytest.raises(ValueError, match=f"timed_steps={timed_steps}, epoch_ends={epoch_ends}"):
        seconds_per_epoch(10.0, timed_steps, 5, 1.0, epoch_ends)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"time_budget_minutes": -1.0}, "--time_budget_minutes=-1.0 must not be negative"),
        (
            {"learning_rate_schedule": "cosine", "warmup_epochs": 0.5},
            "needs --warmup_epochs >= 1, not 0.5",
        ),
        ({"strategy": "multi_worker"}, "--time_budget_minutes works with one worker only"),
    ],
)
def test_budget_settings_are_checked(tiny_config, tmp_path, overrides, problem):
    config = tiny_config(tmp_path, **{"time_budget_minutes": 30.0, **overrides})
    with pytest.raises(ValueError, match=re.escape(problem)):
        config.validate()


@pytest.mark.slow
def test_a_budget_already_spent_stops_after_the_first_epoch(tiny_config, tmp_path):
    trainer = Trainer(tiny_config(tmp_path, epochs=3, time_budget_minutes=1e-6))
    history = trainer.train()
    assert [entry["step"] for entry in history] == [2]
    assert int(trainer.step.numpy()) == int(trainer.planned_steps.numpy()) == 2


@pytest.mark.slow
def test_the_plan_sets_the_decay_and_a_resumed_run_keeps_it(tiny_config, tmp_path, monkeypatch):
    calls = []

    def plan_two_epochs(
        budget_seconds, elapsed, seconds_per_epoch, epochs_done, max_epochs, planned_epochs
    ):
        calls.append(
            (budget_seconds, seconds_per_epoch > 0, epochs_done, max_epochs, planned_epochs)
        )
        return 2

    monkeypatch.setattr(time_budget, "epochs_within_budget", plan_two_epochs)
    budgeted = dict(
        time_budget_minutes=30.0, learning_rate_schedule="cosine", warmup_epochs=1, epochs=4
    )
    first = Trainer(tiny_config(tmp_path, **budgeted))
    assert first.learning_rate(6) > 0  # 4 epochs of 2 steps until the plan
    history = first.train()
    # Planned at each epoch's end, the planned last included (a faster pace may add one).
    assert calls == [(1800.0, True, 1, 4, None), (1800.0, True, 2, 4, 2)]
    assert [entry["step"] for entry in history] == [2, 4]
    assert first.total_steps == int(first.planned_steps.numpy()) == 4
    assert float(first.learning_rate(4)) == pytest.approx(0.0, abs=1e-9)  # the decay ends there
    assert float(first.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # and it trains
    # Half-way down its cosine at step 3, one step after the 2-step warm-up.
    assert float(first.learning_rate(3)) == pytest.approx(first.config.learning_rate / 2)

    # Resumed with more epochs asked, the run keeps the plan its checkpoint holds.
    resumed = Trainer(tiny_config(tmp_path, **{**budgeted, "epochs": 6}))
    history = resumed.train()
    assert int(resumed.step.numpy()) == 4 and [entry["step"] for entry in history] == [2, 4]
    assert len(calls) == 2

    # Without a budget the configured epochs rule again.
    unbudgeted = Trainer(
        tiny_config(tmp_path, **{**budgeted, "epochs": 3, "time_budget_minutes": 0})
    )
    unbudgeted.train()
    assert int(unbudgeted.step.numpy()) == 6


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "later", "steps"),
    [
        (2, 3, 6),  # a host turned faster gains an epoch
        (2, 2, 4),  # the plan holds: never re-planned
        (3, 2, 4),  # a host turned slower gives one up rather than run over
    ],
)
def test_a_new_pace_moves_the_plan_and_the_decay_with_it(
    tiny_config, tmp_path, monkeypatch, caplog, first, later, steps
):
    plans_in_force = []

    def planner(
        budget_seconds, elapsed, seconds_per_epoch, epochs_done, max_epochs, planned_epochs
    ):
        plans_in_force.append(planned_epochs)
        return first if epochs_done == 1 else later

    monkeypatch.setattr(time_budget, "epochs_within_budget", planner)
    trainer = Trainer(
        tiny_config(
            tmp_path,
            time_budget_minutes=30.0,
            learning_rate_schedule="cosine",
            warmup_epochs=1,
            epochs=4,
        )
    )
    step_function = trainer.train_step
    with caplog.at_level("INFO"):
        history = trainer.train()
    # A re-plan moves the decay's end in variables the step reads: one trace for the run.
    assert trainer.train_step is step_function
    assert step_function.experimental_get_tracing_count() == 1
    assert [entry["step"] for entry in history] == list(range(2, steps + 1, 2))
    assert trainer.total_steps == int(trainer.planned_steps.numpy()) == steps
    assert float(trainer.learning_rate(steps)) == pytest.approx(0.0, abs=1e-9)
    # One plan an epoch end: the first has none in force, each re-plan the one it may change.
    assert plans_in_force == [None, first, later][: steps // 2]
    if steps != 2 * first:
        assert f"({steps} steps, planned {2 * first} before)" in caplog.text
    else:
        assert "before)" not in caplog.text  # planned once, never re-planned

"""A training time budget: the steps planned from the pace so far, and a run that keeps to them."""

import re

import pytest

from fusion_tf.training import time_budget
from fusion_tf.training.time_budget import Pace, steps_within_budget
from fusion_tf.training.trainer import Trainer

# 1.5 s a step, 20 s an epoch's end, 100 steps an epoch: 170 s a whole epoch.
PACE = Pace(seconds_per_step=1.5, seconds_per_epoch_end=20.0, steps_per_epoch=100)


@pytest.mark.parametrize(
    ("elapsed", "steps_done", "max_steps", "steps"),
    [
        # 55 minutes less 1% (the band's middle) is 3,267 s. From 200 s on, 3,067 s hold 18
        # whole epochs (3,060 s), and the 7 s left no partial one (its end alone takes 20 s).
        (200.0, 100, 2100, 1900),
        # From 100 s on, the 107 s left after 18 whole epochs hold a partial 19th: 58 steps
        # (87 s) and its end (20 s).
        (100.0, 100, 2100, 1958),
        (100.0, 100, 1000, 1000),  # the configured length stays the upper bound
        (3250.0, 100, 2100, 100),  # 17 s left: not one step with its epoch's end
        (3200.0, 100, 2100, 131),  # 67 s left: a partial epoch of 31 steps (46.5 s) and its end
        (4000.0, 200, 2100, 200),  # over budget already: what is trained stays
    ],
)
def test_steps_within_a_budget_of_55_minutes(elapsed, steps_done, max_steps, steps):
    assert time_budget.MARGIN == 0.02
    assert steps_within_budget(3300.0, elapsed, PACE, steps_done, max_steps) == steps


@pytest.mark.parametrize(
    ("planned_steps", "steps"),
    [
        # From 100 s on, a plan ends at 3,160 s (1,900 steps), 3,267 s (1,958), 3,285 s (1,970),
        # 3,300 s (1,980), 3,301.5 s (1,981). The band it is kept in: 3,234-3,300 s.
        (1958, 1958),
        (1970, 1970),  # within the band: kept, the decay not moved
        (1980, 1980),  # ends on the budget itself: kept
        (1981, 1958),  # past the budget: re-planned to the band's middle at once
        (1900, 1958),  # more than 2% spare: steps added
        (2100, 1958),
    ],
)
def test_a_plan_is_kept_while_it_ends_in_the_budgets_last_2_percent(planned_steps, steps):
    assert steps_within_budget(3300.0, 100.0, PACE, 100, 2100, planned_steps) == steps


def test_a_plan_at_the_configured_length_is_kept_with_time_to_spare():
    assert steps_within_budget(3300.0, 100.0, PACE, 100, 1000, planned_steps=1000) == 1000


@pytest.mark.parametrize(
    ("steps_done", "total_steps", "seconds"),
    [
        (100, 300, 2 * 170.0),  # two whole epochs
        (100, 358, 2 * 170.0 + 58 * 1.5 + 20.0),  # and a partial third, with its end
        (150, 230, 80 * 1.5 + 2 * 20.0),  # from mid-epoch: the ends at 200 and 230
        (300, 300, 0.0),
        (300, 250, 0.0),
    ],
)
def test_the_time_to_a_step_counts_its_steps_and_every_epoch_end(steps_done, total_steps, seconds):
    assert PACE.seconds_between(steps_done, total_steps) == pytest.approx(seconds)
    assert PACE.seconds_per_epoch == pytest.approx(170.0)


def test_the_pace_is_the_mean_step_and_the_mean_epoch_end():
    # 99 steps in 198 s and two epoch ends in 30 s: 2 s a step, 15 s an end.
    assert Pace.measured(198.0, 99, 30.0, 2, 100) == Pace(2.0, 15.0, 100)


@pytest.mark.parametrize(("timed_steps", "epoch_ends"), [(0, 1), (5, 0)])
def test_the_pace_needs_a_step_and_an_epoch_end(timed_steps, epoch_ends):
    with pytest.raises(ValueError, match=f"timed_steps={timed_steps}, epoch_ends={epoch_ends}"):
        Pace.measured(10.0, timed_steps, 1.0, epoch_ends, 5)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ((0.0, 1.0, 5), "seconds_per_step=0.0 must be positive"),
        ((1.0, -1.0, 5), "seconds_per_epoch_end=-1.0 not negative"),
        ((1.0, 1.0, 0), "steps_per_epoch=0 must be at least 1"),
    ],
)
def test_a_pace_is_checked(arguments, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        Pace(*arguments)


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

    def plan_four_steps(budget_seconds, elapsed, pace, steps_done, max_steps, planned_steps):
        calls.append((budget_seconds, pace.steps_per_epoch, steps_done, max_steps, planned_steps))
        return 4

    monkeypatch.setattr(time_budget, "steps_within_budget", plan_four_steps)
    budgeted = dict(
        time_budget_minutes=30.0, learning_rate_schedule="cosine", warmup_epochs=1, epochs=4
    )
    first = Trainer(tiny_config(tmp_path, **budgeted))
    assert first.learning_rate(6) > 0  # 4 epochs of 2 steps until the plan
    history = first.train()
    # Planned at each epoch's end, the planned last included (a faster pace may add steps).
    assert calls == [(1800.0, 2, 2, 8, None), (1800.0, 2, 4, 8, 4)]
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
        (4, 6, 6),  # a host turned faster gains steps
        (4, 4, 4),  # the plan holds: never re-planned
        (6, 4, 4),  # a host turned slower gives some up rather than run over
        (4, 5, 5),  # a partial last epoch of one step, validated at its end
        (3, 3, 3),  # planned partial from the start
    ],
)
def test_a_new_pace_moves_the_plan_and_the_decay_with_it(
    tiny_config, tmp_path, monkeypatch, caplog, first, later, steps
):
    plans_in_force = []

    def planner(budget_seconds, elapsed, pace, steps_done, max_steps, planned_steps):
        plans_in_force.append(planned_steps)
        return first if steps_done == 2 else later

    monkeypatch.setattr(time_budget, "steps_within_budget", planner)
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
    # An epoch ends every 2 steps and at the plan's last step, whole or not.
    epoch_ends = sorted({*range(2, steps + 1, 2), steps})
    assert [entry["step"] for entry in history] == epoch_ends
    assert [entry["epoch"] for entry in history] == [end / 2 for end in epoch_ends]
    assert {"rsum", "modality_gap"} <= set(history[-1])
    assert trainer.total_steps == int(trainer.planned_steps.numpy()) == steps
    assert float(trainer.learning_rate(steps)) == pytest.approx(0.0, abs=1e-9)
    # One plan an epoch end: the first has none in force, each re-plan the one it may change.
    assert plans_in_force == [None, first, later, later][: len(epoch_ends)]
    assert f"so {first / 2:.2f} of 4 epochs ({first} steps)" in caplog.text
    if steps != first:
        assert f"({steps} steps, planned {first} before)" in caplog.text
    else:
        assert "before)" not in caplog.text  # planned once, never re-planned

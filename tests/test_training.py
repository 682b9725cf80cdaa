"""The training helper: what it records, mini-batches, the progress bar, silence, evaluation,
the decision map, and bad input."""

from __future__ import annotations

import math
import shutil

import pytest
from helpers import needs_extra, numeric_gradient

from autograd_lite import Value
from autograd_lite.nn import MLP, SGD, Adam, data
from autograd_lite.training import (
    LOSSES,
    DivergenceError,
    TrainingStep,
    decision_map,
    decision_map_legend,
    evaluate,
    fit,
    forward_pass,
)


def test_fit_records_every_step_and_learns_xor():
    points, targets = data.xor(labels=(0, 1))
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    optimizer = Adam(model.parameters(), lr=0.05)
    history = fit(
        model, points, targets, loss="bce_with_logits", optimizer=optimizer, epochs=80,
        progress=False,
    )  # fmt: skip
    assert len(history) == len(history.accuracy) == len(history.learning_rate) == 80
    assert history.loss[-1] < 0.1 < history.loss[0]
    assert history.accuracy[-1] == 1.0
    assert optimizer.step_count == 80
    loss, accuracy = evaluate(model, points, targets, loss="bce_with_logits")
    assert accuracy == 1.0 and loss < 0.1


def test_the_loss_recorded_is_the_loss_before_the_step():
    points, targets = data.sine(6)
    model = MLP(1, [3, 1], seed=0)
    before, _ = evaluate(model, points, targets, loss="mse", l2=0.01)
    history = fit(model, points, targets, loss="mse", l2=0.01, epochs=1, progress=False)
    assert history.loss == [pytest.approx(before)]


def test_mini_batches_and_the_schedule():
    points, targets = data.moons(10, seed=0)
    model = MLP(2, [4, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=lambda step: 1.0 / (step + 1))
    history = fit(
        model, points, targets, optimizer=optimizer, epochs=3, batch_size=4, progress=False
    )
    assert len(history) == 3 * 3  # batches of 4, 4 and 2 per epoch
    assert history.learning_rate == pytest.approx([1.0 / (k + 1) for k in range(9)])


def test_same_seed_same_training():
    def train():
        points, targets = data.moons(12, seed=1)
        model = MLP(2, [4, 1], seed=2)
        fit(model, points, targets, epochs=2, batch_size=5, seed=3, progress=False)
        return [p.data for p in model.parameters()]

    assert train() == train()


def test_regression_has_no_accuracy():
    points, targets = data.sine(8)
    model = MLP(1, [4, 1], seed=0)
    history = fit(model, points, targets, loss="mse", epochs=2, progress=False)
    assert history.accuracy == [None, None]
    assert evaluate(model, points, targets, loss="mse")[1] is None


def argmax_accuracy(model, points, targets) -> float:
    """The share of samples whose largest output is their class, counted by hand."""
    hits = 0
    for x, k in zip(points, targets):
        scores = [v.data for v in model(x)]
        hits += scores.index(max(scores)) == k
    return hits / len(points)


def test_softmax_classes():
    points, targets = data.spiral(5, classes=3, seed=0)
    model = MLP(2, [6, 3], activation="relu", seed=0)
    before = argmax_accuracy(model, points, targets)
    history = fit(model, points, targets, loss="softmax_cross_entropy", epochs=60, progress=False)
    # each step records the accuracy of the model it starts from: the first is the untrained one
    assert history.accuracy[0] == before
    assert all(round(a * 15) == a * 15 for a in history.accuracy)  # k of the 15 samples
    after = argmax_accuracy(model, points, targets)
    assert evaluate(model, points, targets, loss="softmax_cross_entropy")[1] == after > before


def test_progress_bar_and_silence(capsys):
    points, targets = data.xor(labels=(-1, 1))
    fit(MLP(2, [2, 1], seed=0), points, targets, epochs=3, progress=False)
    assert capsys.readouterr() == ("", "")
    fit(MLP(2, [2, 1], seed=0), points, targets, epochs=3, description="xor")
    bar = capsys.readouterr().err
    assert "xor" in bar and "3/3" in bar and "loss=" in bar and "accuracy=" in bar


def test_forward_pass_records_a_graph_and_adds_the_penalty():
    model = MLP(1, [1], seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.b.data = 2.0, 1.0
    loss, outputs = forward_pass(model, [[1.0]], [0.0], loss="mse", l2=0.5)
    assert [o.data for o in outputs] == [3.0]
    assert loss.data == pytest.approx(9.0 + 0.5 * (4.0 + 1.0))
    loss.backward()
    assert neuron.w[0].grad == pytest.approx(2 * 3.0 * 1.0 + 2 * 0.5 * 2.0)


# loss name -> (outputs of the model, target, the loss by hand, the accuracy by hand)
BY_HAND = {
    "mse": ([0.5], 1.0, (1.0 - 0.5) ** 2, None),
    "half_sum_squared_error": ([0.5], 1.0, 0.5 * (1.0 - 0.5) ** 2, None),
    "bce": ([0.8], 1, -math.log(0.8), 1.0),  # a probability above 0.5 predicts class 1
    "bce_with_logits": ([-0.5], 1, math.log(1 + math.exp(0.5)), 0.0),  # σ(−0.5) < 0.5
    "hinge": ([0.25], 1, 1 - 0.25, 1.0),  # max(0, 1 − y s)
    "softmax_cross_entropy": ([0.5, -0.5], 0, math.log(1 + math.exp(-1.0)), 1.0),
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_each_loss_by_name_gives_the_hand_derived_loss_and_accuracy(name):
    outputs, target, loss, accuracy = BY_HAND[name]
    model = MLP(1, [len(outputs)], output_activation="linear", seed=0)
    for neuron, output in zip(model.layers[0].neurons, outputs):
        neuron.w[0].data, neuron.b.data = 0.0, output  # the model answers `outputs`
    got_loss, got_accuracy = evaluate(model, [[1.0]], [target], loss=name)
    assert got_loss == pytest.approx(loss, rel=1e-12)
    assert got_accuracy == accuracy


def test_every_loss_by_name_is_checked_by_hand():
    assert set(BY_HAND) == set(LOSSES)  # a new loss needs its row in BY_HAND


def test_decision_map_shows_regions_and_samples():
    model = MLP(2, [1], seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 0.0  # class 1 where y > 0
    points, targets = [[0.0, -1.0], [0.0, 1.0]], [-1, 1]
    framed = decision_map(model, points, targets, width=11, height=10).splitlines()
    assert framed[0] == framed[-1] == "+" + "-" * 11 + "+"
    assert all(len(row) == 13 and row[0] == row[-1] == "|" for row in framed[1:-1])
    rows = [row[1:-1] for row in framed[1:-1]]  # full width even where the region is blank
    assert len(rows) == 10
    assert all(set(row) <= {".", "o"} for row in rows[5:])  # lower half: class 0
    assert all(set(row) <= {" ", "x"} for row in rows[:5])  # upper half: class 1
    assert sum(row.count("o") for row in rows) == sum(row.count("x") for row in rows) == 1


@pytest.mark.parametrize(
    "call, error, words",
    [
        (
            lambda m: fit(m, [[0.0, 1.0]], [1], loss="l1", progress=False),
            ValueError,
            "unknown loss",
        ),
        (lambda m: fit(m, [[0.0, 1.0]], [1, -1], progress=False), ValueError, "as many inputs"),
        (lambda m: fit(m, [], [], progress=False), ValueError, "at least one"),
        (lambda m: fit(m, [[0.0, 1.0]], [1], epochs=0, progress=False), ValueError, "epochs"),
        (lambda m: fit(m, [[0.0, 1.0]], [1], batch_size=0), ValueError, "batch_size"),
        (lambda m: fit(m, [[0.0, 1.0]], [1], l2=-1.0), ValueError, "l2 must be >= 0"),
        (lambda m: fit(m, [[0.0, 1.0]], [0], progress=False), ValueError, "hinge_loss"),
        (  # the bad target is in the last mini-batch: found before the first step
            lambda m: fit(m, [[0.0, 1.0], [1.0, 0.0]], [1, 0], batch_size=1, progress=False),
            ValueError,
            "hinge_loss: targets must be -1 or \\+1, got 0",
        ),
        (  # a sample with the wrong number of inputs, also in the last mini-batch
            lambda m: fit(m, [[0.0, 1.0], [1.0]], [1, -1], batch_size=1, progress=False),
            ValueError,
            "MLP: expected 2 inputs, got 1",
        ),
        (lambda m: fit(m, [[0.0, 1.0]], [1], on_step=1), TypeError, "on_step must be callable"),
        (lambda m: fit(m, [[0.0, 1.0]], [1], loss=None), TypeError, "fit: loss must be the name"),
        (lambda m: evaluate(m, [[0.0, 1.0]], [1], l2=math.nan), ValueError, "finite"),
        (lambda m: decision_map(MLP(3, [1]), [[0, 0, 0]], [1]), ValueError, "2 inputs"),
        (lambda m: decision_map(m, [[0, 0]], [1], width=0), ValueError, "width must be >= 1"),
    ],
)
def test_bad_input_changes_no_weight(call, error, words):
    model = MLP(2, [2, 1], seed=0)
    before = [(p.data, p.grad) for p in model.parameters()]
    with pytest.raises(error, match=words):
        call(model)
    assert [(p.data, p.grad) for p in model.parameters()] == before


def _line_model():
    return MLP(1, [1], output_activation="linear", seed=0)


def test_a_diverging_fit_keeps_the_weights_of_the_last_sound_step():
    points, targets = [[1.0], [2.0]], [1.0, -1.0]
    model = _line_model()
    with pytest.raises(DivergenceError, match="training diverged at step") as caught:
        fit(model, points, targets, loss="mse", optimizer=SGD(model.parameters(), lr=5.0),
            epochs=50, progress=False)  # fmt: skip
    step = caught.value.step
    assert step >= 1 and caught.value.loss > 1e4 * 1.0
    # the weights are those a run of step - 1 steps ends with: before the update that blew up
    same = _line_model()
    fit(same, points, targets, loss="mse", optimizer=SGD(same.parameters(), lr=5.0),
        epochs=step - 1, progress=False)  # fmt: skip
    assert [p.data for p in model.parameters()] == [p.data for p in same.parameters()]


def test_an_update_that_overflows_is_divergence_and_changes_nothing():
    model = _line_model()
    before = [p.data for p in model.parameters()]
    with pytest.raises(DivergenceError, match="step 0 .*became -?inf with learning rate 1e"):
        fit(model, [[1e10]], [-1e10], loss="mse", optimizer=SGD(model.parameters(), lr=1e300),
            epochs=3, progress=False)  # fmt: skip
    assert [p.data for p in model.parameters()] == before


def test_a_healthy_bumpy_run_is_not_called_divergence():
    points, targets = data.moons(40, 0.1, seed=0)
    model = MLP(2, [8, 8, 1], activation="relu", seed=2)
    history = fit(model, points, targets, optimizer=SGD(model.parameters(), lr=3.0), epochs=30,
                  progress=False)  # fmt: skip
    assert max(history.loss) > 2 * history.loss[0]  # it does bump, and recovers
    assert history.loss[-1] < history.loss[0]


@pytest.mark.parametrize(
    "points, words",
    [
        ([[0.0, 1.0], [math.nan, 0.0]], r"sample 1 \(\[nan, 0.0\]\): every input must be finite"),
        ([[0.0, 1.0], [0.0, 1.0], [math.inf, 0.0]], r"sample 2 \(\[inf, 0.0\]\)"),
        ([[0.0, 1.0], [0.0]], r"sample 1 \(\[0.0\]\): MLP: expected 2 inputs, got 1"),
    ],
)
def test_fit_names_a_bad_sample_and_its_index_before_any_step(points, words):
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=words):
        fit(model, points, [1] * len(points), progress=False)
    assert [p.data for p in model.parameters()] == before


@pytest.mark.parametrize(
    "loss, targets, error, words",
    [
        ("hinge", [1, -1, math.nan], ValueError, r"target 2 \(nan\): hinge_loss: each target"),
        ("hinge", [1, 2, -1], ValueError, r"target 1 \(2\): hinge_loss: targets must be -1 or"),
        ("mse", [0.5, "a", 1.0], TypeError, r"target 1 \('a'\): mean_squared_error: each"),
    ],
)
def test_fit_names_a_bad_target_and_its_index_before_any_step(loss, targets, error, words):
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(error, match=words):
        fit(model, [[0.0, 1.0]] * 3, targets, loss=loss, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_fit_refuses_a_seed_that_is_not_an_int():
    with pytest.raises(TypeError, match="fit: seed must be None or an int"):
        fit(MLP(2, [1]), [[0.0, 1.0]], [1], seed="x", progress=False)


def test_the_legend_names_each_character_of_the_map():
    assert decision_map_legend([-1, 1]) == (
        "region '.' predicts -1, ' ' predicts 1; sample 'o' is a -1, 'x' is a 1"
    )
    assert decision_map_legend([0, 1, 1]).startswith("region '.' predicts 0, ' ' predicts 1")


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_replayed_fit_diverges_the_same_way(backend):
    if backend == "numpy":
        needs_extra("numpy")
    points, targets = [[1.0], [2.0]], [1.0, -1.0]
    engine, replayed = _line_model(), _line_model()
    errors = []
    for model, how in ((engine, "engine"), (replayed, backend)):
        with pytest.raises(DivergenceError) as caught:
            fit(model, points, targets, loss="mse", optimizer=SGD(model.parameters(), lr=5.0),
                epochs=50, progress=False, backend=how)  # fmt: skip
        errors.append(caught.value)
    assert errors[0].step == errors[1].step
    assert [p.data for p in replayed.parameters()] == pytest.approx(
        [p.data for p in engine.parameters()], rel=1e-9
    )


# --- the cyclic garbage collector is paused for a step, and always restored ---------------


def test_collector_paused_restores_the_collector_even_on_error():
    import gc

    from autograd_lite.training import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a step that fails")
    assert gc.isenabled()
    gc.disable()  # a caller who paused it already keeps it paused
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_fit_runs_each_step_with_the_collector_paused_and_restores_it_on_error():
    import gc

    states = []
    model = MLP(2, [2, 1], seed=0)

    def rate(step: int) -> float:  # called inside the step
        states.append(gc.isenabled())
        if step == 2:
            raise ArithmeticError("schedule broke at step 2")
        return 0.1

    points, targets = data.xor(labels=(-1, 1))
    with pytest.raises(ArithmeticError):
        fit(model, points, targets, optimizer=SGD(model.parameters(), lr=rate), epochs=5,
            progress=False)  # fmt: skip
    assert states and not any(states)  # paused during every step
    assert gc.isenabled()  # and back on after the failed one


# --- on_step: watching training, and stopping it --------------------------------------------


def test_on_step_sees_every_step_as_the_history_records_it():
    points, targets = data.moons(10, seed=0)
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=lambda k: 0.5 / (k + 1))
    seen = []
    history = fit(model, points, targets, optimizer=optimizer, epochs=2, batch_size=4,
                  progress=False, on_step=seen.append)  # fmt: skip
    assert [s.step for s in seen] == list(range(6))
    assert [s.epoch for s in seen] == [0, 0, 0, 1, 1, 1]  # batches of 4, 4 and 2
    assert [s.loss for s in seen] == history.loss
    assert [s.accuracy for s in seen] == history.accuracy
    assert (
        [s.learning_rate for s in seen]
        == history.learning_rate
        == [0.5 / (k + 1) for k in range(6)]
    )
    assert all(isinstance(s, TrainingStep) and s.model is model for s in seen)


def test_on_step_comes_after_the_update_with_the_steps_gradients():
    """In the callback: w_before = w + lr × grad, and grad is d(batch loss)/dw at w_before,
    checked by central finite differences."""
    points, targets = data.sine(5)
    model = MLP(1, [3, 1], activation="tanh", seed=0)
    lr = 0.05

    def batch_loss(model: MLP) -> Value:
        return forward_pass(model, points, targets, loss="mse", l2=0.01)[0]

    checked = []

    def check(step: TrainingStep) -> None:
        parameters = step.model.parameters()
        after = [p.data for p in parameters]
        for p in parameters:  # back to the weights the step started from
            p.data += lr * p.grad
        assert batch_loss(step.model).data == pytest.approx(step.loss)
        for p in parameters:
            expected = numeric_gradient(lambda: batch_loss(step.model), p)
            assert p.grad == pytest.approx(expected, rel=1e-5, abs=1e-8)
        for p, value in zip(parameters, after):
            p.data = value
        checked.append(step.step)

    fit(model, points, targets, loss="mse", l2=0.01, optimizer=SGD(model.parameters(), lr=lr),
        epochs=3, progress=False, on_step=check)  # fmt: skip
    assert checked == [0, 1, 2]


def test_returning_false_stops_after_that_step():
    # the callback answers False at step 6: fit stops after it, 7 steps done
    points, targets = data.xor(labels=(-1, 1))
    model = MLP(2, [4, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    history = fit(model, points, targets, optimizer=optimizer, epochs=50, progress=False,
                  on_step=lambda step: step.step < 6)  # fmt: skip
    assert len(history) == 7 and optimizer.step_count == 7
    same = MLP(2, [4, 1], seed=0)
    fit(same, points, targets, optimizer=SGD(same.parameters(), lr=0.1), epochs=7, progress=False)
    assert [p.data for p in model.parameters()] == [p.data for p in same.parameters()]


@pytest.mark.parametrize("answer", [0, 1, "stop", 0.5])
def test_on_step_must_answer_none_true_or_false(answer):
    points, targets = data.xor(labels=(-1, 1))
    model = MLP(2, [2, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    with pytest.raises(
        TypeError, match=r"fit: on_step must return None or True \(go on\) or False"
    ):
        fit(model, points, targets, optimizer=optimizer, epochs=5, progress=False,
            on_step=lambda step: answer)  # fmt: skip
    assert optimizer.step_count == 1  # the step it watched is done


def test_an_error_in_on_step_leaves_fit_as_it_is_and_the_collector_on():
    import gc

    states = []

    def fails_at_step_2(step: TrainingStep) -> None:
        states.append(gc.isenabled())  # the callback runs between steps, collector on
        if step.step == 2:
            raise KeyboardInterrupt  # as if the learner pressed Ctrl-C in their callback

    points, targets = data.xor(labels=(-1, 1))
    model = MLP(2, [2, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyboardInterrupt):
        fit(model, points, targets, optimizer=optimizer, epochs=5, progress=False,
            on_step=fails_at_step_2)  # fmt: skip
    assert states == [True, True, True] and optimizer.step_count == 3


def _watched(backend: str) -> list[tuple[int, float, float | None]]:
    """(step, loss, accuracy) of each step as on_step sees it, and the history agrees."""
    points, targets = data.moons(8, seed=0)
    seen = []

    def watch(step: TrainingStep) -> None:
        seen.append((step.step, step.loss, step.accuracy))

    history = fit(MLP(2, [3, 1], seed=0), points, targets, epochs=3, progress=False,
                  backend=backend, on_step=watch)  # fmt: skip
    assert seen == list(zip(range(3), history.loss, history.accuracy))
    return seen


def test_on_step_watches_a_replayed_fit_the_same_way():
    assert _watched("python") == _watched("engine")


@pytest.mark.parametrize("backend", ["engine", "python", "c"])
def test_a_replay_that_must_trace_again_says_how_often(backend):
    """softmax's shift is chosen at trace time: a batch whose logits lie 1,600 apart from the
    traced one breaks it, so fit traces that batch again, counts it, and loses nothing."""
    if backend == "c" and shutil.which("cc") is None:
        pytest.skip("needs a C compiler (cc) for the c replay")

    def trained(backend: str) -> tuple:
        model = MLP(2, [2], activation="linear", output_activation="linear", seed=0)
        for j, neuron in enumerate(model.layers[0].neurons):  # logits x0 and -x0
            neuron.w[0].data = 1.0 if j == 0 else -1.0
            neuron.w[1].data = neuron.b.data = 0.0
        history = fit(model, [[0.0, 0.0], [800.0, 0.0]], [0, 0], loss="softmax_cross_entropy",
                      optimizer=SGD(model.parameters(), lr=1e-6), epochs=1, batch_size=1,
                      seed=0, progress=False, backend=backend)  # fmt: skip
        return history, [p.data for p in model.parameters()]

    history, weights = trained(backend)
    reference, engine_weights = trained("engine")
    assert history.retraces == (0 if backend == "engine" else 1)
    assert history.loss == reference.loss and weights == engine_weights

"""Handwritten digits: a real dataset, learned by the scalar engine, one number at a time.

1,797 images of 8x8 pixels (scikit-learn ships them inside its package: no download),
scaled to 0..1 and split once into 1,347 for training and 450 held out. The network reads
the 64 pixels, has 32 relu neurons, and gives 10 scores, one per digit; softmax
cross-entropy turns the scores into a loss, Adam moves the 2,410 weights and biases.
Every weight is a Value and every product a float multiplied in Python, so one pass over
the training set takes a few seconds: the whole run takes about a minute.

It prints the held-out accuracy and the confusion counts, and writes two pictures:
digits_guesses.png (held-out digits with the network's guesses) and digits_confusion.png.

Needs scikit-learn:  pip install ".[datasets]"
Run:  python examples/digits.py
"""

import os
import time

from autograd_lite import no_grad
from autograd_lite.nn import MLP, Adam, data
from autograd_lite.training import fit

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
EPOCHS = 1 if FAST else 10

(train_points, train_targets), (test_points, test_targets) = data.digits()
print(f"{len(train_points)} training digits, {len(test_points)} held out; 8x8 = 64 pixels each")

model = MLP(64, [32, 10], activation="relu", seed=0)  # 64 pixels -> 32 relu -> 10 scores
started = time.perf_counter()
fit(
    model,
    train_points,
    train_targets,
    loss="softmax_cross_entropy",
    optimizer=Adam(model.parameters(), lr=0.01),
    epochs=EPOCHS,
    batch_size=32,  # 43 steps per pass over the training digits
    description="digits",
)
seconds = time.perf_counter() - started


def guess(pixels: list[float]) -> int:
    """The digit with the highest score."""
    scores = [v.data for v in model(pixels)]
    return scores.index(max(scores))


with no_grad():  # evaluation: no graph to record
    guesses = [guess(pixels) for pixels in test_points]
right = sum(g == t for g, t in zip(guesses, test_targets))
print(f"trained {EPOCHS} epoch{'s' if EPOCHS > 1 else ''} in {seconds:.0f} s")
print(f"held-out accuracy: {right / len(test_targets):.1%} ({right}/{len(test_targets)} digits)")

# confusion counts: counts[true][guess]
counts = [[0] * 10 for _ in range(10)]
for g, t in zip(guesses, test_targets):
    counts[t][g] += 1
print("\nconfusion counts (row: true digit, column: the network's guess)")
print("     " + "".join(f"{k:>4}" for k in range(10)))
for t, row in enumerate(counts):
    print(f"  {t}  " + "".join(f"{c:>4}" if c else "   ." for c in row))

try:
    from autograd_lite.visualize import render
    from autograd_lite.visualize.images import draw_confusion, draw_images
except ImportError:  # visualize ships with the package; a partial install may lack graphviz
    print("\n(pictures skipped: visualize needs the graphviz package)")
else:
    mistakes = [k for k, (g, t) in enumerate(zip(guesses, test_targets)) if g != t][:6]
    shown = [k for k in range(len(test_points)) if k not in mistakes][:12] + mistakes
    picture = draw_images(
        [test_points[k] for k in shown],
        [f"guess {guesses[k]} (true {test_targets[k]})" for k in shown],
        wrong=[guesses[k] != test_targets[k] for k in shown],
        title=f"Held-out digits and the network's guesses: {len(shown) - len(mistakes)} "
        f"right, then {len(mistakes)} of its {len(test_points) - right} mistakes (framed)",
    )
    written = render(picture, "digits_guesses", "png")
    confusion = draw_confusion(counts, title=f"Held-out digits: {right}/{len(test_targets)} right")
    written_confusion = render(confusion, "digits_confusion", "png")
    print(f"\nwrote {written} and {written_confusion}")

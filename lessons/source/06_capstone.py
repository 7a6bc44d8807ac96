# %% [markdown]
# # Lesson 6 — Capstone: multi-class classification
#
# Time to put the course together on a real task: recognising handwritten digits, ten classes.
# You will give the network a proper multi-class output (one logit per class, softmax, and the
# cross-entropy loss), check its health *before* training, train it with the gradient and
# dead-ReLU monitors switched on, choose a dropout rate with a validation set over several seeds,
# and only then look at the test set once, with a confusion matrix to see which digits it mixes
# up. The exercises end with a broken network to diagnose and repair, judged on digits this
# notebook never loads, and four recorded runs to diagnose; then a playground with several faults
# at once, and questions that mix the whole course.
#
# **Learning objectives**
#
# - turn logits into class probabilities with softmax, and explain why the loss takes logits
#   (`from_logits=True`);
# - use integer ("sparse") labels or one-hot labels with the matching loss, and show they agree;
# - run the full workflow: diagnose, train with monitors, choose the dropout rate on validation
#   data over several seeds (and notice when the seeds disagree more than the rates), evaluate on
#   held-out test data, read a confusion matrix;
# - repair a network with several faults at once, and tell failures apart from recorded runs.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np

from labkit import datasets, plots
from labkit.callbacks import DeadReLUMonitor, GradientMonitor
from labkit.diagnose import diagnose
from labkit.exercises import lesson06 as ex
from labkit.gradients import layer_gradient_norms, vanishing_ratio
from labkit.models import build_mlp, reinitialize

# %% [markdown]
# ## 1. The data: three splits with three jobs
#
# The digits are 8×8 grey images, flattened to 64 numbers in [0, 1], with labels 0 to 9. The test
# split is put aside until the very end. From the training split we hold out the last 20 % as a
# **validation set**, used to make choices (here: the dropout rate). Choosing on the test set
# would make its accuracy an optimistic, no longer independent, estimate. (A fourth part, 269
# digits, is held back by `labkit.datasets` itself: `load` never returns it, and Exercise 3 is
# judged on it.)
#
# Every accuracy below sits beside the **trivial baselines**: guessing at random scores 1 in 10,
# and always answering the most common class scores its share of the split.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("digits")
n_fit = int(0.8 * len(x_train))
x_fit, y_fit = x_train[:n_fit], y_train[:n_fit]
x_val, y_val = x_train[n_fit:], y_train[n_fit:]
print(f"fit {x_fit.shape}, validation {x_val.shape}, test {x_test.shape}")
print("examples per class in the fit split:", np.bincount(y_fit).tolist())
CHANCE = 1 / 10
CHANCE_LOSS = float(np.log(10))
majority = {name: np.bincount(y).max() / len(y) for name, y in [("val", y_val), ("test", y_test)]}
print(f"chance accuracy {CHANCE:.0%}; majority class: validation {majority['val']:.1%}, "
      f"test {majority['test']:.1%}; loss of a uniform guess ln 10 = {CHANCE_LOSS:.3f}")

# %% [markdown]
# ## 2. Ten classes: logits, softmax and cross-entropy
#
# For $K$ classes the output layer has $K$ units and no activation: it produces $K$ **logits**
# $z_1,\dots,z_K$, any real numbers. **Softmax** turns them into probabilities that are positive
# and sum to 1,
#
# $$p_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_k}},$$
#
# and the **cross-entropy** loss of an example with label $y$ is $-\log p_y$: small when the
# network gives the right class a high probability. We keep the output layer linear and let the
# loss apply the softmax (`from_logits=True`): computing $\log p_y$ directly from the logits is
# more accurate than taking the log of a probability that has already been rounded to 0 or 1.
# When we want probabilities to look at, `keras.ops.softmax` computes them. Here are both, for
# three examples and an untrained network:

# %%
model = reinitialize(build_mlp(64, depth=2, width=64, output_units=10), seed=0)
logits = keras.ops.convert_to_numpy(model(x_fit[:3]))
probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
print("logits of example 0:", np.round(logits[0], 2))
print("probabilities of 0: ", np.round(probs[0], 2))
print("row sums:", np.round(probs.sum(axis=1), 4))

sparse_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
by_keras = float(sparse_ce(y_fit[:3], logits))
by_hand = float(-np.mean(np.log(probs[np.arange(3), y_fit[:3]])))
print(f"loss from Keras {by_keras:.4f}, -mean(log p[label]) by hand {by_hand:.4f}")

# %% [markdown]
# The untrained network spreads its probability over all ten classes (the largest share above
# is 0.28, the smallest 0.02), so the loss is close to $-\log(1/10) \approx 2.30$, what a
# uniform guess costs. Keras's loss is exactly the mean of $-\log p_{\text{label}}$.
#
# **Sparse or one-hot labels?** Our labels are integers, one per example ("sparse"), and go with
# `SparseCategoricalCrossentropy`. The same labels can be written **one-hot**: a row of 10 zeros
# with a single 1 at the class, which goes with `CategoricalCrossentropy`. It is the same loss in
# two notations:

# %%
y_onehot = keras.ops.one_hot(y_fit[:3], 10)
categorical_ce = keras.losses.CategoricalCrossentropy(from_logits=True)
print("sparse labels: ", y_fit[:3].tolist())
print("one-hot labels:", keras.ops.convert_to_numpy(y_onehot).astype(int).tolist()[0], "...")
print(f"sparse loss {by_keras:.4f}, one-hot loss {float(categorical_ce(y_onehot, logits)):.4f}")

# %% [markdown]
# ## 3. Diagnose before you train
#
# `labkit.diagnose` measures a compiled model on a probe batch (gradient norm per layer, dead
# ReLU units, saturated sigmoid units) and reports problems with the remedy. It needs no
# training, so it is cheap to run on a candidate before spending time on it. First a candidate
# that repeats lesson 2's mistake, six sigmoid layers:

# %%
probe_x, probe_y = x_fit[:256], y_fit[:256]


def compiled(model):
    model.compile(
        optimizer=keras.optimizers.Adam(ex.LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


sigmoid_model = build_mlp(64, depth=6, width=64, activation="sigmoid", output_units=10)
sigmoid_model = compiled(reinitialize(sigmoid_model, seed=0))
norms = layer_gradient_norms(sigmoid_model, probe_x, probe_y)
print(f"first/last layer gradient ratio: {vanishing_ratio(norms):.0e}")
for finding in diagnose(sigmoid_model, probe_x, probe_y):
    print(f"finding: {finding.kind} in {finding.layer}")
    print("remedy:", finding.message.split("Remedy: ")[-1])

# %% [markdown]
# The first layer's gradient is thousands of times smaller than the largest: vanishing
# gradients, before a single step. The remedy the report names is the one from lesson 2: ReLU
# units with He initialization. Our candidate is two ReLU layers of 128 units (He
# initialization is `build_mlp`'s default for ReLU):

# %%
relu_model = compiled(reinitialize(build_mlp(64, depth=2, width=128, output_units=10), seed=0))
norms = layer_gradient_norms(relu_model, probe_x, probe_y)
print(f"first/last layer gradient ratio: {vanishing_ratio(norms):.1f}")
print(diagnose(relu_model, probe_x, probe_y))

# %% [markdown]
# ## 4. Train with monitors, choose dropout on the validation set
#
# We train the ReLU network with three dropout rates, 0.0, 0.2 and 0.4, and, because one run is
# one draw of the initial weights and dropout masks, **three seeds per rate**. Each rate's
# network is compiled once and restarted for every seed with `reinitialize` (new weights, a
# restarted dropout-mask stream, the optimizer's state zeroed). Every run has the same budget
# (10 epochs, batches of 128, Adam) and sees the examples in the same order (the split is
# already shuffled): `datasets.epoch_batches` hands `fit` the batches that `shuffle=False`
# would, epoch after epoch, so Keras sets up the data pass once per run instead of once per
# epoch. Each run carries a `GradientMonitor` and a `DeadReLUMonitor`, which watch the probe
# batch while `fit` runs and collect findings: exploding or vanishing gradients, layers whose
# ReLU units died. The rate with the lowest *mean* validation loss wins, and we compare the gap
# between rates with the spread between seeds.
#
# The validation split is scored after every epoch by `ValidationScores`, a small callback that
# calls the network once on the whole split and adds `val_loss` and `val_accuracy` to the
# epoch's logs, where Keras's `History` records them. It computes what `fit(validation_data=...)`
# would, without setting up an evaluation pipeline every epoch, which keeps the nine runs fast.
#
# *Backend note:* `labkit.models.reinitialize` draws the weights with NumPy, so TensorFlow, JAX
# and PyTorch run the same experiment; their printed numbers can differ in the last digits.

# %% [markdown]
# **Predict, then run.** Before you run the sweep, pick the rate you expect to win and write its
# key in `prediction`; the cell after the sweep tells you why it did or did not.

# %%
ex.predict

# %%
prediction = "c"  # SOLUTION predict

# %%
class ValidationScores(keras.callbacks.Callback):
    """Adds the validation split's loss and accuracy (inference mode) to every epoch's logs."""

    def on_epoch_end(self, epoch, logs=None):
        logits = self.model(x_val, training=False)
        predicted = np.argmax(keras.ops.convert_to_numpy(logits), axis=1)
        logs["val_loss"] = float(self.model.loss(y_val, logits))
        logs["val_accuracy"] = float(np.mean(predicted == y_val))


RATES = [0.0, 0.2, 0.4]
SEEDS = [0, 1, 2]
results, runs, networks = [], {}, {}
for rate in RATES:
    networks[rate] = compiled(build_mlp(64, depth=2, width=128, dropout=rate, output_units=10))
    for seed in SEEDS:
        model = reinitialize(networks[rate], seed=seed)  # new weights and masks, optimizer zeroed
        grads = GradientMonitor(probe=(probe_x, probe_y), verbose=0)
        dead = DeadReLUMonitor(probe=probe_x, verbose=0)
        batches, steps = datasets.epoch_batches(x_fit, y_fit, batch_size=128)
        history = model.fit(
            batches,
            steps_per_epoch=steps,
            epochs=10,
            shuffle=False,
            callbacks=[ValidationScores(), grads, dead],
            verbose=0,
        )
        runs[rate, seed] = {"weights": model.get_weights(), "history": history, "grads": grads,
                            "dead": dead}
        results.append({"rate": rate, **{k: v[-1] for k, v in history.history.items()}})

print(" rate  val loss per seed      mean  spread  val acc (mean)  findings  most dead")
mean_val = {}
for rate in RATES:
    losses = [r["val_loss"] for r in results if r["rate"] == rate]
    accs = [r["val_accuracy"] for r in results if r["rate"] == rate]
    findings = sum(len(runs[rate, s]["grads"].findings + runs[rate, s]["dead"].findings)
                   for s in SEEDS)
    most_dead = max(max(runs[rate, s]["dead"].values(layer))
                    for s in SEEDS for layer in runs[rate, s]["dead"].layers())
    mean_val[rate] = np.mean(losses)
    print(f"  {rate:.1f}  {'  '.join(f'{v:.3f}' for v in losses)}  {np.mean(losses):.3f}"
          f"   {max(losses) - min(losses):.3f}           {np.mean(accs):.3f}  {findings:8d}"
          f"  {most_dead:9.0%}")

best_dropout = min(RATES, key=mean_val.get)
gap = max(mean_val.values()) - min(mean_val.values())
spread = max(
    max(r["val_loss"] for r in results if r["rate"] == rate)
    - min(r["val_loss"] for r in results if r["rate"] == rate)
    for rate in RATES
)
print(f"chosen dropout rate: {best_dropout} (lowest mean validation loss)")
print(f"largest gap between the rates' means {gap:.3f}; largest spread across seeds {spread:.3f}")
if spread > gap:
    print("the seeds disagree more than the rates: the choice is within seed noise")
else:
    print("the rates differ by more than the seeds do: the choice is not seed noise")

# %%
ex.predict.check(prediction)

# %%
plots.dropout_sweep(
    results,
    title="Dropout on digits: final loss and accuracy, 3 seeds per rate",
    baselines={"loss": CHANCE_LOSS, "accuracy": CHANCE},
)

# %% [markdown]
# No run raised a single finding (the `findings` column counts them over the three seeds), and
# the largest dead fraction any layer reached (last column) stayed far below the 50 % at which
# a layer is reported as dead. Read the last three lines before trusting the choice: they
# compare the gap between the rates' mean validation losses with how much one rate's three
# seeds disagree. Had the spread been the larger of the two, the "best" rate would be a coin
# toss. Here the gap is the larger (the last line says so), and the sweep plot's shaded min–max
# bands do not overlap: at this budget dropout only slows learning, and the lowest mean
# validation loss belongs to the smallest rate.
#
# The curves of the chosen rate's first seed, with the trivial baselines dashed (loss of a
# uniform guess, chance accuracy), and its gradient norms per layer as the monitor recorded them:

# %%
best = runs[best_dropout, 0]
plots.training_curves(
    best["history"],
    title=f"Dropout {best_dropout}, seed 0: fit and validation",
    baselines={"loss": CHANCE_LOSS, "accuracy": CHANCE},
)

# %%
logs = best["history"].history
print(f"last epoch: train accuracy {logs['accuracy'][-1]:.3f}, "
      f"validation {logs['val_accuracy'][-1]:.3f} (chance {CHANCE:.0%})")
print(f"last epoch: train loss {logs['loss'][-1]:.4f}, validation {logs['val_loss'][-1]:.3f}; "
      f"best validation loss {min(logs['val_loss']):.3f} "
      f"in epoch {int(np.argmin(logs['val_loss'])) + 1}")
gap_points = 100 * (logs["accuracy"][-1] - logs["val_accuracy"][-1])
print(f"train - validation accuracy: {gap_points:.1f} percentage points", end=": ")
print("the curves stay within 1 point" if abs(gap_points) <= 1 else "the curves separate")
ratios = [vanishing_ratio(best["grads"].snapshot(step)) for step in best["grads"].steps()]
print(f"lowest/largest layer gradient norm over the run: {min(ratios):.2f} to {max(ratios):.2f}")

# %%
best["grads"].plot()

# %% [markdown]
# Compare the two curves with the printed gap, not by eye: a training accuracy above the
# validation accuracy is the network fitting its training digits better than new ones, and the
# lines above say whether the curves separate. (With dropout, the training numbers are measured
# with units dropped, so they understate how well the network fits.) Both accuracies sit far
# above the dashed chance line.
# The figure draws the gradient norm of each layer (`hidden_1`, `hidden_2`, `output`) at the
# monitor's records; the printed range of the lowest/largest ratio over those records is the
# number to check that no layer collapsed towards zero relative to the others (lesson 2's
# vanishing ratio was orders of magnitude below 1).
#
# ## 5. The test set, once
#
# With every choice made, we run one last health check and measure the chosen model on the test
# set. A **confusion matrix** counts, for every true class (row), which class was predicted
# (column): the diagonal holds the correct answers, and every off-diagonal cell is a particular
# mix-up.

# %%
final_model = networks[best_dropout]
final_model.set_weights(best["weights"])  # the chosen rate's network, as seed 0 left it
print(diagnose(final_model, probe_x, probe_y))
test_loss, test_accuracy = final_model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}  (chance {CHANCE:.0%}, majority class "
      f"{majority['test']:.1%}; test loss {test_loss:.3f}, uniform guess {CHANCE_LOSS:.3f})")

predicted = np.argmax(final_model.predict(x_test, verbose=0), axis=1)
counts = np.zeros((10, 10), dtype=int)
np.add.at(counts, (y_test, predicted), 1)
np.fill_diagonal(counts, 0)
print(f"{counts.sum()} mistakes in {len(y_test)} test digits, "
      f"in {np.count_nonzero(counts)} different (true, predicted) cells")
pairs = sorted(zip(*np.nonzero(counts)), key=lambda tp: (-counts[tp], tp))
print("most frequent confusions (true → predicted: count):")
for true, guess in pairs[:3]:
    print(f"  {true} → {guess}: {counts[true, guess]}")

# %%
plots.confusion_matrix(y_test, predicted, title="Digits test set: true vs predicted class")

# %% [markdown]
# Almost everything sits on the diagonal, far above the chance and majority baselines printed
# beside the test accuracy. The mistakes are spread thinly over the off-diagonal cells (their
# number is printed); the list names the most frequent mix-ups as *true → predicted* pairs,
# ties in class order. Those pairs are where to look if you wanted to improve further.
#
# ## Summary
#
# - **Logits and softmax**: a $K$-class network ends in $K$ linear units (logits); softmax
#   turns them into probabilities that sum to 1. `keras.ops.softmax` computes them for display.
# - **Cross-entropy from logits**: the loss is $-\log p_{\text{label}}$; with
#   `from_logits=True` the loss applies the softmax itself, which is more accurate.
# - **Sparse vs one-hot labels**: integer labels with `SparseCategoricalCrossentropy`, one-hot
#   rows with `CategoricalCrossentropy`; the same loss value.
# - **Train / validation / test**: fit on the training data, choose (dropout rate, model) on the
#   validation data, measure once on the test data.
# - **Choosing with seeds**: one run per setting is one draw of weights and masks. With three
#   seeds per dropout rate, compare the gap between the rates with the spread between seeds;
#   section 4 prints which is larger. Dropout is a remedy for overfitting, not a default: keep
#   it only when the validation loss shows it helps by more than the seeds disagree.
# - **The workflow**: diagnose before training (vanishing gradients found without a single
#   step), train with `GradientMonitor` and `DeadReLUMonitor`, and read the **confusion
#   matrix** as the most frequent *true → predicted* pairs.
#
# ## 6. Exercises
#
# ### Exercise 1 — one-hot labels
#
# Write `one_hot(labels, num_classes)`: for integer labels, an array of shape
# `(len(labels), num_classes)` with a 1 in column `labels[i]` of row `i` and zeros elsewhere. Use
# `num_classes` for the width: a small batch may not contain the highest class.


# %%
def one_hot(labels, num_classes):
    """One row per example with a single 1 in the column of its class."""
    # BEGIN SOLUTION q1
    out = np.zeros((len(labels), num_classes))
    out[np.arange(len(labels)), labels] = 1
    return out
    # END SOLUTION


# %%
ex.q1.check(one_hot)

# %% [markdown]
# ### Exercise 2 — a softmax that does not overflow
#
# Write `softmax(logits)` for a 2-D array with one row of logits per example; each row of the
# result must sum to 1. `np.exp(1000)` overflows to infinity, and the check uses logits that
# large: find a way around it (softmax does not change when you subtract the same number from a
# whole row).


# %%
def softmax(logits):
    """Row-wise softmax, shifted by each row's maximum so exp never overflows."""
    # BEGIN SOLUTION q2
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
    # END SOLUTION


# %%
ex.q2.check(softmax)

# %% [markdown]
# ### Exercise 3 — fix this broken model
#
# `ex.broken_model()` builds a digits network with several faults. Find them all (run
# `diagnose` on it, print `model.summary()`, look at each layer's activation and initializer:
# the report does not see every fault), then write `build_model()`, a zero-argument function
# that returns a repaired, **uncompiled** Keras model: 64 inputs and 10 outputs. The check
# clones it with fresh weights from a fixed seed, compiles it with Adam and
# `SparseCategoricalCrossentropy(from_logits=True)`, trains it on this lesson's whole training
# split for {{q3.epochs}} epochs (batches of {{q3.batch}}), and then
#
# - measures the accuracy on the **hidden split**, 269 digits that `datasets.load` never
#   returns: it must reach {{q3.target:.0%}} (chance is {{q3.chance:.0%}});
# - runs `diagnose` on a probe batch, before and after training: no vanishing, exploding,
#   dead-ReLU or saturation finding is allowed.

# %%
broken = compiled(reinitialize(ex.broken_model(), seed=0))
for layer in broken.layers:
    init = layer.kernel_initializer
    print(f"{layer.name:9s} {layer.units:3d} units, activation {layer.activation.__name__:8s}"
          f" kernel {type(init).__name__}{getattr(init, 'stddev', '')}")
for finding in diagnose(broken, probe_x, probe_y):
    print(f"finding: {finding.kind} in {finding.layer}")


# %%
def build_model():
    """Two ReLU layers (He init) and a linear 10-logit output: every fault removed."""
    # BEGIN SOLUTION q3
    return build_mlp(64, depth=2, width=128, output_units=10)
    # END SOLUTION


# %% tags=["nbval-ignore-output"]
ex.q3.check(build_model)

# %% [markdown]
# ### Exercise 4 — diagnose four recorded runs
#
# `ex.q4.recorded()` holds four short training runs on the digits that this notebook did not
# train. Each has a `description` of what was trained, its Keras `history`, the monitors
# `grads` and `dead` (with the usual accessors, e.g. `grads.at(0)`), and `plot()`: losses with
# the uniform-guess baseline dashed, gradient norms, update-to-weight ratios and dead units.
# For each run name the failure (one of `FAILURES`) and a remedy (one of `REMEDIES`). Two of
# the runs look alike in the loss panel: the other panels tell them apart.

# %%
from labkit.exercises.diagnosis import FAILURES, REMEDIES

recorded = ex.q4.recorded()
print("failures:", list(FAILURES))
print("remedies:", list(REMEDIES))
for run in recorded.values():
    print(f"{run.id}: {run.description}")

# %%
recorded["A"].plot()

# %%
recorded["B"].plot()

# %%
recorded["C"].plot()

# %%
recorded["D"].plot()

# %%
diagnosis = {}
diagnosis["A"] = ("overfitting", "dropout")  # SOLUTION q4
diagnosis["B"] = ("vanishing", "relu_he")  # SOLUTION q4
diagnosis["C"] = ("healthy", "none")  # SOLUTION q4
diagnosis["D"] = ("dead_relu", "leaky_relu")  # SOLUTION q4

# %%
ex.q4.check(diagnosis)

# %% [markdown]
# ## Playground challenge
#
# Like Exercise 3's network, this one has more than one fault. `ex.p1` hands out the `vanishing`
# preset of lesson 2's playground (ten sigmoid layers, Glorot initialization, the circles data),
# made worse: initial weights {{p1.start_init_scale:g}} times Glorot's size and SGD with a learning
# rate of {{p1.start_learning_rate:g}}. Change at most {{p1.max_changes}} controls so that after
# {{p1.steps}} steps the network beats always predicting the majority class by at least
# {{p1.margin_points}} percentage points on the test points, and the monitors report no vanishing,
# exploding or dead-ReLU finding. Read every panel before you change anything: fixing one fault can
# uncover the next.
#
# `pg.show()` opens the live app in Jupyter or Colab: change controls, press Play, watch the
# panels, then set `capstone_fix = pg.state` and check it (the check retrains your controls on
# its own seed). In a non-interactive run, such as building this notebook, `pg.show()` draws a
# static summary instead.

# %%
pg = ex.p1.playground()
pg.show()

# %%
capstone_fix = dict(pg.state, activation="tanh", init_scale=1.0, learning_rate=0.1)  # SOLUTION p1

# %% tags=["nbval-ignore-output"]
ex.p1.check(capstone_fix)

# %% [markdown]
# ## Test your knowledge
#
# These questions mix the whole course. Answer each with the key of one option, e.g. `"a"`.

# %%
ex.k1

# %%
answer_k1 = "b"  # SOLUTION k1

# %%
ex.k1.check(answer_k1)

# %%
ex.k2

# %%
answer_k2 = "d"  # SOLUTION k2

# %%
ex.k2.check(answer_k2)

# %%
ex.k3

# %%
answer_k3 = "c"  # SOLUTION k3

# %%
ex.k3.check(answer_k3)

# %%
ex.k4

# %%
answer_k4 = "a"  # SOLUTION k4

# %%
ex.k4.check(answer_k4)

# %%
ex.k5

# %%
answer_k5 = "b"  # SOLUTION k5

# %%
ex.k5.check(answer_k5)

# %%
ex.summary()

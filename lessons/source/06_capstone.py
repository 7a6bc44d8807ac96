# %% [markdown]
# # Lesson 6 — Capstone: multi-class classification
#
# Time to put the course together on a real task: recognising handwritten digits, ten classes.
# You will give the network a proper multi-class output (one logit per class, softmax, and the
# cross-entropy loss), check its health *before* training, train it with the gradient and
# dead-ReLU monitors switched on, choose a dropout rate with a validation set, and only then
# look at the test set once, with a confusion matrix to see which digits it mixes up.
#
# **Learning objectives**
#
# - turn logits into class probabilities with softmax, and explain why the loss takes logits
#   (`from_logits=True`);
# - use integer ("sparse") labels or one-hot labels with the matching loss, and show they agree;
# - run the full workflow: diagnose, train with monitors, regularize with dropout chosen on
#   validation data, evaluate on held-out test data, read a confusion matrix.

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
# would make its accuracy an optimistic, no longer independent, estimate.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("digits")
n_fit = int(0.8 * len(x_train))
x_fit, y_fit = x_train[:n_fit], y_train[:n_fit]
x_val, y_val = x_train[n_fit:], y_train[n_fit:]
print(f"fit {x_fit.shape}, validation {x_val.shape}, test {x_test.shape}")
print("examples per class in the fit split:", np.bincount(y_fit).tolist())

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
# The untrained network spreads its probability over all ten classes (none gets more than a
# quarter), so the loss is close to $-\log(1/10) \approx 2.30$, what a uniform guess costs.
# Keras's loss is exactly the mean of $-\log p_{\text{label}}$.
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

# %% [markdown]
# The first layer's gradient is thousands of times smaller than the largest: vanishing
# gradients, before a single step. The remedy the report names is the one from lesson 2: ReLU
# units with He initialization. Our candidate is two ReLU layers of 256 units (He
# initialization is `build_mlp`'s default for ReLU):

# %%
relu_model = compiled(reinitialize(build_mlp(64, depth=2, width=256, output_units=10), seed=0))
norms = layer_gradient_norms(relu_model, probe_x, probe_y)
print(f"first/last layer gradient ratio: {vanishing_ratio(norms):.1f}")
print(diagnose(relu_model, probe_x, probe_y))

# %% [markdown]
# ## 4. Train with monitors, choose dropout on the validation set
#
# We train the ReLU network with three dropout rates, 0.0, 0.2 and 0.4, each from the same
# initial weights (`labkit.models.reinitialize` draws them with NumPy, so they are the same on
# every Keras backend), with the examples in the same order every epoch (`shuffle=False`; the
# split is already shuffled) and for the same budget (20 epochs, batches of 64, Adam). Only the
# rate, and with it the random dropout masks, differs between runs. Each run carries a
# `GradientMonitor` and a `DeadReLUMonitor`, which watch the probe batch while `fit` runs and
# collect findings: exploding or vanishing gradients, layers whose ReLU units died. The rate
# with the lowest validation loss wins.

# %%
RATES = [0.0, 0.2, 0.4]
runs = {}
for rate in RATES:
    keras.utils.set_random_seed(0)  # the dropout masks
    model = build_mlp(64, depth=2, width=256, dropout=rate, output_units=10)
    model = compiled(reinitialize(model, seed=0))
    grads = GradientMonitor(probe=(probe_x, probe_y), verbose=0)
    dead = DeadReLUMonitor(probe=probe_x, verbose=0)
    history = model.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=ex.EPOCHS,
        batch_size=ex.BATCH_SIZE,
        shuffle=False,
        callbacks=[grads, dead],
        verbose=0,
    )
    runs[rate] = {"model": model, "history": history, "grads": grads, "dead": dead}

print(" rate  val loss  val acc  monitor findings  most dead units in a layer")
for rate, run in runs.items():
    logs = run["history"].history
    findings = run["grads"].findings + run["dead"].findings
    most_dead = max(max(run["dead"].values(layer)) for layer in run["dead"].layers())
    print(
        f"  {rate:.1f}  {logs['val_loss'][-1]:8.3f}  {logs['val_accuracy'][-1]:7.3f}"
        f"  {len(findings):16d}  {most_dead:.0%}"
    )

best_dropout = min(RATES, key=lambda r: runs[r]["history"].history["val_loss"][-1])
best = runs[best_dropout]
print(f"chosen dropout rate: {best_dropout}")

# %% [markdown]
# No run raised a single finding: the gradients stayed in a healthy range, and the largest
# dead fraction any layer reached at any record (last column) stayed far below the 50 % at which
# a layer is reported as dead. The
# validation loss picks the rate printed above. The curves of the chosen run, and its gradient
# norms per layer over training, as the monitor recorded them:

# %%
plots.training_curves(best["history"], title=f"Dropout {best_dropout}: fit and validation")

# %%
best["grads"].plot()

# %% [markdown]
# The training and validation curves stay close together, with no late rise of the validation
# loss. The gradient norms of all three layers (`hidden_1`, `hidden_2`, `output`) stay within
# one order of magnitude of each other for the whole run: they shrink together as the loss
# falls, which is what a converging network looks like. No layer collapses towards zero and none
# blows up.
#
# ## 5. The test set, once
#
# With every choice made, we run one last health check and measure the chosen model on the test
# set. A **confusion matrix** counts, for every true class (row), which class was predicted
# (column): the diagonal holds the correct answers, and every off-diagonal cell is a particular
# mix-up.

# %%
final_model = best["model"]
print(diagnose(final_model, probe_x, probe_y))
test_loss, test_accuracy = final_model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}  (test loss {test_loss:.3f})")

predicted = np.argmax(final_model.predict(x_test, verbose=0), axis=1)
counts = np.zeros((10, 10), dtype=int)
np.add.at(counts, (y_test, predicted), 1)
np.fill_diagonal(counts, 0)
wrong_as = counts.sum(axis=0)
print(f"{counts.sum()} mistakes in {len(y_test)} test digits")
print("mistakes by predicted class:", wrong_as.tolist())
print(f"class predicted wrongly most often: {np.argmax(wrong_as)} ({wrong_as.max()} times)")

# %%
plots.confusion_matrix(y_test, predicted, title="Digits test set: true vs predicted class")

# %% [markdown]
# Almost everything sits on the diagonal. The few mistakes are spread thinly over many cells;
# the column sums printed above ("mistakes by predicted class") show which wrong answers the
# network gives most often (the last line names the first of them). Those confusions are where
# to look if you wanted to improve further.
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
# ### Exercise 3 — your capstone model
#
# Write `build_model()`, a zero-argument function that returns an **uncompiled** Keras model for
# the flat digits: 64 inputs and 10 linear outputs. The check clones it with fresh weights from a
# fixed seed, compiles it with Adam and `SparseCategoricalCrossentropy(from_logits=True)`, trains
# it on the whole training split for {{q3.epochs}} epochs (batches of {{q3.batch}}), and then
#
# - measures the accuracy on the test split: it must be at least {{q3.target:.0%}};
# - runs `diagnose` on a probe batch: no vanishing, exploding or dead-ReLU finding is allowed.
#
# Use what the lesson measured, including the dropout rate the validation set chose
# (`best_dropout`).


# %%
def build_model():
    """Two ReLU layers (He init) with dropout and a linear 10-logit output."""
    # BEGIN SOLUTION q3
    return build_mlp(64, depth=2, width=256, dropout=best_dropout, output_units=10)
    # END SOLUTION


# %%
ex.q3.check(build_model)

# %% [markdown]
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
# - **The workflow**: diagnose before training (vanishing gradients found without a single
#   step), train with `GradientMonitor` and `DeadReLUMonitor`, regularize with dropout, and read
#   the **confusion matrix** to see which classes are confused.

# %%
ex.summary()

# %% [markdown]
# # Lesson 5 — Dropout regularization
#
# A network with many more weights than training examples can simply memorize its training set:
# the training loss goes to zero while the loss on new examples stops improving. This is
# **overfitting**. **Dropout** is a regularizer made for neural networks: during each training
# step it switches off a random subset of the hidden units, so no unit can rely on any particular
# partner being there. In this lesson you watch a network overfit, see exactly what a Keras
# `Dropout` layer computes, and sweep the dropout rate from 0.0 (no regularization) to 1.0 (every
# unit dropped).
#
# **Learning objectives**
#
# - recognise overfitting in training and validation curves;
# - explain inverted dropout: drop with probability `rate`, scale the survivors by 1/(1 − rate),
#   do nothing at inference — and verify it against `keras.layers.Dropout`;
# - choose a dropout rate with a validation set, and explain why 0.0 and 1.0 are the two useless
#   extremes.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np

from labkit import datasets, plots
from labkit.exercises import lesson05 as ex
from labkit.models import build_mlp, reinitialize

# %% [markdown]
# ## 1. A network that memorizes
#
# To make overfitting easy to see we give a large network very little data. The data are the
# spirals of lesson 2: points in the plane on three interleaved spiral arms, one class per arm.
# The network trains on only 60 points; the other 615 points of the training split are a
# **validation set** that it never trains on. The network has two hidden layers of 256 ReLU
# units — about 67,000 weights for 60 examples. The output layer is linear (3 logits), and the
# loss applies the softmax itself (`from_logits=True`).
#
# `train(rate)` builds and trains this network with a given dropout rate (a `Dropout` layer after
# each hidden layer when `rate > 0`). Every run starts from the same initial weights
# (`reinitialize` draws them with NumPy from a fixed seed) and sees the data in the same order, so
# the runs differ only in the rate. Each training step uses all 60 points as one batch (Adam,
# learning rate 0.003). To keep the lesson fast, one "epoch" here is 30 such steps: we stack 30
# copies of the 60 points, and `steps_per_execution` runs the 30 steps in one call (PyTorch only
# supports 1). Ten epochs make 300 steps.

# %%
(x_train, y_train), _ = datasets.load("spiral")
x_small, y_small = x_train[:60], y_train[:60]
x_val, y_val = x_train[60:], y_train[60:]
print(f"training examples: {len(x_small)}, validation examples: {len(x_val)}")

STEPS_PER_EPOCH = 30
EPOCHS = 10
x_steps = np.tile(x_small, (STEPS_PER_EPOCH, 1))
y_steps = np.tile(y_small, STEPS_PER_EPOCH)


def train(rate, validation=False):
    """The 2×256 ReLU network with dropout `rate`, trained on the 60 points from fixed weights."""
    keras.utils.set_random_seed(0)
    model = reinitialize(build_mlp(2, depth=2, width=256, dropout=rate, output_units=3), seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=1 if keras.backend.backend() == "torch" else STEPS_PER_EPOCH,
    )
    history = model.fit(
        x_steps,
        y_steps,
        batch_size=len(x_small),
        epochs=EPOCHS,
        shuffle=False,
        validation_data=(x_val, y_val) if validation else None,
        verbose=0,
    )
    return model, history


def final_metrics(model, rate):
    """Loss and accuracy on the training and validation sets, in inference mode (nothing dropped).

    A direct call `model(x, training=False)` gives the same numbers as `model.evaluate`, faster.
    """
    metrics = {"rate": rate}
    for prefix, x, y in (("", x_small, y_small), ("val_", x_val, y_val)):
        logits = model(x, training=False)
        metrics[prefix + "loss"] = float(model.loss(y, logits))
        predicted = np.argmax(keras.ops.convert_to_numpy(logits), axis=1)
        metrics[prefix + "accuracy"] = float(np.mean(predicted == y))
    return metrics


# %%
plain_model, plain_history = train(0.0, validation=True)
plain = final_metrics(plain_model, 0.0)
train_losses = plain_history.history["loss"]
val_losses = plain_history.history["val_loss"]
best_epoch = int(np.argmin(val_losses)) + 1
print(f"final training loss    {plain['loss']:.4f}   accuracy {plain['accuracy']:.2f}")
print(f"final validation loss  {plain['val_loss']:.3f}    accuracy {plain['val_accuracy']:.2f}")
print(
    f"from epoch {best_epoch} (lowest validation loss) to epoch {EPOCHS}: training loss "
    f"{train_losses[best_epoch - 1]:.4f} -> {train_losses[-1]:.4f}, validation loss "
    f"{val_losses[best_epoch - 1]:.3f} -> {val_losses[-1]:.3f}"
)

# %%
curves = plots.training_curves(plain_history, title="No dropout: 60 training points, 2×256 network")
curves.axes[0].set_yscale("log")  # the losses span several orders of magnitude
curves

# %% [markdown]
# This is the signature of overfitting (the loss panel has a log scale). The training loss
# (blue) keeps falling, by orders of magnitude, and the training accuracy reaches 100 % within a
# few epochs: every one of the 60 points is memorized. The validation loss (orange) improves only
# during those first epochs. From its lowest point on it no longer falls — it even creeps up a
# little — while the training loss still shrinks more than thirty-fold, and at the end the
# validation loss is hundreds of times the training loss. The network only grows more confident
# on its 60 training points, and that does not carry over to new ones: the validation accuracy
# stays below the training accuracy of 1.00.

# %% [markdown]
# ## 2. What dropout computes
#
# In every training step, dropout sets each hidden unit's output to zero with probability `rate`,
# independently, and a new random subset is dropped at the next step. The network therefore
# cannot build features that only work when one exact set of units is present; each unit must be
# useful on its own, in many different sub-networks. That is what makes dropout a regularizer.
#
# Dropping units changes the size of the signal: with `rate = 0.3`, only 70 % of the units
# contribute, so the next layer would see inputs about 30 % smaller in training than at test
# time, when nothing is dropped. Keras uses **inverted dropout** to fix this: the units that
# survive are divided by $1 - r$ during training (writing $r$ for the rate),
#
# $$\text{out} = \frac{m \odot x}{1 - r}, \qquad m_i \sim \text{Bernoulli}(1 - r),$$
#
# so the expected value of every output is unchanged,
# $\mathbb{E}[\text{out}_i] = (1-r)\cdot x_i/(1-r) = x_i$, and at inference
# the layer does nothing at all. Let us check each claim on a Keras `Dropout` layer, with an input
# of all ones so the effect is easy to read.

# %%
x = np.ones((2000, 50), dtype="float32")
layer = keras.layers.Dropout(0.3, seed=0)
out_train = keras.ops.convert_to_numpy(layer(x, training=True))
out_infer = keras.ops.convert_to_numpy(layer(x, training=False))

kept = out_train[out_train != 0]
print("training mode (rate 0.3):")
print(f"  fraction of zeros      {np.mean(out_train == 0):.2f}   (the rate: 0.30)")
print(
    f"  value of kept units    {kept.min():.3f} to {kept.max():.3f}   (1/(1 - 0.3) = {1 / 0.7:.3f})"
)
print(f"  mean of the output     {out_train.mean():.2f}   (the input's mean: 1.00)")
print("inference mode:")
print(f"  output equals input    {np.array_equal(out_infer, x)}")

# %% [markdown]
# All three claims hold: about 30 % of the entries are zero, every kept entry is exactly
# 1/(1 − 0.3) ≈ 1.429, and so the mean stays at 1.00; with `training=False` the layer returns its
# input unchanged. Keras passes `training=True` inside `fit` and `training=False` inside
# `evaluate` and `predict`, so you never set it by hand.
#
# What about `rate = 1.0`? The formula would divide by 1 − 1 = 0. Keras (on TensorFlow, JAX and
# PyTorch alike) treats that rate as a special case and returns zeros, so training does not
# produce NaN:

# %%
out_all = keras.ops.convert_to_numpy(keras.layers.Dropout(1.0)(x, training=True))
print(
    f"rate 1.0, training mode: all zeros {np.all(out_all == 0)}, any NaN {np.isnan(out_all).any()}"
)

# %% [markdown]
# ## 3. Sweeping the dropout rate
#
# Now we train the same network with dropout rates 0.0, 0.1, 0.3, 0.5, 0.8 and 1.0 and record, for
# each, the final loss and accuracy on the training set and on the validation set (both measured
# in inference mode, with nothing dropped). The 0.0 run is the network from section 1.

# %%
RATES = [0.0, 0.1, 0.3, 0.5, 0.8, 1.0]
models = {0.0: plain_model}
results = [plain]
for rate in RATES[1:]:
    models[rate], _ = train(rate)
    results.append(final_metrics(models[rate], rate))

print(" rate  train loss  val loss  train acc  val acc")
for r in results:
    print(
        f"  {r['rate']:.1f}  {r['loss']:10.3f}  {r['val_loss']:8.3f}"
        f"  {r['accuracy']:9.2f}  {r['val_accuracy']:7.2f}"
    )
best = min(results, key=lambda r: r["val_loss"])
print(
    f"lowest validation loss: {best['val_loss']:.3f} at rate {best['rate']}, "
    f"{plain['val_loss'] / best['val_loss']:.1f}× lower than without dropout"
)

# %%
sweep = plots.dropout_sweep(results)
sweep.axes[0].set_yscale("log")
sweep

# %% [markdown]
# Read the figure from left to right.
#
# - **0.0 — no regularization.** The training loss is near zero and the validation loss is far
#   above it (note the log scale): the overfitting of section 1.
# - **0.1 to 0.5.** As the rate grows, the training loss rises (memorizing is harder when units
#   vanish at every step) and the gap between the two curves shrinks. The validation loss falls
#   well below the no-dropout run's — several times lower at the best rate, as printed under the
#   table — and the validation accuracy gains a point or two: the network's predictions on new
#   points are less often confidently wrong. These are the useful rates.
# - **0.8.** Most units are gone in every step; within the same 300 steps the network can no
#   longer even fit its 60 training points (training accuracy about 0.8), and both losses are
#   higher than with no dropout at all: that is **underfitting**.
# - **1.0 — every unit dropped.** The model learns nothing: both accuracies fall to about 0.3,
#   the accuracy of guessing one of 3 classes at random.
#
# The best rate is chosen on the validation set, never on the training set: the training loss
# always prefers no dropout at all.

# %% [markdown]
# ## 4. Rate 1.0 up close: nothing to learn from
#
# Why does rate 1.0 learn *nothing*, rather than just learning slowly? In training mode every
# hidden output is zero, so the output layer sees only zeros and the gradient of the loss with
# respect to every hidden weight, and to the output layer's kernel, is exactly zero. Only the
# output layer's bias receives a gradient: the model can learn how common each class is, and
# nothing about the inputs. We can see that directly: rebuild the network with the same initial
# weights and compare it with the trained rate-1.0 model, layer by layer.

# %%
initial = reinitialize(build_mlp(2, depth=2, width=256, dropout=1.0, output_units=3), seed=0)
trained = models[1.0]
for before, after in zip(initial.layers, trained.layers):
    for w0, w1 in zip(before.weights, after.weights):
        change = np.abs(keras.ops.convert_to_numpy(w1) - keras.ops.convert_to_numpy(w0)).max()
        print(f"{w1.path:32s} largest change during training: {change:.3f}")

# %% [markdown]
# Every weight except the output bias is exactly where it started. At inference Keras switches
# dropout off, so predictions come from those untouched random weights: a random guess. Compare
# the rate-1.0 model's validation accuracy with the chance level of a 3-class problem:

# %%
chance = 1 / len(np.unique(y_val))
majority = np.bincount(y_val).max() / len(y_val)
print(f"chance level (1 of 3 classes):         {chance:.2f}")
print(f"always predicting the commonest class: {majority:.2f}")
print(f"rate 1.0 model, validation accuracy:   {results[-1]['val_accuracy']:.2f}")

# %% [markdown]
# ## 5. Exercises
#
# ### Exercise 1 — dropout in NumPy
#
# Write `dropout_forward(x, rate, training, seed)`, inverted dropout on a NumPy array. In
# training mode, zero each entry with probability `rate` using random numbers from
# `np.random.default_rng(seed)`, and divide the kept entries by 1 − rate; with `training=False`
# return `x` unchanged. Rate 1.0 must return zeros (not NaN). The check calls your function on
# arrays and rates you have not seen and tests it statistically: the fraction of zeros, the
# scaling of the survivors, the mean, and the identity at inference.


# %%
def dropout_forward(x, rate, training, seed):
    """Inverted dropout: zero entries with probability rate, scale the rest by 1/(1 - rate)."""
    # BEGIN SOLUTION q1
    if not training or rate == 0:
        return x
    if rate == 1:
        return np.zeros_like(x)
    rng = np.random.default_rng(seed)
    keep = rng.random(x.shape) >= rate
    return x * keep / (1 - rate)
    # END SOLUTION


# %%
ex.q1.check(dropout_forward)

# %% [markdown]
# ### Exercise 2 — choose the rate
#
# `sweep_record` below holds the final metrics of another dropout sweep, on a 10-class problem
# (chance accuracy 0.10), one dict per rate (the same keys as `results` above). Set `best_rate`
# to the rate with the lowest validation loss; compute it from the record rather than typing a
# number.

# %%
sweep_record = ex.SWEEP_RECORD
for r in sweep_record:
    print(r)

# %%
best_rate = min(sweep_record, key=lambda r: r["val_loss"])["rate"]  # SOLUTION q2

# %%
ex.q2.check(best_rate)

# %% [markdown]
# ### Exercise 3 — what does rate 1.0 do?
#
# Set `rate_one_answer` to the letter of the right option, e.g. `"a"`.

# %%
for letter, text in ex.CHOICES.items():
    print(f"({letter}) {text}")

# %%
rate_one_answer = "b"  # SOLUTION q3

# %%
ex.q3.check(rate_one_answer)

# %% [markdown]
# ## Summary
#
# - **Overfitting**: the training loss keeps falling while the validation loss stops improving,
#   far above it; the model memorizes its training set instead of learning what carries over.
# - **Validation set**: examples held out of training and used to make choices such as the
#   dropout rate; the training loss always prefers less regularization.
# - **Dropout**: in each training step, every hidden unit is dropped (set to 0) with probability
#   `rate`; a new random subset each step. It is a form of **regularization**: the more you drop,
#   the stronger it is.
# - **Inverted dropout**: the survivors are scaled by 1/(1 − rate) in training so the expected
#   output is unchanged; at inference (`training=False`) the layer is the identity.
# - **The two extremes**: 0.0 is no regularization; 1.0 drops every unit, so no gradient reaches
#   the hidden weights and the model learns nothing (chance-level accuracy). Rates in between are
#   the useful ones; pick one with the validation set.

# %%
ex.summary()

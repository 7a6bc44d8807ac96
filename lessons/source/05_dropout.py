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
# **validation set** that it never trains on and that we use to make choices (the dropout rate).
# The 225 points of the test split stay untouched until section 4. The network has two hidden
# layers of 128 ReLU units — over 17,000 weights for 60 examples (printed below). The output
# layer is linear (3 logits), and the loss applies the softmax itself (`from_logits=True`).
#
# Every loss and accuracy below is judged against what a model that ignores the inputs can do:
# **chance** accuracy (1 in 3) and the **class-frequency loss**, the cross-entropy of always
# predicting the class frequencies of the 60 training points.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("spiral")
x_small, y_small = x_train[:60], y_train[:60]
x_val, y_val = x_train[60:], y_train[60:]
print(
    f"training examples: {len(x_small)}, validation examples: {len(x_val)}, "
    f"test examples: {len(x_test)}"
)

frequencies = np.bincount(y_small, minlength=3) / len(y_small)


def frequency_loss(y):
    """Cross-entropy of always predicting the 60 training points' class frequencies."""
    return float(-np.mean(np.log(frequencies[y])))


CHANCE = 1 / 3
BASELINES = {"loss": frequency_loss(y_val), "accuracy": CHANCE}
print(f"class counts in the 60 training points: {np.bincount(y_small, minlength=3)}")
print(
    f"chance accuracy: {CHANCE:.2f};  majority-class accuracy on validation: "
    f"{np.bincount(y_val).max() / len(y_val):.2f}"
)
print(
    f"class-frequency loss: validation {frequency_loss(y_val):.3f}, "
    f"test {frequency_loss(y_test):.3f}  (ln 3 = {np.log(3):.3f})"
)

# %% [markdown]
# `train(rate, seed)` trains this network with a given dropout rate (a `Dropout` layer after each
# hidden layer when `rate > 0`). The seed fixes the initial weights and the dropout masks:
# `reinitialize` draws the weights with NumPy and restarts the masks' random stream; the data come
# in the same order every time. Each rate's network is built and compiled once and restarted for
# every seed, which saves Keras tracing its training step again for each run. Each
# training step uses all 60 points as one batch (Adam, learning rate 0.003). To keep the lesson
# fast, one "epoch" here is 30 such steps: `datasets.epoch_batches` hands `fit` the 60 points
# as one batch, step after step, `steps_per_epoch` makes 30 of them an epoch and
# `steps_per_execution` runs the 30 in one call. Ten epochs make 300 steps.
#
# *Backend note:* the lesson runs the same experiment on TensorFlow, JAX and PyTorch; PyTorch
# only supports `steps_per_execution=1`, which changes the speed, not the steps. The stored
# outputs come from TensorFlow.

# %%
STEPS_PER_EPOCH = 30
EPOCHS = 10


networks = {}  # one compiled network per rate


def train(rate, seed=0, validation=False):
    """The 2×128 ReLU network with dropout `rate`, trained on the 60 points from seed `seed`."""
    if rate not in networks:
        networks[rate] = build_mlp(2, depth=2, width=128, dropout=rate, output_units=3)
        networks[rate].compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
            steps_per_execution=1 if keras.backend.backend() == "torch" else STEPS_PER_EPOCH,
        )
    model = reinitialize(networks[rate], seed=seed)  # new weights and masks, optimizer zeroed
    batches, _ = datasets.epoch_batches(x_small, y_small, batch_size=len(x_small))
    history = model.fit(
        batches,
        steps_per_epoch=STEPS_PER_EPOCH,
        epochs=EPOCHS,
        shuffle=False,
        validation_data=(x_val, y_val) if validation else None,
        verbose=0,
    )
    return model, history


def evaluate(model, x, y):
    """Loss and accuracy in inference mode (nothing dropped), like `model.evaluate`, faster."""
    logits = model(x, training=False)
    accuracy = np.mean(np.argmax(keras.ops.convert_to_numpy(logits), axis=1) == y)
    return float(model.loss(y, logits)), float(accuracy)


def final_metrics(model, rate, seed):
    """The run's loss and accuracy on the training and on the validation set."""
    loss, accuracy = evaluate(model, x_small, y_small)
    val_loss, val_accuracy = evaluate(model, x_val, y_val)
    return {
        "rate": rate,
        "seed": seed,
        "loss": loss,
        "val_loss": val_loss,
        "accuracy": accuracy,
        "val_accuracy": val_accuracy,
    }


# %%
plain_model, plain_history = train(0.0, validation=True)
plain = final_metrics(plain_model, 0.0, 0)
print(f"weights: {plain_model.count_params():,} for {len(x_small)} training points")
train_losses = plain_history.history["loss"]
val_losses = plain_history.history["val_loss"]
best_epoch = int(np.argmin(val_losses)) + 1
print(f"final training loss    {plain['loss']:.4f}   accuracy {plain['accuracy']:.2f}")
print(f"final validation loss  {plain['val_loss']:.3f}    accuracy {plain['val_accuracy']:.2f}")
print(f"class-frequency loss   {BASELINES['loss']:.3f}    chance accuracy {CHANCE:.2f}")
print(
    f"from epoch {best_epoch} (lowest validation loss) to epoch {EPOCHS}: training loss "
    f"{train_losses[best_epoch - 1]:.4f} -> {train_losses[-1]:.4f} "
    f"({train_losses[best_epoch - 1] / train_losses[-1]:.0f}× lower), validation loss "
    f"{val_losses[best_epoch - 1]:.3f} -> {val_losses[-1]:.3f}"
)
print(f"final validation loss / training loss: {plain['val_loss'] / plain['loss']:.0f}")

# %%
curves = plots.training_curves(
    plain_history, title="No dropout: 60 training points, 2×128 network", baselines=BASELINES
)
curves.axes[0].set_yscale("log")  # the losses span several orders of magnitude
curves

# %% [markdown]
# This is the signature of overfitting (the loss panel has a log scale; the dashed lines are the
# class-frequency loss and chance accuracy). The training loss (blue) keeps falling, by orders of
# magnitude, and the training accuracy reaches 1.00: every one of the 60 points is memorized.
# The validation loss (orange) improves only during the first epochs. From its lowest point on
# it no longer falls — it creeps up a little — while the training loss still shrinks by the
# factor printed above, and at the end the validation loss is hundreds of times the training
# loss. The network has learned something real (its validation loss is far below the
# class-frequency loss and its validation accuracy far above chance), but after its best epoch
# it only grows more confident on its 60 training points, and that does not carry over.

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
# What about `rate = 1.0`? The formula would divide by 1 − 1 = 0. Keras treats that rate as a
# special case and returns zeros, so training does not produce NaN:

# %%
out_all = keras.ops.convert_to_numpy(keras.layers.Dropout(1.0)(x, training=True))
print(
    f"rate 1.0, training mode: all zeros {np.all(out_all == 0)}, any NaN {np.isnan(out_all).any()}"
)

# %% [markdown]
# ## 3. Sweeping the dropout rate, over three seeds
#
# Now we train the same network with dropout rates 0.0, 0.3, 0.5, 0.8 and 1.0, each from
# three seeds (0, 1, 2: different initial weights and dropout masks), and record the final loss
# and accuracy on the training and on the validation set (both in inference mode, nothing
# dropped). One run is one draw of the noise; only the spread over seeds tells whether a
# difference between two rates is real. The run (0.0, seed 0) is the network of section 1.
#
# **Predict, then run.** Before you run the sweep, decide how the validation loss will depend on
# the rate: write the key of your answer into `prediction`, run the sweep, then check your
# prediction.

# %%
ex.predict

# %%
prediction = "c"  # SOLUTION predict

# %%
RATES = [0.0, 0.3, 0.5, 0.8, 1.0]
SEEDS = [0, 1, 2]
results, trained_weights = [], {}
for rate in RATES:
    for seed in SEEDS:
        # (0.0, 0) is section 1's run: its network still holds the weights that run ended with
        model = plain_model if (rate, seed) == (0.0, 0) else train(rate, seed)[0]
        results.append(final_metrics(model, rate, seed))
        trained_weights[rate, seed] = model.get_weights()


def trained_network(rate, seed):
    """The network of `rate` holding the weights that the run (rate, seed) ended with."""
    networks[rate].set_weights(trained_weights[rate, seed])
    return networks[rate]


table = {k: np.array([r[k] for r in results]).reshape(len(RATES), len(SEEDS)) for k in results[0]}
print(" rate  train loss  val loss (min-max)     train acc  val acc (min-max)")
for i, rate in enumerate(RATES):
    vl, va = table["val_loss"][i], table["val_accuracy"][i]
    print(
        f"  {rate:.1f}  {table['loss'][i].mean():10.4f}  {vl.mean():8.3f} ({vl.min():.3f}-"
        f"{vl.max():.3f})  {table['accuracy'][i].mean():9.2f}  {va.mean():7.2f} ({va.min():.2f}-"
        f"{va.max():.2f})"
    )
print(f"baselines: class-frequency loss {BASELINES['loss']:.3f}, chance accuracy {CHANCE:.2f}")

# %%
ex.predict.check(prediction)

# %%
sweep = plots.dropout_sweep(results, baselines=BASELINES)
sweep.axes[0].set_yscale("log")
sweep

# %% [markdown]
# Each line is the mean of the three seeds, the shaded band runs from the lowest to the highest
# seed, and the dashed lines are the class-frequency loss and chance. Read the figure from left
# to right.
#
# - **0.0 — no regularization.** The training loss is near zero and the validation loss is far
#   above it (note the log scale): the overfitting of section 1, on every seed.
# - **0.3 and 0.5.** As the rate grows, the training loss rises (memorizing is harder when units
#   vanish at every step) and the gap between the two curves shrinks. The validation loss falls
#   well below the no-dropout runs' on every seed (its worst seed is still below the best seed
#   without dropout), and the validation accuracy gains a point or two. These are the useful
#   rates.
# - **0.8.** Most units are gone in every step; within the same 300 steps the network can no
#   longer even fit its 60 training points, and both losses are higher than with no dropout at
#   all: that is **underfitting**.
# - **1.0 — every unit dropped.** The model learns nothing: both accuracies sit at chance, and
#   the mean validation loss is above the class-frequency loss (section 5 shows why).

# %% [markdown]
# ## 4. Choosing the rate honestly
#
# We choose the rate with the lowest validation loss averaged over the seeds — never by the
# training loss, which always prefers no dropout. Two cautions. First, is the winner really
# better than its neighbours, or is the difference smaller than the spread between seeds?
# Second, the winner's validation loss is the lowest of five averages, so it flatters the winner
# a little: the number to report comes from the test split, which played no part in the choice.

# %%
mean_val = table["val_loss"].mean(axis=1)
order = np.argsort(mean_val)
best, second = order[0], order[1]
spread = table["val_loss"].max(axis=1) - table["val_loss"].min(axis=1)
print(f"lowest mean validation loss: {mean_val[best]:.3f} at rate {RATES[best]}")
print(f"runner-up:                   {mean_val[second]:.3f} at rate {RATES[second]}")
print(
    f"difference {mean_val[second] - mean_val[best]:.3f}; spread over seeds "
    f"{spread[best]:.3f} (rate {RATES[best]}) and {spread[second]:.3f} (rate {RATES[second]})"
)
chosen = RATES[best]
print(f"\ntest split (never used for a choice), mean over the {len(SEEDS)} seeds:")
print("  model            test loss  test accuracy")
for label, rate in (("no dropout", 0.0), (f"dropout {chosen}", chosen)):
    scores = np.array([evaluate(trained_network(rate, seed), x_test, y_test) for seed in SEEDS])
    print(f"  {label:15s}  {scores[:, 0].mean():9.3f}  {scores[:, 1].mean():13.2f}")
print(f"  {'class frequency':15s}  {frequency_loss(y_test):9.3f}  {CHANCE:13.2f} (chance)")

# %% [markdown]
# The spread is larger than the difference between the two best rates: 0.3 beats 0.5 by 0.036 in
# mean validation loss, while the three seeds of each rate spread over about 0.05, and their
# ranges overlap (0.077–0.131 for 0.3, 0.116–0.164 for 0.5, in the sweep's table). On this
# evidence 0.3 and 0.5 are about equally good; we take 0.3 because it has the lower mean. The
# difference from no dropout is real: its best seed, 0.202, is above the worst seed of either
# rate.
#
# On the test split the chosen rate halves the loss of the no-dropout network (0.156 against
# 0.308), both far below the class-frequency loss. The accuracy, though, barely moves (0.95 and
# 0.96): here dropout hardly makes the network right more often, it makes it less *confidently
# wrong* on the points it misses, which is what the cross-entropy loss measures.

# %% [markdown]
# ## 5. Rate 1.0 up close: nothing to learn from
#
# Why does rate 1.0 learn *nothing*, rather than just learning slowly? In training mode every
# hidden output is zero, so the output layer sees only zeros and the gradient of the loss with
# respect to every hidden weight, and to the output layer's kernel, is exactly zero. Only the
# output layer's bias receives a gradient: the model can learn how common each class is, and
# nothing about the inputs. We can see that directly: rebuild the network with the same initial
# weights and compare it with the trained rate-1.0 model (seed 0), layer by layer.

# %%
initial = reinitialize(build_mlp(2, depth=2, width=128, dropout=1.0, output_units=3), seed=0)
trained = trained_network(1.0, 0)
for before, after in zip(initial.layers, trained.layers):
    for w0, w1 in zip(before.weights, after.weights):
        change = np.abs(keras.ops.convert_to_numpy(w1) - keras.ops.convert_to_numpy(w0)).max()
        print(f"{w1.path:32s} largest change during training: {change:.3f}")

# %% [markdown]
# Every weight except the output bias is exactly where it started. In training mode the model
# is therefore a class-frequency predictor. At inference Keras switches dropout off, so the
# untouched random hidden weights do reach the output, through a kernel that was never trained:
# the predictions are a random guess, and a confident one: worse than the class-frequency
# predictor that the training-mode model is.

# %%
train_mode_loss = float(trained.loss(y_small, trained(x_small, training=True)))
val_loss_one, val_accuracy_one = evaluate(trained, x_val, y_val)
print(
    f"training mode, 60 training points: loss {train_mode_loss:.3f}   "
    f"(class-frequency loss there: {frequency_loss(y_small):.3f})"
)
print(
    f"inference mode, validation:        loss {val_loss_one:.3f}   "
    f"(class-frequency loss: {BASELINES['loss']:.3f})"
)
print(f"inference mode, validation accuracy {val_accuracy_one:.2f}   (chance: {CHANCE:.2f})")

# %% [markdown]
# ## Summary
#
# - **Overfitting**: the training loss keeps falling while the validation loss stops improving,
#   far above it; the model memorizes its training set instead of learning what carries over.
# - **Baselines**: judge every loss and accuracy against a model that ignores the inputs — chance
#   accuracy (1/3 here) and the class-frequency loss (≈ ln 3 here).
# - **Dropout**: in each training step, every hidden unit is dropped (set to 0) with probability
#   `rate`; a new random subset each step. It is a form of **regularization**: the more you drop,
#   the stronger it is.
# - **Inverted dropout**: the survivors are scaled by 1/(1 − rate) in training so the expected
#   output is unchanged; at inference (`training=False`) the layer is the identity.
# - **Choosing the rate**: on a validation set, averaged over several seeds; check whether the
#   difference between the best rates is larger than the spread between seeds, and report the
#   chosen model on a test split that played no part in the choice.
# - **The two extremes**: 0.0 is no regularization; 1.0 drops every unit, so no gradient reaches
#   the hidden weights and the model learns nothing (chance-level accuracy). Too high a rate
#   underfits.

# %% [markdown]
# ## Exercises
#
# %% [markdown]
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
# ### Exercise 2 — choose the rate from a sweep over seeds
#
# Write `choose_rate(record)`. `record` is a list of dicts, one per training run, with the keys of
# `results` above: `rate`, `seed`, `loss`, `val_loss`, `accuracy`, `val_accuracy`; every rate
# was run from the same number of seeds. Return the rate you would choose, as section 4 did. The
# check calls your function on sweep records you have not seen (other rates, other seeds, runs
# in any order).


# %%
def choose_rate(record):
    """The dropout rate with the lowest validation loss, averaged over its seeds."""
    # BEGIN SOLUTION q2
    by_rate = {}
    for run in record:
        by_rate.setdefault(run["rate"], []).append(run["val_loss"])
    return min(by_rate, key=lambda rate: np.mean(by_rate[rate]))
    # END SOLUTION


# %%
ex.q2.check(choose_rate)

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
# ### Exercise 4 — diagnose three runs
#
# Three runs of a wider, 2×256 network on 60 spiral points were recorded for you (you have not
# seen them). For each, `run.description` says what was trained, `run.history` holds its
# `loss` and `val_loss` per epoch, and `run.plot()` draws four panels: the losses with the
# class-frequency loss dashed, the gradient norms, the update-to-weight ratios and the dead
# ReLU fractions. Name what went wrong with each run and the remedy, using the words of
# `FAILURES` and `REMEDIES` below, e.g. `diagnosis["A"] = ("exploding", "batch_norm")`.

# %%
from labkit.exercises.diagnosis import FAILURES, REMEDIES

print("failures:", ", ".join(FAILURES))
print("remedies:", ", ".join(REMEDIES))
runs = ex.q4.recorded()
for run_id, run in runs.items():
    print(f"{run_id}: {run.description}")

# %%
runs["A"].plot()

# %%
runs["B"].plot()

# %%
runs["C"].plot()

# %%
diagnosis = {}
diagnosis["A"] = ("overfitting", "dropout")  # SOLUTION q4
diagnosis["B"] = ("lr_too_low", "raise_lr")  # SOLUTION q4
diagnosis["C"] = ("healthy", "none")  # SOLUTION q4

# %%
ex.q4.check(diagnosis)

# %% [markdown]
# ## Playground challenge
#
# The playground trains a small network on a 2-D dataset while you watch it: its decision
# boundary, its training and test losses and its diagnostics. `pg.show()` opens the live app in
# Jupyter or Colab: change the controls, press Play and watch the panels; when you are done,
# store the set-up with `overfitting_fix = pg.state` and check it. The check retrains your
# set-up on its own seed. In a non-interactive run `pg.show()` draws a static summary instead.
#
# You get the `overfitting` set-up: {{p1.start_depth}} ReLU layers of {{p1.start_width}} units
# trained on only 40 noisy points of the `circles` data (one class inside a ring of the other). It
# memorizes them, as the network of section 1 did: the training loss goes towards 0 while the test
# loss climbs. Change **{{p1.max_changes}}** control, and only `dropout` or `l2` (a penalty on large
# weights, another regularizer), so that after {{p1.steps}} steps the test loss is below
# {{p1.loss_below:g}} and the test accuracy beats always predicting the majority class by at least
# {{p1.margin_points}} percentage points, and the playground no longer reports overfitting (a test
# loss that climbs from its lowest while the training loss falls). As in the sweep, too little
# regularization still overfits and too much underfits.

# %%
pg = ex.p1.playground()
pg.show()

# %%
overfitting_fix = {**pg.state, "dropout": 0.5}  # SOLUTION p1

# %% tags=["nbval-ignore-output"]
ex.p1.check(overfitting_fix)

# %% [markdown]
# ## Test your knowledge
#
# Answer each question with the key of one option, e.g. `answer_k1 = "a"`, then check it.

# %%
ex.k1

# %%
answer_k1 = "c"  # SOLUTION k1

# %%
ex.k1.check(answer_k1)

# %%
ex.k2

# %%
answer_k2 = "a"  # SOLUTION k2

# %%
ex.k2.check(answer_k2)

# %%
ex.k3

# %%
answer_k3 = "d"  # SOLUTION k3

# %%
ex.k3.check(answer_k3)

# %%
ex.k4

# %%
answer_k4 = "b"  # SOLUTION k4

# %%
ex.k4.check(answer_k4)

# %%
ex.k5

# %%
answer_k5 = "c"  # SOLUTION k5

# %%
ex.k5.check(answer_k5)

# %%
ex.summary()

# %% [markdown]
# # Lesson 3 — Exploding gradients
#
# In lesson 2 the gradient shrank on its way back through a deep network, because every layer
# multiplied it by a number smaller than 1. Here is the mirror image: when the weights are large,
# every layer multiplies the gradient by a number *larger* than 1, the gradients become enormous,
# each update overshoots, and within a few steps the loss is infinite and then NaN ("not a
# number"). You will watch that happen, catch it with labkit's `GradientMonitor`, and fix it
# three ways — batch normalization, a lower learning rate and gradient clipping — measuring each.
#
# **Learning objectives**
# - explain why a product of many factors larger than 1 explodes, and where such products
#   appear in backpropagation;
# - recognise exploding gradients in a loss history and stop training automatically with
#   `GradientMonitor(on_explode="stop")`;
# - fix them with batch normalization, a lower learning rate or gradient clipping, and say
#   which of the three changes the gradient itself and which only limits the step.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np
from matplotlib.figure import Figure

from labkit.callbacks import GradientMonitor
from labkit.exercises import lesson03 as ex
from labkit.gradients import layer_gradient_norms
from labkit.models import build_mlp, reinitialize

# %% [markdown]
# ## 1. Products of many large terms
#
# Backpropagation sends the error signal from the output back to the input one layer at a
# time. At each layer the signal is multiplied by that layer's weight matrix (transposed) and by
# the derivative of its activation. If each layer scales the signal's size by a factor $g$, then
# after $L$ layers it has been scaled by about
#
# $$g \cdot g \cdots g = g^L.$$
#
# In lesson 2, sigmoid layers had $g < 1$ and $g^L$ vanished. With ReLU, the derivative is 1 for
# active units, so $g$ is set by the size of the weights: a layer of $n$ inputs with weights of
# standard deviation $\sigma$ scales the signal by about $g = \sigma\sqrt{n/2}$. He
# initialization picks $\sigma = \sqrt{2/n}$ exactly so that $g = 1$. Double the weights and
# $g = 2$: ten layers give $2^{10} \approx 1000$, twenty give a million.
#
# Let us check that with nothing but NumPy: push a random error vector back through $L$ random
# ReLU layers of width 32 and measure its length after each one.

# %%
rng = np.random.default_rng(0)
width = 32
he_std = np.sqrt(2 / width)


def backprop_growth(std, layers=20):
    """Length of an error vector after passing back through each of `layers` ReLU layers."""
    signal = rng.normal(size=width)
    sizes = [np.linalg.norm(signal)]
    for _ in range(layers):
        weights = rng.normal(scale=std, size=(width, width))
        active = rng.random(width) < 0.5  # ReLU passes the signal through active units only
        signal = (weights.T @ signal) * active
        sizes.append(np.linalg.norm(signal))
    return np.array(sizes) / sizes[0]


growth = {
    f"std {he_std:.2f} (He, g = 1)": backprop_growth(he_std),
    f"std {2 * he_std:.2f} (2 x He, g = 2)": backprop_growth(2 * he_std),
}
for label, sizes in growth.items():
    print(f"{label:24s} after 5 layers: {sizes[5]:8.1e}   after 20 layers: {sizes[20]:8.1e}")

fig = Figure(figsize=(6.5, 3.6), layout="constrained")
ax = fig.add_subplot()
for label, sizes in growth.items():
    ax.plot(sizes, marker="o", markersize=3, label=label)
ax.set_yscale("log")
ax.set_xlabel("layers the error signal has passed back through")
ax.set_ylabel("size relative to the start (log)")
ax.set_title("Backpropagated signal: g = 1 stays level, g = 2 explodes")
ax.grid(True, alpha=0.3)
ax.legend()
fig

# %% [markdown]
# On a log axis a product of equal factors is a straight line. With He's standard deviation
# the line wanders around 1; with twice that it climbs by a factor of about 2 per layer and is
# near $10^6$ after 20 layers. That straight climb is the explosion. (A weight's gradient also
# multiplies in the *forward* activation feeding that layer, which grows the same way — so with
# large weights every layer's gradient is inflated, the lower layers most of all through the
# long chain of weights above them.)
#
# ## 2. A network that explodes
#
# Our task is a small regression: 8 random input features and a real-valued target
# $y = \sin x_1 + 0.5\,x_2 x_3 - 0.3\,x_4$. The network has 4 ReLU layers of 32 units and a
# linear output, trained with mean squared error (MSE) and plain SGD at learning rate 0.01 — a
# rate that works fine for a well-initialized network. The only change: weights drawn with
# standard deviation 0.5, twice He's 0.25. `make_model` draws those weights with NumPy
# (`labkit.models.reinitialize`), so TensorFlow, JAX and PyTorch all start from the same ones.

# %%
x = rng.normal(size=(512, 8)).astype("float32")
y = (np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3]).astype("float32")[:, None]
probe = (x[:256], y[:256])


def make_model(std=0.5, batch_norm=False):
    init = keras.initializers.RandomNormal(stddev=std)
    model = build_mlp(8, depth=4, width=32, kernel_initializer=init, batch_norm=batch_norm)
    return reinitialize(model, seed=1)


for std in (0.25, 0.5):
    model = make_model(std)
    model.compile(optimizer="sgd", loss="mse")
    norms = layer_gradient_norms(model, *probe)
    print(f"std {std}: " + "  ".join(f"{name} {n:.1e}" for name, n in norms.items()))

# %% [markdown]
# Before a single update, doubling the weights made every layer's gradient one to two hundred
# times larger. Now train it. Each step below uses the whole training set (batch size 512),
# so each entry of the loss history is one gradient step.

# %%
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
history = model.fit(x, y, batch_size=512, epochs=8, verbose=0)
print("loss per step:", [f"{loss:.2g}" for loss in history.history["loss"]])

# %% [markdown]
# The first update is so large that the loss jumps from about 200 to about $2\times10^4$; the
# gradient at the new weights is larger still, so the next step overshoots further ($10^7$,
# then $10^{32}$), and from the fifth step on every number is `nan`: the network is ruined.
# Gradients too large to converge: that is an exploding gradient.
#
# ## 3. Catching it: `GradientMonitor(on_explode="stop")`
#
# You do not want to discover this after an hour of training. `GradientMonitor` measures each
# layer's gradient norm on a probe batch during `fit`; when a norm is not finite or exceeds
# `exploding_norm` (default $10^3$) it records an `exploding` finding naming the layer, and with
# `on_explode="stop"` it also stops training.

# %%
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
monitor = GradientMonitor(probe=probe, on_explode="stop", verbose=0)
history = model.fit(x, y, batch_size=512, epochs=8, verbose=0, callbacks=[monitor])
f = monitor.findings[0]
step_0 = monitor.snapshot(0)
print(f"largest gradient norm at step 0 (before any update): {max(step_0.values()):.1e}")
norm = monitor.snapshot(f.step)[f.layer]
print(f"first finding: {f.kind} in layer {f.layer} at step {f.step} (norm {norm:.1e})")
print("training stopped:", model.stop_training, "after", len(history.history["loss"]), "step(s)")
print("last loss:", f"{history.history['loss'][-1]:.3g}")

# %% [markdown]
# Before any update the largest gradient norm was just under the alarm level of $10^3$. The
# first update, taken along those large gradients, overshot: at the new weights (step 1) every
# layer's gradient norm is above $10^4$, so the monitor recorded an `exploding` finding at the
# lowest layer, `hidden_1`, and stopped training after that one step, while the loss was still
# a finite number. The finding also names the remedies, which we try next.
#
# ## 4. Three remedies, measured
#
# We train the same large-init network with mini-batches of 128 for 10 epochs (40 steps),
# four ways:
#
# - **no remedy** — SGD at 0.01, as above;
# - **batch normalization** — `build_mlp(batch_norm=True)` puts a `BatchNormalization` layer
#   between each Dense layer and its ReLU. It rescales each unit's weighted sums over the batch
#   to mean 0 and variance 1, so however large the weights are, the next layer sees inputs of
#   size about 1: the factor $g$ of every layer is pulled back towards 1;
# - **a lower learning rate** — 3e-4 instead of 0.01: the gradients stay just as large, but each
#   step is 30 times shorter, so it no longer overshoots;
# - **gradient clipping** — `SGD(learning_rate=0.01, clipnorm=1.0)`: any gradient whose norm is
#   above 1.0 is scaled down to norm 1.0 before the update, so no single step can move the
#   weights by more than $0.01 \times 1.0$.
#
# A `GradientMonitor` (in its default `"warn"` mode) records the largest gradient norm in each.
# The examples are already in random order, so we train with `shuffle=False`: every backend then
# sees the same mini-batches.

# %%
remedies = {
    "no remedy": dict(learning_rate=0.01),
    "batch normalization": dict(learning_rate=0.01, batch_norm=True),
    "lower learning rate": dict(learning_rate=3e-4),
    "gradient clipping": dict(learning_rate=0.01, clipnorm=1.0),
}
results = {}
for name, options in remedies.items():
    model = make_model(batch_norm=options.get("batch_norm", False))
    optimizer = keras.optimizers.SGD(
        learning_rate=options["learning_rate"], clipnorm=options.get("clipnorm")
    )
    model.compile(optimizer=optimizer, loss="mse")
    monitor = GradientMonitor(probe=probe, every=8, verbose=0)
    history = model.fit(
        x, y, batch_size=128, epochs=10, verbose=0, shuffle=False, callbacks=[monitor]
    )
    largest = max(max(monitor.snapshot(step).values()) for step in monitor.steps())
    results[name] = (history.history["loss"], largest)

print(f"{'remedy':21s} {'final loss':>10s} {'max grad norm':>14s}  trained stably?")
for name, (losses, largest) in results.items():
    final = losses[-1]
    stable = "yes" if np.isfinite(final) else "no"
    print(f"{name:21s} {final:10.2f} {largest:14.1e}  {stable}")

# %%
fig = Figure(figsize=(7, 3.8), layout="constrained")
ax = fig.add_subplot()
for name, (losses, _) in results.items():
    shown = np.where(np.isfinite(losses), losses, np.nan)
    ax.plot(range(1, len(losses) + 1), shown, marker="o", markersize=3, label=name)
ax.set_yscale("log")
ax.set_xlabel("epoch (4 steps each)")
ax.set_ylabel("training loss, MSE (log)")
ax.set_title("Large initial weights: three remedies vs none")
ax.grid(True, alpha=0.3)
ax.legend()
fig

# %% [markdown]
# The "no remedy" run has no line at all: its loss was already `inf` in the first epoch and
# `nan` after that. All three remedies train to a finite, falling loss. The table's last
# column tells them apart:
#
# - with **batch normalization** the largest gradient norm is a few units, hundreds of times
#   smaller: normalizing each layer removed the product of large factors, so the gradient
#   itself is healthy, and this network also learns fastest;
# - with a **lower learning rate** and with **clipping** the largest gradient is still about
#   $10^3$ (the monitor measures the raw gradient, before any clipping): these two do not shrink
#   the gradient, they shrink the *step* taken along it. They are cheap and always available, but
#   a rate low enough for the first steps may be needlessly slow later, and a clip value has to
#   be chosen.
#
# ## Summary
#
# - **Exploding gradients**: when each layer scales the backpropagated signal by a factor
#   $g > 1$, a deep network multiplies many such factors, and the gradients grow like $g^L$ —
#   the mirror of vanishing gradients ($g < 1$). Large initial weights are the classic cause.
# - **Symptom**: the loss jumps up, becomes `inf`, then `nan`. **Detection**:
#   `GradientMonitor(probe=..., on_explode="stop")` names the first layer whose gradient norm is
#   not finite or above `exploding_norm`, and stops `fit`.
# - **Batch normalization** normalizes each layer's weighted sums, keeping every factor near 1:
#   it fixes the gradient itself.
# - **A lower learning rate** and **gradient clipping** (`clipnorm` on the optimizer) keep the
#   gradient but limit the step, so the updates stop overshooting.
#
# ## Exercises
#
# **Exercise 1.** Choose a plain-SGD learning rate for the large-init network. The check trains
# a fresh copy (another random initialization, fresh data) for {{q1.steps}} steps with batch size
# {{q1.batch}}; the loss must stay finite and end below {{q1.target:g}}. If your rate is too high it
# diverges; too low, it barely learns — the message says which.

# %%
learning_rate = 1e-3  # SOLUTION q1

# %%
ex.q1.check(learning_rate)

# %% [markdown]
# **Exercise 2.** The builder below is the exploding network written out layer by layer. Add
# batch normalization so that it trains with `SGD(learning_rate={{q2.learning_rate:g}})`, keeping
# the large initializer. The check trains your model for {{q2.steps}} steps and looks at what it
# does: the loss must stay finite and end below {{q2.target:g}}. The builder to start from (copy it
# into `build_model` and change it):
#
# ```python
# big = keras.initializers.RandomNormal(stddev=0.5)
# model = keras.Sequential([keras.Input(shape=(8,))])
# for _ in range(4):
#     model.add(keras.layers.Dense(32, activation="relu", kernel_initializer=big))
# model.add(keras.layers.Dense(1))
# return model
# ```


# %%
def build_model():
    # BEGIN SOLUTION q2
    big = keras.initializers.RandomNormal(stddev=0.5)
    model = keras.Sequential([keras.Input(shape=(8,))])
    for _ in range(4):
        model.add(keras.layers.Dense(32, kernel_initializer=big))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(1))
    return model
    # END SOLUTION


# %%
ex.q2.check(build_model)

# %% [markdown]
# **Exercise 3.** Now the learning rate is {{q3.learning_rate:g}} — five times the rate that
# already diverged. Pick the `clipnorm` value for
# `SGD(learning_rate={{q3.learning_rate:g}}, clipnorm=clip_value)` so the network still trains:
# the check runs {{q3.steps}} steps and wants a loss that never blows up and ends below
# {{q3.target:g}}.

# %%
clip_value = 10.0  # SOLUTION q3

# %%
ex.q3.check(clip_value)

# %%
ex.summary()

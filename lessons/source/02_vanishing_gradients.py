# %% [markdown]
# # Lesson 2 — Vanishing gradients
#
# In lesson 1 the gradient of a weight was a product of local derivatives along the path from the
# loss back to that weight. In a deep network that path is long: the gradient of the first
# layer's weights is a product of many factors, one or more per layer above it. When those factors
# are small, the product is tiny — the gradient **vanishes** — and the lower layers (those close
# to the input) barely learn. This lesson shows it happen, measures it, explains it and fixes it.
#
# **Learning objectives**
#
# - measure each layer's gradient norm during training with `GradientMonitor`;
# - recognise vanishing gradients: lower layers' norms orders of magnitude below the top's, and
#   their weights barely moving;
# - explain it with the sigmoid's derivative (at most 0.25) and the chain rule;
# - fix it with ReLU activations and He initialization, and measure the fix.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np
from matplotlib.figure import Figure

from labkit import datasets, plots
from labkit.callbacks import GradientMonitor
from labkit.exercises import lesson02 as ex
from labkit.gradients import vanishing_ratio
from labkit.models import build_mlp, reinitialize

# %% [markdown]
# ## 1. The data: three interleaved spirals
#
# Each point has 2 coordinates and belongs to one of 3 spiral arms. No straight line separates the
# arms, so a network needs its hidden layers to learn useful features: a good test of whether the
# lower layers learn at all.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("spiral")
print(f"train {x_train.shape}, test {x_test.shape}, classes {np.unique(y_train).tolist()}")

fig = Figure(figsize=(4, 4), layout="constrained")
ax = fig.add_subplot()
ax.scatter(x_train[:, 0], x_train[:, 1], c=y_train, cmap="viridis", s=8)
ax.set_title("Spiral data (training split)")
ax.set_aspect("equal")
fig

# %% [markdown]
# ## 2. A deep sigmoid network that does not learn
#
# We build a 10-hidden-layer network of 32 sigmoid units per layer (with the standard Glorot
# initialization) and train it with plain gradient descent, where each weight moves by its
# gradient times the learning rate. A `GradientMonitor` records every layer's gradient norm on a
# fixed probe batch of 256 training examples while `fit` runs; we also keep a copy of the weights
# to see how far each layer moves. (`reinitialize` draws the initial weights with NumPy and the
# data come already shuffled, so we train with `shuffle=False`: TensorFlow, JAX and PyTorch then
# run exactly the same experiment.)


# %%
def train(model, epochs=20):
    """Train with SGD; return the monitor and each layer's relative weight change."""
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    before = [layer.get_weights()[0] for layer in model.layers]
    monitor = GradientMonitor(probe=(x_train[:256], y_train[:256]), verbose=0)
    model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=64,
        shuffle=False,
        verbose=0,
        callbacks=[monitor],
    )
    after = [layer.get_weights()[0] for layer in model.layers]
    change = {
        layer.name: np.linalg.norm(a - b) / np.linalg.norm(b)
        for layer, b, a in zip(model.layers, before, after)
    }
    return monitor, change


sigmoid_model = build_mlp(2, depth=10, width=32, activation="sigmoid", output_units=3)
reinitialize(sigmoid_model, seed=0)
sigmoid_monitor, sigmoid_change = train(sigmoid_model)
sigmoid_accuracy = sigmoid_model.evaluate(x_test, y_test, verbose=0)[1]
print(f"test accuracy after 20 epochs: {sigmoid_accuracy:.0%}  (guessing: 33%)")

# %% [markdown]
# The network is no better than guessing. The monitor tells us why. Here is its first record
# (step 0, before any update), one gradient norm per layer from the input side to the output:

# %%
first = sigmoid_monitor.at(0)
for name, norm in first.items():
    print(f"{name:>9}: gradient norm {norm:.1e}")
print(f"vanishing ratio (lowest / largest): {vanishing_ratio(first):.0e}")
vanishing = [f.layer for f in sigmoid_monitor.findings if f.kind == "vanishing"]
print(f"vanishing finding at: {vanishing or 'none'}")

# %% [markdown]
# Read it from the bottom up: the output layer's gradient is a few tenths, and every layer
# further from the output gets a smaller one, until `hidden_1` gets about $10^{-7}$ — less than a
# millionth of the top's. The monitor's *vanishing ratio* (lowest layer's norm over the largest)
# is far below its alarm threshold of $10^{-3}$, so it reports a `vanishing` finding at
# `hidden_1`. The figure shows the same over the whole training run (log scale: each grid line is
# a factor of 10): the layers stay stacked in the same order, orders of magnitude apart.

# %%
sigmoid_monitor.plot()

# %% [markdown]
# With plain gradient descent a tiny gradient means a tiny step. Here is how far each layer's
# weights moved during training, relative to their starting size
# ($\lVert W_\text{after} - W_\text{before}\rVert / \lVert W_\text{before}\rVert$):

# %%
for name, change in sigmoid_change.items():
    print(f"{name:>9}: weights changed by {change:.0e} of their size")

# %% [markdown]
# The output layer's weights changed by about 5%; `hidden_1`'s by less than a millionth. The
# lower half of the network is frozen at its random initial weights, so the top layers only ever
# see random features of the input — not enough to untangle the spirals.
#
# ## 3. Why: the sigmoid's derivative is at most 0.25
#
# Backpropagating through one sigmoid layer multiplies the gradient by the sigmoid's derivative
# $\sigma'(z) = \sigma(z)\,(1-\sigma(z))$ at each unit (and by the layer's weights). That
# derivative is never larger than $0.25$, reached at $z=0$, and it is nearly zero when a unit
# saturates ($|z|$ large):

# %%
z = np.linspace(-8, 8, 401)
sig = 1 / (1 + np.exp(-z))
fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.add_subplot()
ax.plot(z, sig, label="σ(z)")
ax.plot(z, sig * (1 - sig), label="σ'(z) = σ(z)(1 − σ(z))")
ax.axhline(0.25, color="grey", linestyle=":", label="0.25, the largest σ'(z)")
ax.set_xlabel("z")
ax.legend()
ax.grid(True, alpha=0.3)
ax.set_title("The sigmoid and its derivative")
fig

# %% [markdown]
# By the chain rule, the gradient reaching `hidden_1` has passed through the derivatives of all
# the sigmoid layers above it, so it carries a product of those factors — at most $0.25^n$
# after $n$ layers:

# %%
print(f"largest sigma'(z) on the grid: {np.max(sig * (1 - sig)):.2f}")
for n in (1, 2, 5, 10):
    print(f"{n:>2} sigmoid layers: product of derivatives <= 0.25**{n} = {0.25**n:.1e}")
per_layer = (first["hidden_1"] / first["hidden_10"]) ** (1 / 9)
print(f"measured: the norm shrinks by a factor of {per_layer:.2f} per layer (hidden_10 -> 1)")

# %% [markdown]
# The measurement matches the explanation: from `hidden_10` down to `hidden_1` the gradient norm
# shrinks by a factor of about 0.2 per layer, just under the sigmoid derivative's upper bound of
# 0.25. Nine layers of that is $0.2^9 \approx 5\times10^{-7}$. Deeper networks make it
# exponentially worse.
#
# ## 4. The fix: ReLU with He initialization
#
# The ReLU, $\max(0, z)$, has derivative exactly 1 for every active unit ($z > 0$): gradients pass
# through active units without shrinking. **He initialization** draws each layer's initial
# weights with variance $2/\text{fan-in}$, which keeps the size of the signal — forward and
# backward — about the same from layer to layer, since a ReLU zeroes about half of its inputs.
# (`build_mlp` uses He initialization for ReLU by default.) Same depth, same width, same
# training:

# %%
relu_model = build_mlp(
    2, depth=10, width=32, activation="relu", kernel_initializer="he_normal", output_units=3
)
reinitialize(relu_model, seed=0)
relu_monitor, relu_change = train(relu_model)
relu_accuracy = relu_model.evaluate(x_test, y_test, verbose=0)[1]
relu_first = relu_monitor.at(0)
print(f"{'':>20} {'sigmoid':>10} {'ReLU + He':>10}")
print(
    f"{'vanishing ratio':>20} {vanishing_ratio(first):>10.0e} {vanishing_ratio(relu_first):>10.1f}"
)
print(
    f"{'hidden_1 moved by':>20} {sigmoid_change['hidden_1']:>10.0e} "
    f"{relu_change['hidden_1']:>10.2f}"
)
print(f"{'test accuracy':>20} {sigmoid_accuracy:>10.0%} {relu_accuracy:>10.0%}")
relu_vanishing = [f.layer for f in relu_monitor.findings if f.kind == "vanishing"]
print(f"vanishing finding at: {relu_vanishing or 'none'}")

# %% [markdown]
# The vanishing ratio goes from below $10^{-6}$ to about 0.1: every layer now gets a gradient
# within about a factor of 10 of the largest, `hidden_1`'s weights move by a few percent of
# their size instead of a millionth, the monitor reports no vanishing gradient, and the network
# learns the spirals. The
# gradient profile at the first and last records shows both networks side by side: the sigmoid
# network's profile climbs steeply from the input side to the output side, the ReLU network's is
# flat.

# %%
plots.gradient_profile({"sigmoid": sigmoid_monitor, "ReLU + He": relu_monitor})

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 — read a monitor record
# Below is one record from a `GradientMonitor`'s `history` (a 6-hidden-layer sigmoid network).
# Compute its vanishing ratio — the lowest layer's gradient norm divided by the **largest**
# gradient norm of any layer — and store it in `ratio`.

# %%
record = ex.RECORD
record

# %%
ratio = record["norms"]["hidden_1"] / max(record["norms"].values())  # SOLUTION q1

# %%
ex.q1.check(ratio)

# %% [markdown]
# ### Exercise 2 — a deep network that learns
# Write `build_deep_model()` that returns an **uncompiled** model for the spiral data (input shape
# `(2,)`, 3 output logits) with **at least {{q2.min_hidden}} hidden layers**. The check compiles it,
# asks for its gradient profile (the lowest layer must get at least {{q2.min_ratio:g}} of the
# largest gradient) and trains it for {{q2.epochs}} short epochs with Adam: it must reach
# {{q2.min_accuracy:.0%}} test accuracy.


# %%
def build_deep_model():
    # BEGIN SOLUTION q2
    return build_mlp(2, depth=10, width=32, activation="relu", output_units=3)
    # END SOLUTION


# %%
ex.q2.check(build_deep_model)

# %% [markdown]
# ### Exercise 3 — the bound
# A gradient flows back through {{q3.n_layers}} sigmoid layers. What is the largest possible value
# of the product of their {{q3.n_layers}} sigmoid derivatives? Store it in `bound`.

# %%
bound = 0.25**12  # SOLUTION q3

# %%
ex.q3.check(bound)

# %% [markdown]
# ## Summary
#
# - **Vanishing gradients**: in a deep network the gradient of a lower layer is a product of many
#   factors; when they are small it shrinks exponentially with depth, and the lower layers learn
#   very slowly or not at all (here: `hidden_1`'s gradient under a millionth of the top's, its
#   weights changed by under a millionth, test accuracy at chance).
# - **Gradient norm per layer**: the L2 norm of a layer's gradient; `GradientMonitor` records it on
#   a fixed probe batch during `fit`. The **vanishing ratio** is the lowest layer's norm over the
#   largest; the monitor flags it below $10^{-3}$.
# - **Sigmoid derivative**: $\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 0.25$, so $n$ sigmoid layers
#   can shrink a gradient by up to $0.25^n$ — measured here as about 0.2 per layer.
# - **ReLU** passes gradients through active units unchanged (derivative 1); **He
#   initialization** (variance $2/\text{fan-in}$) keeps signal sizes steady across layers.
#   Together they bring the ratio back to order 1 and the deep network learns.
#
# Next lesson: the opposite failure — gradients that grow until they explode.

# %%
ex.summary()

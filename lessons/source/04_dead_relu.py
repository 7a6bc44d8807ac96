# %% [markdown]
# # Lesson 4 — Dead ReLU units
#
# ReLU fixed vanishing gradients in lesson 2 because its slope is exactly 1 for positive inputs.
# But its slope for negative inputs is exactly 0 — and that has a price. If a unit's weighted
# sum becomes negative for *every* input, the unit outputs 0 for everything, passes no gradient
# back, and so nothing ever pushes its weights back up: the unit is **dead**. In this lesson you
# will kill units two ways (a learning rate that is too high, and a strongly negative bias),
# watch it happen with labkit's `DeadReLUMonitor`, prove that a dead unit's gradient is exactly
# zero, and bring the network back with a lower learning rate and with LeakyReLU.
#
# **Learning objectives**
# - say when a ReLU unit is dead and why it cannot recover on its own;
# - measure the dead fraction of every layer during training with `DeadReLUMonitor` and read
#   its heatmap;
# - prevent dead units with a lower learning rate, and make them trainable with LeakyReLU.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np

from labkit import datasets
from labkit.activations import dead_relu_fraction
from labkit.backend import loss_and_gradients
from labkit.callbacks import DeadReLUMonitor
from labkit.exercises import lesson04 as ex
from labkit.gradients import zero_gradient_fraction
from labkit.models import build_mlp, reinitialize

# %% [markdown]
# ## 1. The data and the network
#
# The `spiral` dataset has 2-D points in three interleaved spiral arms. No straight line
# separates the arms, so the network has to bend its decision boundaries — a job for its ReLU
# units. The network has 3 hidden ReLU layers of 32 units (He initialization) and 3 output
# logits, trained with a `from_logits=True` cross-entropy loss and plain SGD. `make_model` gives
# the network the same initial weights every time (drawn with NumPy by
# `labkit.models.reinitialize`, so they are the same on TensorFlow, JAX and PyTorch), and `train`
# feeds the already shuffled training set in the same order every epoch (`shuffle=False`): two
# runs differ only in what we change on purpose.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("spiral")
probe = x_train[:256]
print("train", x_train.shape, "test", x_test.shape, "classes", np.unique(y_train))


def make_model(learning_rate, activation="relu", bias=0.0):
    """The network with the same initial weights every time (drawn with NumPy from seed 0)."""
    model = build_mlp(
        2,
        depth=3,
        width=32,
        activation=activation,
        output_units=3,
        bias_initializer=keras.initializers.Constant(bias),
    )
    reinitialize(model, seed=0)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def train(model, epochs=10):
    """Train with a DeadReLUMonitor; return the monitor and the test accuracy."""
    monitor = DeadReLUMonitor(probe=probe, every=40, verbose=0)
    model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[monitor],
    )
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return monitor, accuracy


# %% [markdown]
# ## 2. Killing units with a learning rate that is too high
#
# A unit computes $z = w \cdot x + b$ and outputs $\max(0, z)$. One large gradient step can move
# $w$ and $b$ so far that $z < 0$ for every training example. From then on the unit outputs 0
# everywhere, and — as we will prove below — its gradient is 0, so no later step can undo it.
#
# `DeadReLUMonitor(probe=x)` records, for every ReLU layer, the fraction of units that output
# exactly 0 for every probe example: at step 0, at a few early steps, then every 40 steps.
# Let us train with SGD at learning rate 3.0.

# %%
model_high = make_model(learning_rate=3.0)
monitor_high, accuracy_high = train(model_high)
for step in monitor_high.steps()[::3]:
    fractions = "  ".join(f"{k} {v:4.0%}" for k, v in monitor_high.snapshot(step).items())
    print(f"step {step:3d}: {fractions}")
print(f"test accuracy: {accuracy_high:.0%} (chance is 33%)")

# %% [markdown]
# Before training a few units are already inactive on the probe (He initialization leaves some
# units off by chance), but the fractions climb steeply as the big steps push more and more
# units below zero. By the end the whole last hidden layer is dead and the network
# predicts one class for everything: 33% accuracy, pure chance. The heatmap shows where and
# when: one row per ReLU layer, one column per record, darker = more units dead.

# %%
monitor_high.plot()

# %% [markdown]
# Read it left to right: the deeper layers (bottom rows) die first and most completely. A layer
# whose units are all dead passes nothing forward, so every layer below it also stops receiving
# a useful gradient.
#
# ## 3. A dead unit's gradient is exactly zero
#
# Why can't a dead unit recover? Its weight $w_{ij}$ (from input $i$ to unit $j$) gets the
# gradient
#
# $$\frac{\partial L}{\partial w_{ij}} = \sum_{\text{examples}} a_i \cdot
#   \underbrace{\operatorname{relu}'(z_j)}_{=\,0 \text{ when } z_j < 0} \cdot
#   \frac{\partial L}{\partial a_j}.$$
#
# When $z_j < 0$ for every example, every term has a factor 0, so the whole column $j$ of the
# kernel's gradient is 0 — not small, exactly 0. Let us check it with
# `labkit.backend.loss_and_gradients`, which returns the gradient of every weight. We need a
# layer with both dead and live units, so we train a fresh copy of the network for one epoch at
# a slightly lower learning rate, 2.0: afterwards `hidden_2` has both kinds. (In the network
# above, `hidden_3` is entirely dead, and then *no* unit below it gets any gradient at all.)

# %%
model_early = make_model(learning_rate=2.0)
model_early.fit(x_train, y_train, batch_size=32, epochs=1, shuffle=False, verbose=0)
layer = model_early.get_layer("hidden_2")
outputs = keras.ops.convert_to_numpy(keras.Model(model_early.inputs, layer.output)(probe))
dead_units = np.flatnonzero(np.all(outputs == 0, axis=0))
live_units = np.flatnonzero(np.any(outputs > 0, axis=0))
print(f"hidden_2: {len(dead_units)} dead units, {len(live_units)} live")

_, grads = loss_and_gradients(model_early, probe, y_train[:256])
paths = [v.path for v in model_early.trainable_variables]
kernel_grad = grads[paths.index(layer.kernel.path)]  # shape (inputs, units): column j = unit j
dead, live = dead_units[0], live_units[0]
dead_grad, live_grad = np.abs(kernel_grad[:, dead]).max(), np.abs(kernel_grad[:, live]).max()
print(f"dead unit {dead}: largest |gradient| of its incoming weights = {dead_grad}")
print(f"live unit {live}: largest |gradient| of its incoming weights = {live_grad:.1e}")

# %% [markdown]
# The dead unit's incoming weights get a gradient of exactly `0.0`: gradient descent cannot
# change them, so the unit stays dead for the rest of training.
#
# ## 4. Killing units with a negative bias
#
# A second way to start with dead units: initialize every bias to a strongly negative value,
# here $-1$, with `build_mlp(bias_initializer=keras.initializers.Constant(-1.0))`. Each weighted
# sum starts shifted down by 1, so most of them are negative for every input — and the layers
# above see only zeros. We train with a moderate learning rate, 0.5.

# %%
model_bias = make_model(learning_rate=0.5, bias=-1.0)
monitor_bias, accuracy_bias = train(model_bias)
first, last = monitor_bias.steps()[0], monitor_bias.steps()[-1]
for step in (first, last):
    fractions = "  ".join(f"{k} {v:4.0%}" for k, v in monitor_bias.snapshot(step).items())
    print(f"step {step:3d}: {fractions}")
print(f"test accuracy: {accuracy_bias:.0%}")

# %% [markdown]
# Here the units are dead from step 0: all of `hidden_3`, nearly all of `hidden_2` and almost half
# of `hidden_1`. Since no gradient reaches them, 10 epochs of training change nothing and the
# accuracy stays at chance.
#
# ## 5. Remedies, measured side by side
#
# - **A lower learning rate** keeps each step small, so a unit's weighted sum drifts instead of
#   jumping below zero for every input. We retrain the first network with 0.5 instead of 3.0.
# - **LeakyReLU** replaces the flat 0 for negative inputs by a small slope:
#   $\operatorname{leaky}(z) = z$ for $z > 0$ and $0.2\,z$ otherwise (Keras's default slope). Its
#   derivative is never 0, so a unit that is "off" for every input still receives a gradient
#   and can climb back. We retrain the negative-bias network with
#   `build_mlp(activation="leaky_relu")`.
#
# LeakyReLU units never output exactly 0, so they are never "dead" by the monitor's definition.
# To compare like with like we also count, for every hidden layer, the units whose incoming
# weights get an exactly-zero gradient (`labkit.gradients.zero_gradient_fraction`, built on
# `loss_and_gradients` as in section 3).

# %%
model_low = make_model(learning_rate=0.5)
monitor_low, accuracy_low = train(model_low)
model_leaky = make_model(learning_rate=0.5, activation="leaky_relu", bias=-1.0)
model_leaky.fit(x_train, y_train, batch_size=32, epochs=10, shuffle=False, verbose=0)
accuracy_leaky = model_leaky.evaluate(x_test, y_test, verbose=0)[1]

rows = [
    ("ReLU, learning rate 3.0", model_high, accuracy_high),
    ("ReLU, learning rate 0.5", model_low, accuracy_low),
    ("ReLU, bias -1", model_bias, accuracy_bias),
    ("LeakyReLU, bias -1", model_leaky, accuracy_leaky),
]
print(f"{'network':25s} {'dead units per layer':22s} {'zero-gradient units':22s} accuracy")
for name, model, accuracy in rows:
    dead = dead_relu_fraction(model, probe)
    zero = zero_gradient_fraction(model, probe, y_train[:256])
    dead_text = " ".join(f"{v:4.0%}" for v in dead.values()) if dead else "n/a (no ReLU)"
    zero_text = " ".join(f"{v:4.0%}" for v in zero.values())
    print(f"{name:25s} {dead_text:22s} {zero_text:22s} {accuracy:.0%}")

# %% [markdown]
# In both broken ReLU networks *every* hidden unit gets an exactly-zero gradient, even in
# `hidden_1`, which still has live units: with `hidden_3` entirely dead, no gradient reaches
# anything beneath it. Lowering the learning rate from 3.0 to 0.5 keeps almost every unit alive
# and the network learns the spirals. With LeakyReLU, the negative-bias network that was stuck
# at chance gets a gradient in every unit (0% zero-gradient units) and learns too. LeakyReLU
# has smooth relatives built on the same idea of a nonzero slope for negative inputs: ELU
# (`activation="elu"`) and GELU (`activation="gelu"`, common in transformers).
#
# ## Summary
#
# - **Dead ReLU unit**: a unit whose weighted sum is negative for every input. It outputs 0,
#   contributes nothing to the output, and its gradient is exactly 0, so it cannot recover.
# - **Causes**: steps that are too large (a high learning rate) and strongly negative biases.
# - **Measure it**: `DeadReLUMonitor(probe=x)` records each ReLU layer's dead fraction during
#   `fit`; `monitor.plot()` draws the heatmap; `labkit.activations.dead_relu_fraction(model, x)`
#   gives a one-off reading.
# - **Remedies**: a lower learning rate (units are not pushed off in the first place) and
#   **LeakyReLU** (a small slope for negative inputs, so a gradient always flows); ELU and GELU
#   are smooth relatives.
#
# ## Exercises
#
# **Exercise 1.** Write `count_dead_units(activations)`. `activations` is a ReLU layer's output
# on a batch: shape `(examples, units)` for a Dense layer, or `(examples, height, width,
# channels)` for a convolution, where each channel is one unit. Return how many units are
# exactly 0 for every example (and every position). The check calls your function on arrays you
# have not seen, including convolutional ones.


# %%
def count_dead_units(activations):
    # BEGIN SOLUTION q1
    flat = activations.reshape(-1, activations.shape[-1])
    return int(np.sum(np.all(flat == 0, axis=0)))
    # END SOLUTION


# %%
ex.q1.check(count_dead_units)

# %% [markdown]
# **Exercise 2.** Choose a plain-SGD learning rate for the spiral network. The check trains it
# for {{q2.epochs}} epochs from another random initialization: every ReLU layer must keep its dead
# fraction under {{q2.dead_limit:.0%}}, and the test accuracy must reach {{q2.accuracy:.0%}}. Too
# high kills units; too low learns too little — the message tells you which.

# %%
learning_rate = 0.1  # SOLUTION q2

# %%
ex.q2.check(learning_rate)

# %% [markdown]
# **Exercise 3.** The builder below starts every hidden bias at $-1$, which kills its ReLU
# units before training begins. Keep the biases, but make the units trainable by swapping ReLU for
# LeakyReLU. The check trains your model with `Adam(learning_rate={{q3.learning_rate:g}})` for
# {{q3.epochs}} epochs: every hidden layer must pass a gradient to each of its units, and the test
# accuracy must reach {{q3.accuracy:.0%}}. The builder to start from (copy it into
# `build_leaky_model` and change it):
#
# ```python
# bias = keras.initializers.Constant(-1.0)
# model = keras.Sequential([keras.Input(shape=(2,))])
# for _ in range(3):
#     model.add(
#         keras.layers.Dense(
#             32, activation="relu", kernel_initializer="he_normal", bias_initializer=bias
#         )
#     )
# model.add(keras.layers.Dense(3))
# return model
# ```


# %%
def build_leaky_model():
    # BEGIN SOLUTION q3
    bias = keras.initializers.Constant(-1.0)
    model = keras.Sequential([keras.Input(shape=(2,))])
    for _ in range(3):
        model.add(
            keras.layers.Dense(
                32, activation="leaky_relu", kernel_initializer="he_normal", bias_initializer=bias
            )
        )
    model.add(keras.layers.Dense(3))
    return model
    # END SOLUTION


# %%
ex.q3.check(build_leaky_model)

# %%
ex.summary()

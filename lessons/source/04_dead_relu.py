# %% [markdown]
# # Lesson 4 — Dead ReLU units
#
# ReLU fixed vanishing gradients in lesson 2 because its slope is exactly 1 for positive inputs.
# But its slope for negative inputs is exactly 0 — and that has a price. If a unit's weighted
# sum becomes negative for *every* input, the unit outputs 0 for everything, passes no gradient
# back, and so its own weights stop changing: the unit is **dead**. It comes back only if the
# layers *below* it change its inputs enough — and, as the course page puts it, those inputs may
# never change enough. In this lesson you will kill units two ways (a learning rate that is too
# high, and a strongly negative bias), watch it happen with labkit's `DeadReLUMonitor`, prove
# that a dead unit's gradient is exactly zero, see when dead units revive and when they never
# can, and bring the network back with a lower learning rate and with LeakyReLU.
#
# **Learning objectives**
# - say when a ReLU unit is dead, why its own weights stop changing, and when it can still
#   revive (its inputs change) or never can (first layer, or behind a fully dead layer);
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
from labkit.models import accuracy, build_mlp, reinitialize

# %% [markdown]
# ## 1. The data and the network
#
# The `spiral` dataset has 2-D points in three interleaved spiral arms. No straight line
# separates the arms, so the network has to bend its decision boundaries — a job for its ReLU
# units. The network has 3 hidden ReLU layers of 32 units (He initialization) and 3 output
# logits, trained with a `from_logits=True` cross-entropy loss and plain SGD. `make_model` gives
# the network the same initial weights every time (drawn with NumPy by
# `labkit.models.reinitialize`, so they are the same on TensorFlow, JAX and PyTorch), and
# `fit_passes` feeds the already shuffled training set in the same order every epoch: two runs
# differ only in what we change on purpose. It stacks the epochs' copies of the data into one
# array and makes one pass of `fit` over it, so Keras sets up its input pipeline once per run.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load("spiral")
probe = x_train[:256]
print("train", x_train.shape, "test", x_test.shape, "classes", np.unique(y_train))


def make_model(learning_rate, activation="relu", bias=0.0, seed=0):
    """The network with the same initial weights for the same seed (drawn with NumPy)."""
    model = build_mlp(
        2,
        depth=3,
        width=32,
        activation=activation,
        output_units=3,
        bias_initializer=keras.initializers.Constant(bias),
    )
    reinitialize(model, seed=seed)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit_passes(model, passes, callbacks=()):
    """`passes` copies of the training set, stacked: one epoch of `fit`, batches of 32."""
    x, y = np.tile(x_train, (passes, 1)), np.tile(y_train, passes)
    model.fit(x, y, batch_size=32, shuffle=False, verbose=0, callbacks=list(callbacks))


def train(model, passes=10):
    """Train with a DeadReLUMonitor; return the monitor and the test accuracy (labkit's
    `accuracy`: what `model.evaluate` reports, from one inference-mode call)."""
    monitor = DeadReLUMonitor(probe=probe, every=40, verbose=0)
    fit_passes(model, passes, callbacks=[monitor])
    return monitor, accuracy(model, x_test, y_test)


# %% [markdown]
# ## 2. Killing units with a learning rate that is too high
#
# A unit computes $z = w \cdot x + b$ and outputs $\max(0, z)$. One large gradient step can move
# $w$ and $b$ so far that $z < 0$ for every training example. From then on the unit outputs 0
# everywhere, and — as we will prove below — the gradient of its own weights is 0.
#
# `DeadReLUMonitor(probe=x)` records, for every ReLU layer, the fraction of units that output
# exactly 0 for every probe example: at step 0, at a few early steps, then every 40 steps.
# Let us train with SGD at learning rate 3.0. Chance accuracy on three balanced classes is 33%.
#
# **Predict, then run.** Before you run the training below, decide what the monitor will show
# and where the test accuracy will end: write the key of your answer into `prediction`, run the
# training, then check your prediction.

# %%
ex.predict

# %%
prediction = "b"  # SOLUTION predict

# %%
model_high = make_model(learning_rate=3.0)
monitor_high, accuracy_high = train(model_high)
print("recorded steps:", monitor_high.steps())
for step in monitor_high.steps()[::3]:
    fractions = "  ".join(f"{k} {v:4.0%}" for k, v in monitor_high.snapshot(step).items())
    print(f"step {step:3d}: {fractions}")
print(f"test accuracy: {accuracy_high:.0%} (chance is 33%)")

# %%
ex.predict.check(prediction)

# %% [markdown]
# Before training a few units are already inactive on the probe (He initialization leaves some
# units off by chance), but the fractions climb steeply as the big steps push more and more
# units below zero. By the end `hidden_2` and `hidden_3` are entirely dead, so no input
# reaches the output layer, which answers every example alike: the test accuracy is chance.
# The heatmap shows where and when: one row per ReLU layer, one column per record, darker =
# more units dead. **Its columns are records, not equal stretches of training**: the tick
# labels are the step numbers printed above, dense at the start (steps 0, 1, 2, 4, ...) and
# then one every 40 steps, so the left part of the map covers only the first few dozen steps.

# %%
monitor_high.plot()

# %% [markdown]
# Read it left to right: the deeper layers (bottom rows) die first and most completely. But the
# fractions do not only rise. Below, for every layer, the largest fall of its dead fraction
# from one record to the next:

# %%
steps = monitor_high.steps()
for name in monitor_high.layers():
    values = monitor_high.values(name)
    falls = [(values[i] - values[i + 1], steps[i], steps[i + 1]) for i in range(len(values) - 1)]
    fall, before, after = max(falls)
    if fall <= 0:
        print(f"{name}: its dead fraction never fell")
        continue
    print(
        f"{name}: largest fall {fall:.0%} (from {values[steps.index(before)]:.0%} dead at step "
        f"{before} to {values[steps.index(after)]:.0%} at step {after})"
    )

# %% [markdown]
# A fall means units that were dead on every probe example became active again: dead units
# *can* revive. Section 3 shows how, and when they never can.
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
# kernel's gradient is 0 — not small, exactly 0. (The same holds for its bias.) Let us check it
# with
# `labkit.backend.loss_and_gradients`, which returns the gradient of every weight. We need a
# layer with both dead and live units, so we train a fresh copy of the network for one epoch at
# a slightly lower learning rate, 2.0: afterwards `hidden_2` has both kinds. (In the network
# above, `hidden_3` is entirely dead, and then *no* unit below it gets any gradient at all.)

# %%
model_early = make_model(learning_rate=2.0)
fit_passes(model_early, 1)
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
# change them. But $z_j = w_j \cdot a + b_j$ also depends on $a$, the outputs of the layer
# below, and those keep changing while the layer below is alive and learning. So a dead unit
# of `hidden_2` or `hidden_3` can be pushed back above 0 by the layers beneath it. A unit of
# `hidden_1` cannot: its input $a$ is the data itself, which never changes. Let us find every
# unit that is dead on the *whole* training set (then every batch gives it an exactly-zero
# gradient), train five more epochs, and see which of them are alive again.


# %%
def dead_set(model, name):
    """The units of layer `name` that output 0 for every training example."""
    layer_output = keras.Model(model.inputs, model.get_layer(name).output)
    outputs = keras.ops.convert_to_numpy(layer_output(x_train))
    return set(np.flatnonzero(np.all(outputs == 0, axis=0)).tolist())


names = ["hidden_1", "hidden_2", "hidden_3"]
dead_before = {name: dead_set(model_early, name) for name in names}
kernel_before = keras.ops.convert_to_numpy(model_early.get_layer("hidden_1").kernel).copy()
fit_passes(model_early, 5)
kernel_after = keras.ops.convert_to_numpy(model_early.get_layer("hidden_1").kernel)
for name in names:
    revived = dead_before[name] - dead_set(model_early, name)
    print(
        f"{name}: {len(dead_before[name])} dead after epoch 1, {len(revived)} of them alive again"
    )
frozen = sorted(dead_before["hidden_1"])
change = np.abs(kernel_after[:, frozen] - kernel_before[:, frozen]).max() if frozen else 0.0
print(f"hidden_1's dead units: largest change of their incoming weights in 5 epochs = {change}")

# %% [markdown]
# The units of `hidden_1` that were dead on every training example are still dead, and their
# weights have not moved at all: with a fixed input and a zero gradient nothing can ever change
# them. Units deeper in the network can come back when the layers below them move, as the
# printed counts show. Whether they do is luck: the course page's wording is that the input to
# a dead unit *may never* change enough to bring its weighted sum back above 0. And when a whole
# layer is dead, no gradient passes it at all, so *nothing* below it changes either: section 4
# shows that case.
#
# ## 4. Killing units with a negative bias
#
# A second way to start with dead units: initialize every bias to a strongly negative value,
# here $-1$, with `build_mlp(bias_initializer=keras.initializers.Constant(-1.0))`. Each weighted
# sum starts shifted down by 1, so most of them are negative for every input — and the layers
# above see only zeros. We train with a moderate learning rate, 0.5.

# %%
model_bias = make_model(learning_rate=0.5, bias=-1.0)
weights_before = [w.copy() for w in model_bias.get_weights()]
monitor_bias, accuracy_bias = train(model_bias)
first, last = monitor_bias.steps()[0], monitor_bias.steps()[-1]
for step in (first, last):
    fractions = "  ".join(f"{k} {v:4.0%}" for k, v in monitor_bias.snapshot(step).items())
    print(f"step {step:3d}: {fractions}")
moved = [float(np.abs(a - b).max()) for a, b in zip(model_bias.get_weights(), weights_before)]
print("largest change of each hidden weight tensor:", [f"{m:.0e}" for m in moved[:6]])
print(f"test accuracy: {accuracy_bias:.0%} (chance is 33%)")

# %% [markdown]
# Here the units are dead from step 0, and `hidden_3` entirely. A fully dead layer outputs only
# zeros, so the output layer sees the same input for every example and no gradient passes back
# through it: every hidden weight tensor changes by exactly 0 in 10 epochs (only the output
# layer's bias can learn the class frequencies), the dead fractions at the last step are those
# of step 0, and the accuracy stays at chance. Nothing can revive these units.
#
# ## 5. Remedies, measured side by side
#
# - **A lower learning rate** keeps each step small, so a unit's weighted sum drifts instead of
#   jumping below zero for every input. We retrain the first network with 0.5 instead of 3.0,
#   from three different initializations (seeds 0, 1, 2), because one run could be luck.
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
print(f"{'learning rate':14s} {'seed':5s} {'most dead in a layer':21s} test accuracy (chance 33%)")
for rate, seed0_model, seed0_accuracy in (
    (3.0, model_high, accuracy_high),
    (0.5, model_low, accuracy_low),
):
    accuracies, spare = [], None
    for seed in (0, 1, 2):
        if seed == 0:
            model, score = seed0_model, seed0_accuracy
        else:  # seeds 1 and 2 share one compiled network, restarted (no new tracing)
            spare = spare or make_model(learning_rate=rate)
            model = reinitialize(spare, seed=seed)
            fit_passes(model, 10)
            score = accuracy(model, x_test, y_test)
        accuracies.append(score)
        worst = max(dead_relu_fraction(model, probe).values())
        print(f"{rate:<14.1f} {seed:<5d} {worst:<21.0%} {score:.0%}")
    print(f"{rate:<14.1f} spread of test accuracy: {min(accuracies):.0%} to {max(accuracies):.0%}")

# %% [markdown]
# On all three seeds, 3.0 kills a whole layer and leaves the accuracy at chance, while 0.5 keeps
# most units alive and learns the spirals; the spread between seeds is far smaller than the
# difference between the two rates. Now LeakyReLU against the negative bias, and all four
# networks side by side (seed 0):

# %%
model_leaky = make_model(learning_rate=0.5, activation="leaky_relu", bias=-1.0)
fit_passes(model_leaky, 10)
accuracy_leaky = accuracy(model_leaky, x_test, y_test)

rows = [
    ("ReLU, learning rate 3.0", model_high, accuracy_high),
    ("ReLU, learning rate 0.5", model_low, accuracy_low),
    ("ReLU, bias -1", model_bias, accuracy_bias),
    ("LeakyReLU, bias -1", model_leaky, accuracy_leaky),
]
print(f"{'network':25s} {'dead units per layer':22s} {'zero-gradient units':22s} accuracy")
for name, model, score in rows:
    dead = dead_relu_fraction(model, probe)
    zero = zero_gradient_fraction(model, probe, y_train[:256])
    dead_text = " ".join(f"{v:4.0%}" for v in dead.values()) if dead else "n/a (no ReLU)"
    zero_text = " ".join(f"{v:4.0%}" for v in zero.values())
    print(f"{name:25s} {dead_text:22s} {zero_text:22s} {score:.0%}")
print("chance accuracy: 33%")

# %% [markdown]
# In both broken ReLU networks *every* hidden unit gets an exactly-zero gradient, even in
# `hidden_1`, which still has live units: with `hidden_3` entirely dead, no gradient reaches
# anything beneath it. Lowering the learning rate from 3.0 to 0.5 keeps at least 81% of every
# layer's units alive and the network learns the spirals. With LeakyReLU, the negative-bias
# network that was stuck at chance gets a gradient in every unit (0% zero-gradient units) and
# learns too. LeakyReLU
# has smooth relatives built on the same idea of a nonzero slope for negative inputs: ELU
# (`activation="elu"`) and GELU (`activation="gelu"`, common in transformers).
#
# ## Summary
#
# - **Dead ReLU unit**: a unit whose weighted sum is negative for every input. It outputs 0,
#   contributes nothing to the output, and the gradient of its own weights is exactly 0.
# - **Revival**: a dead unit deeper in the network comes back only if the layers below change its
#   inputs enough, and they may never do so. A dead unit of the first hidden layer (its input is
#   the fixed data) never revives, and neither does anything below a layer that is entirely dead.
# - **Causes**: steps that are too large (a high learning rate) and strongly negative biases.
# - **Measure it**: `DeadReLUMonitor(probe=x)` records each ReLU layer's dead fraction during
#   `fit`; `monitor.plot()` draws the heatmap; `labkit.activations.dead_relu_fraction(model, x)`
#   gives a one-off reading.
# - **Remedies**: a lower learning rate (units are not pushed off in the first place; judged on
#   three seeds) and
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
# **Exercise 2.** Choose a plain-SGD learning rate for the spiral network with *half* the
# lesson's budget: the check trains it for {{q2.epochs}} epochs from {{q2.seeds}} random
# initializations the lesson never used. On every one of them, every ReLU layer must keep its
# dead fraction under {{q2.dead_limit:.0%}} and the test accuracy must reach {{q2.accuracy:.0%}}
# (chance is {{q2.chance:.0%}}). Too high kills units on some seed; too low learns too little in
# so few epochs — the message tells you which, and on which seed.

# %%
learning_rate = 0.1  # SOLUTION q2

# %%
ex.q2.check(learning_rate)

# %% [markdown]
# **Exercise 3.** Keep the units alive *without* LeakyReLU and *without* a lower learning rate.
# Write `build_relu_model()`: 2 inputs, 3 hidden `Dense` layers of 32 units whose biases start at
# {{q3.bias:g}} (`bias_initializer=keras.initializers.Constant(-1.0)`), plain ReLU as the only
# activation, and 3 output logits. You may add other layers. The check trains it with
# `SGD(learning_rate={{q3.learning_rate:g}})` for {{q3.epochs}} epochs — the setting of section 4,
# where every unit of `hidden_3` was dead. Every ReLU layer must end with fewer than
# {{q3.dead_limit:.0%}} dead units, and the training loss must fall to {{q3.loss:.2f}} (predicting
# the class frequencies scores {{q3.baseline_loss:.2f}}).


# %%
def build_relu_model():
    # BEGIN SOLUTION q3
    bias = keras.initializers.Constant(-1.0)
    model = keras.Sequential([keras.Input(shape=(2,))])
    for _ in range(3):
        model.add(keras.layers.Dense(32, kernel_initializer="he_normal", bias_initializer=bias))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(3))
    return model
    # END SOLUTION


# %% tags=["nbval-ignore-output"]
ex.q3.check(build_relu_model)

# %% [markdown]
# **Exercise 4 (diagnosis).** Three short runs you have not seen were recorded while the lesson
# was built. `ex.q4.recorded()` gives them by id; each has a `.description` (what was trained),
# its Keras `.history`, its monitors `.grads` and `.dead` (the accessors you know: `.at(0)`,
# `.snapshot(step)`, `.values(layer)`) and `.plot()`, a figure of its loss (with the chance level
# dashed), gradient norms, update ratios and dead fractions. Their step axes are linear from 0
# to 1 and logarithmic beyond (ticks 0, 1, 10, 100), so the first steps get as much room as the
# last hundred. For each run name what went wrong
# and the remedy, from `ex.FAILURES` and `ex.REMEDIES`: replace each `...` below by a pair such as
# `("exploding", "batch_norm")`.

# %%
runs = ex.q4.recorded()
for run in runs.values():
    print(run.id, "-", run.description)
print("failures:", ", ".join(ex.FAILURES))
print("remedies:", ", ".join(ex.REMEDIES))

# %%
runs["A"].plot()

# %%
runs["B"].plot()

# %%
runs["C"].plot()

# %%
diagnosis = {"A": ..., "B": ..., "C": ...}
diagnosis["A"] = ("vanishing", "relu_he")  # SOLUTION q4
diagnosis["B"] = ("healthy", "none")  # SOLUTION q4
diagnosis["C"] = ("dead_relu", "leaky_relu")  # SOLUTION q4

# %%
ex.q4.check(diagnosis)

# %% [markdown]
# ## Playground challenges
#
# The playground trains a small network on a 2-D dataset while you watch it: its decision
# boundary, losses, gradient norms, update ratios and the dead fraction of every ReLU layer.
# `pg.show()` opens the live app in Jupyter or Colab: change the controls, press Play and watch
# the panels; when you are done, store the set-up with `answer = pg.state` (each challenge
# names its answer) and check it. The check retrains your set-up on its own seed. In a
# non-interactive run `pg.show()` draws a static summary instead.
#
# **Challenge 1 — kill the units.** You get the healthy set-up: {{p1.start_depth}} ReLU layers of
# {{p1.start_width}} units (He initialization) trained with Adam at learning rate
# {{p1.start_learning_rate:g}} on a two-arm spiral. Change **{{p1.max_changes}}** control so that
# after {{p1.steps}} steps at least {{p1.dead_at_least:.0%}} of the units of some layer are dead,
# then store it as `kill_units = pg.state`.

# %%
pg = ex.p1.playground()
pg.show()

# %%
kill_units = {**pg.state, "learning_rate": 3.0}  # SOLUTION p1

# %% tags=["nbval-ignore-output"]
ex.p1.check(kill_units)

# %% [markdown]
# **Challenge 2 — bring them back.** Now the `dead_relu` set-up: {{p2.start_depth}} ReLU layers
# trained with SGD at learning rate {{p2.start_learning_rate:g}}. Change **{{p2.max_changes}}**
# control so that after {{p2.steps}} steps every layer has fewer than {{p2.dead_below:.0%}} of its
# units dead and the network learns: its test accuracy must beat always predicting the majority
# class by at least {{p2.margin_points}} percentage points. Store it as `revive_units = pg.state`.

# %%
pg = ex.p2.playground()
pg.show()

# %%
revive_units = {**pg.state, "learning_rate": 0.1}  # SOLUTION p2

# %% tags=["nbval-ignore-output"]
ex.p2.check(revive_units)

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
answer_k5 = "a"  # SOLUTION k5

# %%
ex.k5.check(answer_k5)

# %%
ex.summary()

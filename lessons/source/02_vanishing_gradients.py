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
# - see the saturated sigmoid units and the tiny update-to-weight ratios that go with it;
# - fix it with ReLU activations and He initialization, and measure which of the two does the work.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np
from matplotlib.figure import Figure

from labkit import datasets, plots
from labkit.callbacks import ActivationMonitor, GradientMonitor
from labkit.exercises import lesson02 as ex
from labkit.gradients import layer_gradient_norms, vanishing_ratio
from labkit.models import accuracy, build_mlp, reinitialize

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
for label, colour in zip(range(3), ("tab:blue", "tab:orange", "tab:green")):
    arm = y_train == label
    ax.scatter(x_train[arm, 0], x_train[arm, 1], color=colour, s=8, label=f"class {label}")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.legend(title="spiral arm", fontsize="small", loc="upper right")
ax.set_title("Spiral data (training split)")
ax.set_aspect("equal")
fig

# %% [markdown]
# ## 2. A deep sigmoid network that does not learn
#
# We build a 10-hidden-layer network of 32 sigmoid units per layer (with the standard Glorot
# initialization) and train it with plain gradient descent, where each weight moves by its
# gradient times the learning rate. A `GradientMonitor` records every layer's gradient norm on a
# fixed probe batch of 256 training examples while `fit` runs, and an `ActivationMonitor` records
# every layer's outputs on the same inputs (section 3 reads them); we also keep a copy of the
# weights to see how far each layer moves. The three classes are equally frequent, so guessing
# scores 33%: that is the baseline every accuracy below sits beside.
#
# *A note on the runs:* `train` stacks 20 copies of the training set and makes one pass over
# them: 20 passes over the data in their stored order (batches of 45), while Keras sets up its
# input pipeline once instead of once per epoch, which keeps these short runs fast.
# `reinitialize` draws the initial weights with NumPy, so TensorFlow, JAX and PyTorch run exactly
# the same experiment.


# %%
probe = (x_train[:256], y_train[:256])
chance = np.max(np.bincount(y_train)) / len(y_train)
print(f"chance accuracy (majority class): {chance:.0%}")


def compiled(model, optimizer=None):
    """Compile for the spirals: SGD at 0.1 (or ``optimizer``), cross-entropy, accuracy."""
    model.compile(
        optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def train(model, passes=20, monitor=True, also=()):
    """Train a compiled model; return the monitor and each layer's relative weight change.

    `also`: more callbacks to run during `fit`.
    """
    before = [layer.get_weights()[0] for layer in model.layers]
    callbacks = [GradientMonitor(probe=probe, verbose=0)] if monitor else []
    callbacks += list(also)
    model.fit(  # `passes` copies of the data, stacked: one epoch of fit (see the note above)
        np.tile(x_train, (passes, 1)),
        np.tile(y_train, passes),
        batch_size=45,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    after = [layer.get_weights()[0] for layer in model.layers]
    change = {
        layer.name: np.linalg.norm(a - b) / np.linalg.norm(b)
        for layer, b, a in zip(model.layers, before, after)
    }
    return (callbacks[0] if monitor else None), change


sigmoid_model = build_mlp(2, depth=10, width=32, activation="sigmoid", output_units=3)
sigmoid_model = compiled(reinitialize(sigmoid_model, seed=0))
activations = ActivationMonitor(probe=probe[0])  # the layers' outputs, for section 3
sigmoid_monitor, sigmoid_change = train(sigmoid_model, also=[activations])
# labkit's accuracy(): the test accuracy model.evaluate reports, from one inference-mode call
sigmoid_accuracy = accuracy(sigmoid_model, x_test, y_test)
print(f"test accuracy after 20 passes: {sigmoid_accuracy:.0%}  (chance: {chance:.0%})")

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
# a factor of 10): the layers stay stacked in the same order, orders of magnitude apart. The
# monitor records at steps 0, 1, 2, 4, 8, ... (log-spaced, then at a regular interval), so the
# step axis is linear from 0 to 1 and logarithmic beyond: the ticks 1, 10 and 100 are equally
# far apart, and the early steps are not squeezed against the left edge.

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
ax.set_xlabel("pre-activation z")
ax.set_ylabel("value")
ax.legend()
ax.grid(True, alpha=0.3)
ax.set_title("The sigmoid and its derivative")
fig

# %% [markdown]
# By the chain rule, the gradient reaching `hidden_1` has passed through the derivatives of all
# the sigmoid layers above it, so it carries a product of those factors — at most $0.25^n$
# after $n$ layers. How close does the trained network come to that bound? The
# `ActivationMonitor` of section 2 read every layer's outputs $s = \sigma(z)$ on the probe batch;
# at its last record (the end of training) the mean derivative $\overline{s(1-s)}$ follows from
# their mean and spread, and *saturated* counts the units whose output is below 0.02 or above
# 0.98, where $\sigma'(z) < 0.02$:

# %%
print(f"largest sigma'(z) on the grid: {np.max(sig * (1 - sig)):.2f}")
for n in (1, 2, 5, 10):
    print(f"{n:>2} sigmoid layers: product of derivatives <= 0.25**{n} = {0.25**n:.1e}")
for name, st in activations.at(-1).items():
    mean_derivative = st["mean"] - (st["std"] ** 2 + st["mean"] ** 2)
    print(
        f"{name:>9}: mean sigma'(z) {mean_derivative:.3f}, "
        f"saturated {st['saturated']:.0%} of outputs"
    )
per_layer = (first["hidden_1"] / first["hidden_10"]) ** (1 / 9)
print(f"measured: the norm shrinks by a factor of {per_layer:.2f} per layer (hidden_10 -> 1)")
print(f"{per_layer:.2f}**9 = {per_layer**9:.1e} = hidden_1's norm / hidden_10's")

# %% [markdown]
# The same in a picture: the monitor also kept a histogram of each layer's outputs. Here is
# every layer's distribution of $\sigma(z)$ at the same last record. Saturated units would pile
# up against 0 and 1, where $\sigma'(z)$ is nearly 0:

# %%
plots.activation_histograms(
    activations,
    step=activations.steps()[-1],
    title="Deep sigmoid network: outputs per layer at the end of training",
)

# %% [markdown]
# The measurement matches the explanation: the units sit near the middle of the sigmoid (none
# saturate: no curve reaches the ends), so each layer's mean derivative is just under the bound
# of 0.25, and from `hidden_10` down to `hidden_1` the gradient norm shrinks by the printed
# factor per layer. Nine layers of that give the printed product, the same order as the
# vanishing ratio above. (The weights enter each factor too, which is why the measured factor is
# not exactly the mean derivative.) Deeper networks make it exponentially worse.
#
# With plain SGD a layer's step is the learning rate times its gradient, so the same profile
# shows in the steps. The monitor also records each layer's **update-to-weight ratio**,
# $\log_{10}(\operatorname{std}(\Delta W)/\operatorname{std}(W))$, at every record after step 0.
# A healthy step changes a weight by about a thousandth of its spread, $-3$ on this scale (the
# shaded band is $\pm 1$); the step axis is log-spaced as above:

# %%
plots.update_ratios(sigmoid_monitor, title="Deep sigmoid network: update-to-weight ratio")

# %%
last_updates = sigmoid_monitor.at(-1, key="update_ratio")
print(
    f"last record: hidden_1 {last_updates['hidden_1']:.1f}, "
    f"output {last_updates['output']:.1f} (log10 update-to-weight ratio)"
)

# %% [markdown]
# The top layers sit near the healthy level while the bottom ones are several orders of magnitude
# below it. A larger learning rate would shift every line up by the same amount: the top layers'
# steps would explode before the bottom layers' reached $-3$ (exercise 3 measures how far).
#
# ## 4. The fix: ReLU with He initialization
#
# The ReLU, $\max(0, z)$, has derivative exactly 1 for every active unit ($z > 0$): gradients pass
# through active units without shrinking. **He initialization** draws each layer's initial
# weights with variance $2/\text{fan-in}$, which keeps the size of the signal — forward and
# backward — about the same from layer to layer, since a ReLU zeroes about half of its inputs.
# Same depth, same width, same training:

# %%
relu_model = build_mlp(
    2, depth=10, width=32, activation="relu", kernel_initializer="he_normal", output_units=3
)
relu_model = compiled(reinitialize(relu_model, seed=0))
relu_monitor, relu_change = train(relu_model)
relu_accuracy = accuracy(relu_model, x_test, y_test)
relu_first = relu_monitor.at(0)
print(f"{'':>20} {'sigmoid':>10} {'ReLU + He':>10}")
print(
    f"{'vanishing ratio':>20} {vanishing_ratio(first):>10.0e} {vanishing_ratio(relu_first):>10.2f}"
)
print(
    f"{'hidden_1 moved by':>20} {sigmoid_change['hidden_1']:>10.0e} "
    f"{relu_change['hidden_1']:>10.2f}"
)
print(
    f"{'test accuracy':>20} {sigmoid_accuracy:>10.0%} {relu_accuracy:>10.0%}  (chance {chance:.0%})"
)
relu_vanishing = [f.layer for f in relu_monitor.findings if f.kind == "vanishing"]
print(f"vanishing finding at: {relu_vanishing or 'none'}")

# %% [markdown]
# The vanishing ratio goes from below $10^{-6}$ to the printed value of about a tenth: every
# layer now gets a gradient within about a factor of 10 of the largest (not equal to it: order
# 0.1, not 1), `hidden_1`'s weights move by several percent of their size instead of a millionth,
# the monitor reports no vanishing gradient, and the network learns the spirals far above
# chance. The gradient profile at the first and last records shows both networks side by side:
# the sigmoid network's profile climbs steeply from the input side to the output side, the ReLU
# network's is nearly flat.

# %%
plots.gradient_profile({"sigmoid": sigmoid_monitor, "ReLU + He": relu_monitor})

# %% [markdown]
# ## 5. Which one did the work: ReLU, He, or both?
#
# Section 4 changed two things at once. To tell them apart we train all four combinations, each
# from three initial seeds (the spread says how much of a difference is luck), with the same
# SGD run, and measure the vanishing ratio at step 0, how far `hidden_1` moved and the test
# accuracy beside chance.
#
# The initializer decides only the starting weights, so the runs need just two networks, the
# sigmoid and the ReLU one from above. For each run we set the hidden layers' initializer and
# call `reinitialize`, which redraws the weights and zeroes the optimizer's state: the network
# trains exactly as a newly built one would. Reusing a compiled network saves TensorFlow from
# tracing the training step again for every run.
#
# **Predict, then run.** Before you run the ablation, write down which of the two changes you
# expect to do the work.

# %%
ex.predict

# %%
prediction = "b"  # SOLUTION predict


# %%
networks = {"sigmoid": sigmoid_model, "relu": relu_model}  # compiled once, trained again below


def restart(activation, initializer, seed):
    """The compiled network of `activation`, with new weights drawn by `initializer`."""
    model = networks[activation]
    for layer in model.layers[:-1]:  # the hidden layers; the output layer keeps Glorot
        layer.kernel_initializer = keras.initializers.get(initializer)
    return reinitialize(model, seed=seed)  # new weights, and the optimizer's state zeroed


def measure(activation, initializer, seed):
    """Vanishing ratio at step 0, hidden_1's relative movement and test accuracy of one run."""
    model = restart(activation, initializer, seed)
    ratio = vanishing_ratio(layer_gradient_norms(model, *probe))
    _, change = train(model, monitor=False)
    return ratio, change["hidden_1"], accuracy(model, x_test, y_test)


ablation = {
    "sigmoid + Glorot": ("sigmoid", "glorot_uniform"),
    "sigmoid + He": ("sigmoid", "he_normal"),
    "ReLU + Glorot": ("relu", "glorot_uniform"),
    "ReLU + He": ("relu", "he_normal"),
}
shown = {  # seed 0 of these two is the run of sections 2 and 4
    "sigmoid + Glorot": (vanishing_ratio(first), sigmoid_change["hidden_1"], sigmoid_accuracy),
    "ReLU + He": (vanishing_ratio(relu_first), relu_change["hidden_1"], relu_accuracy),
}
results = {
    name: [
        shown[name] if seed == 0 and name in shown else measure(*setting, seed)
        for seed in (0, 1, 2)
    ]
    for name, setting in ablation.items()
}
print(f"{'3 seeds each':>17} {'vanishing ratio':>24} {'hidden_1 moved':>24} {'test accuracy':>17}")
for name, per_seed in results.items():
    ratios, moved, scores = np.array(per_seed).T
    print(
        f"{name:>17} {ratios.min():>11.0e} – {ratios.max():<10.0e} "
        f"{moved.min():>11.0e} – {moved.max():<10.0e} "
        f"{scores.min():>7.0%} – {scores.max():<6.0%}"
    )
print(f"chance accuracy: {chance:.0%}")

# %%
ex.predict.check(prediction)

# %% [markdown]
# The activation does the work. With sigmoids, He initialization only raises the ratio from
# about $10^{-7}$ to about $10^{-6}$: still far below the alarm threshold, `hidden_1` still moves
# by a few millionths, accuracy still at chance for every seed. ReLU with Glorot already brings
# the ratio within the order of ReLU + He and learns far above chance, but its accuracy spreads
# widely over the seeds; ReLU + He gives the steadiest profile and the best accuracy for all
# three seeds. So: ReLU removes the shrinking factor, and He initialization (scaled for the
# ReLU's zeroed half) makes the result reliable.
#
# **What about Adam?** Adam divides each weight's step by a running average of that weight's
# gradient size, so a tiny gradient still gets a step of about the learning rate. Here is the
# sigmoid network again, trained with Adam instead of SGD:

# %%
# the section 2 network from its seed-0 start, compiled again with Adam
adam = keras.optimizers.Adam(learning_rate=0.01)
adam_model = compiled(restart("sigmoid", "glorot_uniform", 0), optimizer=adam)
_, adam_change = train(adam_model, monitor=False)
adam_accuracy = accuracy(adam_model, x_test, y_test)
print(
    f"hidden_1 moved by: SGD {sigmoid_change['hidden_1']:.0e}, Adam {adam_change['hidden_1']:.2f}"
)
print(
    f"test accuracy:     SGD {sigmoid_accuracy:.0%}, Adam {adam_accuracy:.0%} (chance {chance:.0%})"
)

# %% [markdown]
# Adam makes `hidden_1` move by a sizeable fraction of its weights where SGD moved it by a
# millionth — yet the accuracy stays at chance. Adam rescales the *size* of each step, but the
# direction still comes from a gradient computed through ten saturating derivatives: a vanishing
# gradient is also a noisy, poorly informed one. Adam hides the symptom in the update ratios
# without curing the cause.
#
# ## Summary
#
# - **Vanishing gradients**: in a deep network the gradient of a lower layer is a product of many
#   factors; when they are small it shrinks exponentially with depth, and the lower layers learn
#   very slowly or not at all (here: `hidden_1`'s gradient under a millionth of the top's, its
#   weights changed by under a millionth, test accuracy at chance, 33%).
# - **Gradient norm per layer**: the L2 norm of a layer's gradient; `GradientMonitor` records it on
#   a fixed probe batch during `fit`. The **vanishing ratio** is the lowest layer's norm over the
#   largest; the monitor flags it below $10^{-3}$. The **update-to-weight ratio** shows the same
#   profile in the steps (healthy about $-3$ on the log10 scale).
# - **Sigmoid derivative**: $\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 0.25$, so $n$ sigmoid layers
#   can shrink a gradient by up to $0.25^n$ — measured here as a factor just under that per layer.
# - **ReLU** passes gradients through active units unchanged (derivative 1); **He
#   initialization** (variance $2/\text{fan-in}$) keeps signal sizes steady across layers.
#   Together they bring the ratio from $10^{-7}$ to about 0.1 and the deep network learns. The
#   ablation shows ReLU does the work and He makes it reliable; He alone does not help sigmoids.
# - **Adam** rescales small gradients into normal-sized steps, but does not make a vanishing
#   gradient informative: the sigmoid network still stays at chance.
#
# Next lesson: the opposite failure — gradients that grow until they explode.
#
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
# ### Exercise 2 — a deep sigmoid network that learns
# Your network must keep its sigmoids: write `build_sigmoid_model()` that returns an
# **uncompiled** model for the spiral data (input shape `(2,)`, 3 output logits) with **at least
# {{q2.min_hidden}} sigmoid-activated hidden layers** and no other activation (no ReLU, no tanh).
# The check draws fresh weights, asks for the gradient profile at step 0 (the lowest layer must
# get at least {{q2.min_ratio:g}} of the largest gradient), trains it for {{q2.epochs}} short
# epochs with SGD (learning rate {{q2.learning_rate:g}}, as in the lesson) and needs a final
# training loss of at most {{q2.max_loss:.3f}}: {{q2.loss_fraction:.0%}} of the
# {{q2.frequency_loss:.3f}} that predicting the class frequencies scores. It reports the test
# accuracy beside chance too.
# Section 5 showed that neither He initialization nor Adam is enough.


# %%
def build_sigmoid_model():
    # BEGIN SOLUTION q2
    layers = [keras.Input(shape=(2,))]
    for i in range(1, 11):
        layers += [
            keras.layers.Dense(32, name=f"hidden_{i}"),
            keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}"),
            keras.layers.Activation("sigmoid", name=f"act_{i}"),
        ]
    return keras.Sequential([*layers, keras.layers.Dense(3, name="output")])
    # END SOLUTION


# %% tags=["nbval-ignore-output"]
ex.q2.check(build_sigmoid_model)

# %% [markdown]
# ### Exercise 3 — would a larger learning rate help?
# Below is one `update_ratio` record of an 8-layer sigmoid network trained with plain SGD
# (log10 of std(ΔW)/std(W) per layer). Suppose you multiply the learning rate until `hidden_1`'s
# ratio reaches the healthy {{q3.healthy:g}}, on the same gradients. What would the **output**
# layer's log10 update ratio be then? Store it in `output_ratio` (within {{q3.tolerance:g}}).

# %%
update_record = ex.UPDATE_RECORD
update_record

# %%
updates = update_record["update_ratio"]
output_ratio = updates["output"] + (-3 - updates["hidden_1"])  # SOLUTION q3

# %%
ex.q3.check(output_ratio)

# %% [markdown]
# ### Exercise 4 — diagnose three runs
# Three short runs you have not seen were recorded. Each has a `.description` (what was
# trained), `.history` (the Keras losses) and monitors `.grads` and `.dead` with the accessors
# used above; `.plot()` draws losses (with the predict-the-class-frequencies baseline),
# gradient norms, update-to-weight ratios and dead-unit fractions. For each run name the failure
# (one of `ex.FAILURES`) and a remedy (one of `ex.REMEDIES`), e.g.
# `{"A": ("exploding", "batch_norm"), ...}`.

# %%
runs = ex.q4.recorded()
for run in runs.values():
    print(run.id, run.description)

# %%
runs["A"].plot()

# %%
runs["B"].plot()

# %%
runs["C"].plot()

# %%
diagnosis = {"A": ..., "B": ..., "C": ...}
# BEGIN SOLUTION q4
diagnosis = {
    "A": ("lr_too_low", "raise_lr"),
    "B": ("healthy", "none"),
    "C": ("vanishing", "relu_he"),
}
# END SOLUTION

# %%
ex.q4.check(diagnosis)

# %% [markdown]
# ## Playground challenge
#
# The playground trains small Keras networks live on 2-D data. The challenge hands you its
# `vanishing` preset: {{p1.start_depth}} sigmoid layers with Glorot initialization and plain SGD at
# learning rate {{p1.start_learning_rate:g}}, on two concentric circles. Change **at most
# {{p1.max_changes}} controls** so that after {{p1.steps}} steps the network learns (test accuracy
# at least {{p1.margin_points}} percentage points above predicting the majority class) and the
# monitor reports no vanishing gradient. The check retrains your set-up on its own seed.
#
# How to play: in Jupyter or Colab `pg.show()` opens the live app; change controls, press
# **Play** and watch the gradient-norm profile, then store the set-up with
# `vanishing_fix = pg.state`. In a non-interactive run `pg.show()` draws a static summary of a
# short run instead.

# %%
pg = ex.p1.playground()
pg.show()

# %%
vanishing_fix = {**pg.state, "activation": "relu", "initializer": "he"}  # SOLUTION p1

# %% tags=["nbval-ignore-output"]
ex.p1.check(vanishing_fix)

# %% [markdown]
# ## Test your knowledge
#
# Answer each question with the key of one option, e.g. `answer_k1 = "a"`.

# %%
ex.k1

# %%
answer_k1 = "c"  # SOLUTION k1

# %%
ex.k1.check(answer_k1)

# %%
ex.k2

# %%
answer_k2 = "b"  # SOLUTION k2

# %%
ex.k2.check(answer_k2)

# %%
ex.k3

# %%
answer_k3 = "a"  # SOLUTION k3

# %%
ex.k3.check(answer_k3)

# %%
ex.k4

# %%
answer_k4 = "d"  # SOLUTION k4

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

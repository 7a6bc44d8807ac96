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
#   which of the three changes the gradient itself and which only limits the step — and judge
#   each against the loss of predicting the mean.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np
from matplotlib.figure import Figure

from labkit.callbacks import GradientMonitor
from labkit.datasets import epoch_batches
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
# near $10^6$ after 20 layers. That straight climb is the explosion.
#
# ## 2. A network that explodes
#
# Our task is a small regression: 8 random input features and a real-valued target
# $y = \sin x_1 + 0.5\,x_2 x_3 - 0.3\,x_4$. Two trivial models set the bar every loss below is
# judged against: predicting the mean of $y$ (its MSE is the variance of $y$) and a linear
# least-squares fit. The network has 4 ReLU layers of 32 units and a linear output, trained with
# mean squared error (MSE) and plain SGD at learning rate 0.01. The only change from a healthy
# network: weights drawn with standard deviation 0.5, twice He's 0.25. `make_model` draws those
# weights with NumPy (`labkit.models.reinitialize`), so TensorFlow, JAX and PyTorch all start
# from the same ones.

# %%
x = rng.normal(size=(512, 8)).astype("float32")
y = (np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3]).astype("float32")[:, None]
probe = (x[:256], y[:256])

mean_mse = float(np.var(y))
design = np.c_[x, np.ones(len(x))]
linear_mse = float(np.mean((design @ np.linalg.lstsq(design, y, rcond=None)[0] - y) ** 2))
print(
    f"baselines on the training set: predict the mean {mean_mse:.2f}, linear fit {linear_mse:.2f}"
)


def make_model(std=0.5, batch_norm=False, seed=1):
    init = keras.initializers.RandomNormal(stddev=std)
    model = build_mlp(8, depth=4, width=32, kernel_initializer=init, batch_norm=batch_norm)
    return reinitialize(model, seed=seed)


models = {}
for std in (0.25, 0.5):
    models[std] = make_model(std)
    models[std].compile(optimizer="sgd", loss="mse")
    norms = layer_gradient_norms(models[std], *probe)
    print(f"std {std}: " + "  ".join(f"{name} {n:.1e}" for name, n in norms.items()))
ratio = {
    name: big / small
    for (name, big), small in zip(
        layer_gradient_norms(models[0.5], *probe).items(),
        layer_gradient_norms(models[0.25], *probe).values(),
    )
}
print(
    "doubling the weights multiplied them by "
    + "  ".join(f"{n} x{r:.0f}" for n, r in ratio.items())
)

# %% [markdown]
# Doubling the weights made every layer's weight gradient one to two hundred times larger —
# but look where most: the output layer, not `hidden_1`. The course page says the gradients of
# the *lower* layers involve products of many large terms; to see those products we have to
# split a weight gradient into its two factors. For a Dense layer with weighted sums
# $z = a_{\text{in}} W + b$, backpropagation gives
#
# $$\frac{\partial L}{\partial W} = a_{\text{in}}^\top\,\delta, \qquad
# \delta = \frac{\partial L}{\partial z},$$
#
# the **backward signal** $\delta$ (how the loss changes with the layer's weighted sums) times
# the **activation** $a_{\text{in}}$ coming into the layer. Below we compute both in NumPy, from
# the Keras model's own weights, exactly as in lesson 1: forward through the layers, then
# $\delta$ backward through $W^\top$ and the ReLU's 0/1 derivative. The last column is the
# gradient norm (kernel and bias) rebuilt from them: it matches Keras's std-0.5 norms above.


# %%
def signal_and_activations(model, x, y):
    """Backward signal norm |dL/dz| and incoming activation RMS of each Dense layer (NumPy)."""
    weights = model.get_weights()
    kernels, biases = weights[0::2], weights[1::2]
    inputs, sums = [], []
    a = x
    for i, (w, b) in enumerate(zip(kernels, biases)):
        inputs.append(a)
        z = a @ w + b
        sums.append(z)
        a = np.maximum(z, 0) if i < len(kernels) - 1 else z
    delta = 2 * (a - y) / y.size  # d(MSE)/d(output)
    signal, grad = [None] * len(kernels), [None] * len(kernels)
    for i in reversed(range(len(kernels))):
        signal[i] = delta
        grad[i] = np.sqrt(np.sum((inputs[i].T @ delta) ** 2) + np.sum(delta.sum(axis=0) ** 2))
        if i:
            delta = (delta @ kernels[i].T) * (sums[i - 1] > 0)
    names = [layer.name for layer in model.layers]
    return {
        name: (np.linalg.norm(s), np.sqrt(np.mean(a_in**2)), g)
        for name, s, a_in, g in zip(names, signal, inputs, grad)
    }


parts = {std: signal_and_activations(models[std], *probe) for std in (0.25, 0.5)}
print(f"{'layer':9s} {'signal |dL/dz|':>21s} {'incoming activation':>21s} {'grad, NumPy':>10s}")
header = ("std 0.25", "std 0.5") * 2 + ("std 0.5",)
print(f"{'':9s} " + " ".join(f"{h:>10s}" for h in header))
for name in parts[0.5]:
    (s1, a1, _), (s2, a2, g2) = parts[0.25][name], parts[0.5][name]
    print(f"{name:9s} {s1:10.1e} {s2:10.1e} {a1:10.2f} {a2:10.1f} {g2:10.1e}")

# %% [markdown]
# Read the columns from the bottom (the output) up:
#
# - the **backward signal** grows toward the input. At std 0.5, from `hidden_4` down, each
#   layer doubles it (1.6 → 3.3 → 6.6 → 13), so `hidden_1`'s signal is the largest — that is
#   the product of many large terms. At std 0.25 it stays level (0.16 in every layer);
# - the **activations** grow the other way, toward the output: from `hidden_2` up each layer
#   roughly doubles its input (0.9 → 1.6 → 3.6 → 6.9), so the output layer receives the
#   largest activations, while `hidden_1` receives the raw inputs (size about 1) at both
#   scales.
#
# A weight gradient is signal × incoming activation, so the two growths cross: `hidden_1` gets
# the largest signal but small inputs, the output layer the smallest signal but large inputs.
# With large weights every layer's gradient is inflated, and how it is spread over the layers
# depends on both factors — not on the depth alone.
#
# Now train it. Each step below uses the whole training set (batch size 512), so each entry of
# the loss history is one gradient step.

# %%
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
history = model.fit(x, y, batch_size=512, epochs=8, verbose=0)
print("loss per step:", [f"{loss:.2g}" for loss in history.history["loss"]])

# %% [markdown]
# The first update is so large that the loss jumps up by two orders of magnitude; the gradient
# at the new weights is larger still, so the next steps overshoot further, and soon every
# number is `nan`: the network is ruined. Gradients too large to converge: that is an exploding
# gradient.
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
print(
    f"largest gradient norm at step 0 (before any update): {max(monitor.snapshot(0).values()):.1e}"
)
at_finding = monitor.snapshot(f.step)
print(f"at step {f.step}: " + "  ".join(f"{name} {n:.1e}" for name, n in at_finding.items()))
print(f"first finding: {f.kind} in layer {f.layer} at step {f.step}")
print("training stopped:", model.stop_training, "after", len(history.history["loss"]), "step(s)")
print("last loss:", f"{history.history['loss'][-1]:.3g}")
print("the finding says:", f.message)

# %% [markdown]
# Before any update the largest gradient norm was just under the alarm level of $10^3$. The
# first update, taken along those large gradients, overshot: at the new weights (step 1) the
# printed norms are above $10^3$, so the monitor recorded an `exploding` finding naming the
# first offending layer and stopped training after that one step, while the loss was still a
# finite number. The finding's message names the remedies, which we try next.
#
# ## 4. Three remedies, measured against the baselines
#
# We train the same large-init network with mini-batches of 64 for 10 epochs (80 steps) and
# three random initializations (seeds 1, 2, 3), four ways:
#
# - **no remedy** — SGD at 0.01, as above;
# - **batch normalization** — `build_mlp(batch_norm=True)` puts a `BatchNormalization` layer
#   between each Dense layer and its ReLU. It rescales each unit's weighted sums over the batch
#   to mean 0 and variance 1, so however large the weights are, the next layer sees inputs of
#   size about 1: the factor $g$ of every layer is pulled back towards 1;
# - **a lower learning rate** — 2e-3 instead of 0.01: the gradients stay just as large, but each
#   step is 5 times shorter;
# - **gradient clipping** — `SGD(learning_rate=0.01, global_clipnorm=3.0)`: when the norm of
#   the *whole* gradient (all weight tensors together) is above 3.0, it is scaled down to 3.0,
#   so no step moves the weights by more than $0.01 \times 3.0$. (Keras's `clipnorm` instead
#   clips each weight tensor on its own, which bounds each tensor's step but not the whole
#   step, and changes the gradient's direction; `global_clipnorm` keeps the direction.)
#
# Each remedy's network is compiled once and restarted for every seed with `reinitialize`, which
# redraws the weights (and batch normalization's statistics) and zeroes the optimizer's state, so
# each run trains exactly as a newly built network would, without TensorFlow tracing the
# training step again. The table prints the largest layer gradient norm at step 0 (the raw
# gradient, before any clipping) and the final training loss of each seed, beside the two
# baselines. The examples are already in random order, so every epoch takes them in stored
# order (`shuffle=False`) and every backend sees the same mini-batches. `epoch_batches` hands
# `fit` exactly those batches, epoch after epoch, so that Keras sets up the data pass once per
# run instead of once per epoch.
#
# **Predict, then run.** Before you run the comparison, write down which remedy you expect to
# end lowest.

# %%
ex.predict

# %%
prediction = "c"  # SOLUTION predict

# %%
remedies = {
    "no remedy": dict(learning_rate=0.01),
    "batch normalization": dict(learning_rate=0.01, batch_norm=True),
    "lower learning rate": dict(learning_rate=2e-3),
    "gradient clipping": dict(learning_rate=0.01, global_clipnorm=3.0),
}
seeds = (1, 2, 3)
results = {}
for name, options in remedies.items():
    results[name] = []
    model = make_model(batch_norm=options.get("batch_norm", False))
    optimizer = keras.optimizers.SGD(
        learning_rate=options["learning_rate"], global_clipnorm=options.get("global_clipnorm")
    )
    model.compile(optimizer=optimizer, loss="mse")
    for seed in seeds:
        reinitialize(model, seed=seed)  # a fresh start: new weights, optimizer state zeroed
        largest = max(layer_gradient_norms(model, *probe).values())
        batches, steps = epoch_batches(x, y, batch_size=64)
        history = model.fit(batches, steps_per_epoch=steps, epochs=10, verbose=0, shuffle=False)
        results[name].append((np.array(history.history["loss"]), largest))

print(f"baselines: predict the mean {mean_mse:.2f}, linear fit {linear_mse:.2f}")
print(f"{'remedy':21s} {'grad norm, step 0':>17s}  final loss (seeds 1, 2, 3)   beats the mean?")
for name, runs in results.items():
    finals = [losses[-1] for losses, _ in runs]
    largest = np.median([g for _, g in runs])
    shown = "  ".join(f"{v:6.2f}" if np.isfinite(v) else f"{'nan':>6s}" for v in finals)
    beats = sum(bool(np.isfinite(v) and v < mean_mse) for v in finals)
    print(f"{name:21s} {largest:17.1e}  {shown}          {beats} of {len(seeds)}")

# %%
ex.predict.check(prediction)

# %%
fig = Figure(figsize=(7.5, 4.2), layout="constrained")
ax = fig.add_subplot()
colors = dict(zip(results, ["C3", "C0", "C1", "C2"]))
for name, runs in results.items():
    for k, (losses, _) in enumerate(runs):
        epochs = np.arange(1, len(losses) + 1)
        finite = np.isfinite(losses)
        label = name if k == 0 else None
        ax.plot(epochs[finite], losses[finite], color=colors[name], alpha=0.8, label=label)
        if not finite.all():
            first = int(np.argmax(~finite))
            ax.plot(epochs[first], 1e3, "x", color=colors[name], markersize=10, mew=2)
ax.axhline(mean_mse, color="k", ls="--", label=f"predict the mean ({mean_mse:.2f})")
ax.axhline(linear_mse, color="k", ls=":", label=f"linear fit ({linear_mse:.2f})")
ax.set_yscale("log")
ax.set_ylim(0.1, 2e3)
ax.set_xlabel("epoch (8 steps each)")
ax.set_ylabel("training loss, MSE (log)")
ax.set_title(
    "Large initial weights: three remedies vs none, 3 seeds each\n"
    "x = the epoch where the loss left the finite range"
)
ax.grid(True, alpha=0.3)
ax.legend(fontsize=8)
fig

# %% [markdown]
# The "no remedy" runs are the crosses: in every seed the loss left the finite range in the
# epoch the cross marks. The three remedies all keep it finite, but only one of them is a fix
# within this budget:
#
# - **batch normalization** shrinks the gradient itself (its step-0 norm is the smallest in the
#   table) and is the only remedy that ends well below predicting the mean: 0.45–0.48 against
#   0.85, in every seed. It does not reach the linear fit (0.33) in 80 steps;
# - **a lower learning rate** and **clipping** leave the raw gradient as large as with no
#   remedy: they shrink the *step* taken along it. They buy stability, and little more here:
#   after 80 steps the lower learning rate ends just below predicting the mean (0.81–0.84
#   against 0.85 in the table) and global clipping above it (1.45–1.80), so neither is a fix
#   yet. A rate low enough for the first steps is needlessly slow later, and a clip value has
#   to be chosen (exercises 1 and 3).
#
# Why does batch normalization work? Print the scale of each layer's weighted sums (the
# standard deviation of $z$ over the probe batch and the units) with and without it, using the
# same large weights:

# %%
scale = {}
for batch_norm in (False, True):
    model = make_model(batch_norm=batch_norm)
    layers = [layer for layer in model.layers if layer.name.startswith(("bn_", "hidden_"))]
    wanted = [
        layer for layer in layers if layer.name.startswith("bn_" if batch_norm else "hidden_")
    ]
    probe_model = keras.Model(model.inputs, [layer.output for layer in wanted])
    sums = probe_model(probe[0], training=True)
    stds = [float(np.std(keras.ops.convert_to_numpy(z))) for z in sums]
    label = "with batch norm (after bn_i)" if batch_norm else "without (Dense output)"
    print(f"{label:30s} " + "  ".join(f"layer {i + 1}: {s:5.2f}" for i, s in enumerate(stds)))
    scale[label] = stds

fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.add_subplot()
for label, stds in scale.items():
    ax.plot(range(1, len(stds) + 1), stds, marker="o", label=label)
ax.set_yscale("log", base=2)
ax.set_xticks(range(1, len(stds) + 1))
ax.set_xlabel("hidden layer (input side first)")
ax.set_ylabel("std of the weighted sums z (log2 scale)")
ax.set_title("Scale of each layer's weighted sums, same large weights")
ax.legend()
ax.grid(True, alpha=0.3)
fig

# %% [markdown]
# Without normalization the weighted sums grow by about 2 per layer (on the log2 axis, about one
# grid line per layer), the forward half of the same product; with batch normalization every
# layer's ReLU receives sums of standard deviation 1, whatever the weights are.
#
# *Backends.* The weights, the data and the batch order are all drawn with NumPy, so
# TensorFlow, JAX and PyTorch run the same experiments; the stored outputs are TensorFlow's.
#
# ## Summary
#
# - **Exploding gradients**: when each layer scales the backpropagated signal by a factor
#   $g > 1$, the signal $\partial L/\partial z$ grows like $g^L$ toward the input — the product
#   of many large terms. Each weight gradient is that signal times the activation coming into
#   the layer, and the activations grow the other way, so every layer's gradient is inflated.
# - **Symptom**: the loss jumps up, becomes `inf`, then `nan`. **Detection**:
#   `GradientMonitor(probe=..., on_explode="stop")` names the first layer whose gradient norm is
#   not finite or above `exploding_norm`, and stops `fit`.
# - **Batch normalization** rescales each layer's weighted sums to standard deviation 1,
#   keeping every factor near 1: it fixes the gradient itself, and here it is the only remedy
#   that ends well below predicting the mean in 80 steps (0.45–0.48 against 0.85; the lower
#   learning rate ends just below it, 0.81–0.84).
# - **A lower learning rate** and **gradient clipping** (`global_clipnorm` bounds the whole
#   step, `clipnorm` each weight tensor separately) keep the gradient but limit the step: they
#   stop the divergence, but in a short budget they learn little.
#
# ## Exercises
#
# Every check trains on fresh data from another random initialization, and passes only when
# the loss stays finite and ends below {{q1.margin:g}} × the MSE of predicting the mean.
#
# **Exercise 1.** Find a plain-SGD learning rate that makes the std-0.5 network (4 layers)
# beat predicting the mean. The check trains {{q1.steps}} steps with batch size {{q1.batch}}.
# Too high a rate diverges; too low stays stable but learns too little — the message says which.

# %%
learning_rate = 3e-3  # SOLUTION q1

# %%
ex.q1.check(learning_rate)

# %% [markdown]
# **Exercise 2.** Make the explosion worse: {{q2.depth}} hidden ReLU layers of 32 units, weights
# drawn with `keras.initializers.RandomNormal(stddev=0.5)`, and a higher rate,
# `SGD(learning_rate={{q2.learning_rate:g}})`. Write a builder (8 inputs, one linear output)
# that keeps those weights and still trains: the check trains it for {{q2.steps}} steps.


# %%
def build_model():
    # BEGIN SOLUTION q2
    big = keras.initializers.RandomNormal(stddev=0.5)
    return build_mlp(8, depth=8, width=32, kernel_initializer=big, batch_norm=True)
    # END SOLUTION


# %% tags=["nbval-ignore-output"]
ex.q2.check(build_model)

# %% [markdown]
# **Exercise 3.** Back to the 4-layer network, now at learning rate {{q3.learning_rate:g}} — five
# times the rate that already diverged. Pick the value for
# `SGD(learning_rate={{q3.learning_rate:g}}, global_clipnorm=clip_value)` so the network trains
# in {{q3.steps}} steps.

# %%
clip_value = 10.0  # SOLUTION q3

# %%
ex.q3.check(clip_value)

# %% [markdown]
# **Exercise 4 (diagnosis).** Three runs you have not seen, recorded on the same regression
# task. For each, name what went wrong — one of `"exploding"`, `"lr_too_high"`, `"healthy"`
# (the full list is `labkit.exercises.diagnosis.FAILURES`) — and a remedy from
# `labkit.exercises.diagnosis.REMEDIES` (`"none"` for a healthy run). Two of them end in `nan`:
# look at what their gradients did *before* the first update.

# %%
runs = ex.q4.recorded()
for run_id, run in runs.items():
    print(run_id, "—", run.description)
    print("   gradient norms at step 0:", {k: f"{v:.2g}" for k, v in run.grads.at(0).items()})
    print("   loss per epoch:", [f"{v:.3g}" for v in run.history["loss"]])
runs["A"].plot()

# %%
diagnosis = {}
diagnosis["A"] = ("lr_too_high", "lower_lr")  # SOLUTION q4
diagnosis["B"] = ("healthy", "none")  # SOLUTION q4
diagnosis["C"] = ("exploding", "batch_norm")  # SOLUTION q4

# %%
ex.q4.check(diagnosis)

# %% [markdown]
# ## Playground challenge
#
# The playground trains small Keras networks live on 2-D data. The challenge hands you its
# `exploding` preset: {{p1.start_depth}} ReLU layers with He initialization but weights
# {{p1.start_init_scale:g}} times He's size (`init_scale`), trained with plain SGD at learning rate
# {{p1.start_learning_rate:g}}. Change **{{p1.max_changes}} control** so that after {{p1.steps}}
# steps the network learns (test accuracy at least {{p1.margin_points}} percentage points above
# predicting the majority class) and the monitor reports no exploding gradient. The check retrains
# your set-up on its own seed.
#
# How to play: in Jupyter or Colab `pg.show()` opens the live app; change a control, press
# **Play** and watch the gradient norms and the loss, then store the set-up with
# `exploding_fix = pg.state`. In a non-interactive run `pg.show()` draws a static summary of a
# short run instead.

# %%
pg = ex.p1.playground()
pg.show()

# %%
exploding_fix = {**pg.state, "batch_norm": True}  # SOLUTION p1

# %% tags=["nbval-ignore-output"]
ex.p1.check(exploding_fix)

# %% [markdown]
# ## Test your knowledge
#
# Answer each question with the key of one option, e.g. `answer_k1 = "a"`.

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
answer_k5 = "d"  # SOLUTION k5

# %%
ex.k5.check(answer_k5)

# %%
ex.summary()

# %% [markdown]
# # Lesson 1 — Backpropagation
#
# Training a neural network means nudging every weight a little in the direction that lowers the
# loss. To know that direction we need the gradient: how much the loss changes when each weight
# changes. **Backpropagation** computes all of those gradients at once, by running the chain rule
# backwards from the loss to the first layer. Keras does this for you, but in this lesson you do it
# by hand, on a network small enough to see every number, and then check your work two ways.
#
# **Learning objectives**
#
# - run the forward pass of a one-hidden-layer network and compute its loss;
# - derive the backward pass with the chain rule, one step at a time;
# - check hand-written gradients against automatic differentiation and finite differences;
# - take one gradient-descent step and see the loss go down;
# - test what the trained network learned on points it never saw, against chance and a straight
#   line.

# %%
import labkit

labkit.setup(seed=0)

import keras
import numpy as np
from matplotlib.figure import Figure

from labkit.backend import loss_and_gradients
from labkit.exercises import lesson01 as ex

# %% [markdown]
# ## 1. A tiny network and its forward pass
#
# Our data: 16 points in the plane, labelled 1 when both coordinates have the same sign and 0
# otherwise (the "XOR" pattern: no straight line can separate the two classes, and section 6
# measures how far a line gets). Our network has 2 inputs, one hidden layer of 3 sigmoid units
# and one output:
#
# $$z_1 = X W_1 + b_1,\qquad h = \sigma(z_1),\qquad \text{logit} = h W_2 + b_2,$$
#
# where $\sigma(z) = 1/(1+e^{-z})$. The output is a *logit*: $\sigma(\text{logit})$ is the
# predicted probability of class 1. The loss is the mean binary cross-entropy over the $N$
# examples, $L = -\frac1N\sum \big[y\log p + (1-y)\log(1-p)\big]$ with $p = \sigma(\text{logit})$.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(16, 2))
y = (X[:, :1] * X[:, 1:] > 0).astype(float)  # shape (16, 1): 1 when the signs agree

params = {
    "W1": rng.normal(size=(2, 3)),
    "b1": np.zeros(3),
    "W2": rng.normal(size=(3, 1)),
    "b2": np.zeros(1),
}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(params, X):
    z1 = X @ params["W1"] + params["b1"]
    h = sigmoid(z1)
    logits = h @ params["W2"] + params["b2"]
    return logits, (z1, h)


def bce_loss(logits, y):
    p = sigmoid(logits)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


logits, (z1, h) = forward(params, X)
loss = bce_loss(logits, y)
print(f"shapes: X {X.shape}, h {h.shape}, logits {logits.shape}")
print(f"loss = {loss:.4f}   (guessing p = 0.5 for everything would give ln 2 = {np.log(2):.4f})")

# %% [markdown]
# The untrained network is about as good as a coin flip. To improve it we need
# $\partial L/\partial W_1$, $\partial L/\partial b_1$, $\partial L/\partial W_2$ and
# $\partial L/\partial b_2$.
#
# ## 2. The backward pass: the chain rule, one step at a time
#
# The loss depends on $W_1$ only *through* $z_1$, which affects $h$, which affects the logits.
# The chain rule says: multiply the local derivatives along that path. Backpropagation walks the
# path from the loss back to the input and keeps the running product, so every layer reuses the
# work done above it. We write `dA` for $\partial L/\partial A$; each `dA` has the shape of `A`.
#
# 1. **Loss → logits.** For the sigmoid with cross-entropy the derivative is famously simple:
#    $\partial L/\partial\,\text{logit} = (p - y)/N$ — the prediction error, averaged.
# 2. **Logits → $W_2$, $b_2$, $h$.** $\text{logit} = hW_2 + b_2$ is linear, so
#    $dW_2 = h^\top d\text{logits}$, $db_2 = \sum_\text{batch} d\text{logits}$ and
#    $dh = d\text{logits}\, W_2^\top$.
# 3. **$h$ → $z_1$.** Through the sigmoid: $dz_1 = dh \odot \sigma'(z_1)$, and
#    $\sigma'(z) = \sigma(z)(1-\sigma(z)) = h(1-h)$.
# 4. **$z_1$ → $W_1$, $b_1$.** Linear again: $dW_1 = X^\top dz_1$, $db_1 = \sum_\text{batch} dz_1$.

# %%
N = len(X)
dlogits = (sigmoid(logits) - y) / N  # step 1: (16, 1)
dW2 = h.T @ dlogits  # step 2: (3, 16) @ (16, 1) -> (3, 1)
db2 = dlogits.sum(axis=0)  #         (1,)
dh = dlogits @ params["W2"].T  #     (16, 1) @ (1, 3) -> (16, 3)
dz1 = dh * h * (1 - h)  # step 3: elementwise, sigma'(z1) = h(1 - h)
dW1 = X.T @ dz1  # step 4: (2, 16) @ (16, 3) -> (2, 3)
db1 = dz1.sum(axis=0)  #         (3,)

grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
for name, g in grads.items():
    print(f"d{name}: shape {g.shape} (same as {name}: {params[name].shape == g.shape})")
print("dW1 =\n", np.round(dW1, 4))

# %% [markdown]
# Seven lines give every gradient. Each gradient has exactly its parameter's shape, which is a
# quick sanity check on the transposes. But a sign or a missing factor would still slip through
# unnoticed, so let us check the numbers themselves.
#
# ## 3. Check 1: Keras's automatic differentiation
#
# Keras builds the same chain of derivatives automatically. We build the same network in Keras,
# copy in *our* weights with `set_weights`, compile it with the same loss (the cross-entropy from
# logits) and ask `labkit.backend.loss_and_gradients` for its loss and gradients (Keras's
# gradients come in the order `W1, b1, W2, b2`, like its weights).

# %%
model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(3, activation="sigmoid"),
        keras.layers.Dense(1),
    ]
)
model.set_weights([params[k] for k in ["W1", "b1", "W2", "b2"]])
model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))

keras_loss, keras_grads = loss_and_gradients(model, X, y)
diff = max(np.max(np.abs(grads[k] - g)) for k, g in zip(["W1", "b1", "W2", "b2"], keras_grads))
print(f"loss:  NumPy {loss:.4f}   Keras {keras_loss:.4f}")
print(f"largest |NumPy - Keras| over all 13 gradient entries < 1e-6: {diff < 1e-6}")
print(f"float32 resolution (Keras): {np.finfo(np.float32).eps:.1e}")
print("Keras dW1 =\n", np.round(keras_grads[0], 4))

# %% [markdown]
# The losses agree, and every gradient entry agrees to better than $10^{-6}$: Keras computes in
# 32-bit floats, whose resolution is about $10^{-7}$ (our NumPy arrays use 64 bits), so this is
# as close as we can expect. (This is the lesson's one note on numerics: every other number is
# computed in NumPy and is the same on every Keras backend.) Automatic differentiation is no
# magic: it is the same chain rule, applied mechanically to every operation of the model.
#
# ## 4. Check 2: finite differences
#
# The definition of a derivative gives a check that needs no calculus at all: nudge one weight
# by a tiny $\varepsilon$ and see how the loss moves. The **central difference**
#
# $$\frac{\partial L}{\partial w} \approx \frac{L(w+\varepsilon) - L(w-\varepsilon)}{2\varepsilon}$$
#
# is accurate to order $\varepsilon^2$; the one-sided version $(L(w+\varepsilon)-L(w))/\varepsilon$
# only to order $\varepsilon$. Here is one weight, $W_1[1, 1]$:


# %%
def loss_at(params):
    return bce_loss(forward(params, X)[0], y)


eps = 1e-4
plus = {**params, "W1": params["W1"].copy()}
minus = {**params, "W1": params["W1"].copy()}
plus["W1"][1, 1] += eps
minus["W1"][1, 1] -= eps
central = (loss_at(plus) - loss_at(minus)) / (2 * eps)
one_sided = (loss_at(plus) - loss_at(params)) / eps
error_central = abs(central - dW1[1, 1])
error_one_sided = abs(one_sided - dW1[1, 1])
print(f"backprop dW1[1,1]    = {dW1[1, 1]:.6f}")
print(f"central difference   = {central:.6f}   error < 1e-10: {error_central < 1e-10}")
print(f"one-sided difference = {one_sided:.6f}   error ~ {error_one_sided:.0e}")

# %% [markdown]
# The central difference agrees with backpropagation to better than $10^{-10}$; the one-sided
# one is off by about $10^{-6}$, at least ten thousand times worse, for the same $\varepsilon$.
# Now every one of the 13 parameters:

# %%
worst, evaluations = 0.0, 0
for name, value in params.items():
    for i in np.ndindex(value.shape):
        plus = {**params, name: value.copy()}
        minus = {**params, name: value.copy()}
        plus[name][i] += eps
        minus[name][i] -= eps
        numeric = (loss_at(plus) - loss_at(minus)) / (2 * eps)
        evaluations += 2
        worst = max(worst, abs(numeric - grads[name][i]))
print(f"largest |backprop - central difference| over all 13 entries < 1e-8: {worst < 1e-8}")
print(f"loss evaluations used: {evaluations}")

# %% [markdown]
# Finite differences are the referee whenever you write a gradient by hand. They are far too
# slow for training, though: the check above evaluated the loss twice for *each* parameter
# (26 forward passes), while backpropagation got all 13 gradients from one forward and one
# backward pass. For a network with a million weights that is two million forward passes against
# one: backpropagation is what makes gradient descent on big networks possible.
#
# ## 5. One step of gradient descent
#
# The gradient points in the direction in which the loss grows fastest. Gradient descent steps
# the other way: every parameter moves by $-\eta \cdot \partial L/\partial w$, with a learning
# rate $\eta$.

# %%
learning_rate = 1.0
stepped = {k: params[k] - learning_rate * grads[k] for k in params}
print(f"loss before the step: {loss_at(params):.4f}")
print(f"loss after the step:  {loss_at(stepped):.4f}")

# %% [markdown]
# One step lowered the loss. Training is nothing more than this step, repeated: forward pass,
# backward pass, update. Here are 2,000 steps of exactly the code above, with the accuracy on the
# 16 points at the end. The trivial baseline for the loss is the best *constant* prediction:
# $p$ = the fraction of 1s among the labels, for every point.


# %%
def train(params, X, y, steps=2000, learning_rate=1.0):
    losses = []
    for _ in range(steps):
        logits, (z1, h) = forward(params, X)
        losses.append(bce_loss(logits, y))
        dlogits = (sigmoid(logits) - y) / len(X)
        dh = dlogits @ params["W2"].T
        dz1 = dh * h * (1 - h)
        step = {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": h.T @ dlogits, "b2": dlogits.sum(0)}
        params = {k: params[k] - learning_rate * step[k] for k in params}
    return params, losses


def accuracy(params, X, y):
    return np.mean((forward(params, X)[0] > 0) == (y == 1))


trained, losses = train(params, X, y)
constant = bce_loss(np.full_like(y, np.log(y.mean() / (1 - y.mean()))), y)
print(f"loss: {losses[0]:.3f} at step 0 -> {losses[-1]:.3f} after 2000 steps")
print(f"baseline: the best constant prediction p = {y.mean():.3f} has loss {constant:.3f}")
print(f"training accuracy: {accuracy(trained, X, y):.0%}   (majority class: {y.mean():.1%})")

fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.add_subplot()
ax.plot(losses, label="the network")
ax.axhline(constant, color="gray", linestyle="--", label="best constant prediction")
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("mean binary cross-entropy")
ax.set_title("Training = forward, backward, update, repeated")
ax.legend(loc="center right")
ax.grid(True, alpha=0.3)
fig

# %% [markdown]
# The loss falls from 0.646, just below the constant baseline's 0.662, to 0.006, and the network
# now classifies all 16 training points correctly (the majority class alone gets 62.5%). Has it
# learned the XOR pattern?
#
# ## 6. Has it learned XOR? Points it never saw
#
# Sixteen correct answers on the points it trained on do not say that: a network can fit the
# points it was shown without capturing the rule behind them. The test is **held-out** data,
# drawn the same way but never used for training. We compare the network's held-out accuracy with
# three baselines: chance (50%), always answering the majority class, and a *straight line*: the
# same 2,000 gradient-descent steps on a model with no hidden layer (logistic regression).

# %%
rng_new = np.random.default_rng(99)
X_new = rng_new.normal(size=(1000, 2))
y_new = (X_new[:, :1] * X_new[:, 1:] > 0).astype(float)

line = {"W": np.zeros((2, 1)), "b": np.zeros(1)}
for _ in range(2000):
    dlogits = (sigmoid(X @ line["W"] + line["b"]) - y) / N
    line = {"W": line["W"] - X.T @ dlogits, "b": line["b"] - dlogits.sum(0)}
line_accuracy = np.mean((X_new @ line["W"] + line["b"] > 0) == (y_new == 1))
majority = max(y_new.mean(), 1 - y_new.mean())

held_out = accuracy(trained, X_new, y_new)
print(f"held-out accuracy on {len(X_new)} new points: network {held_out:.1%}")
print(f"  chance 50.0%   majority class {majority:.1%}   straight line {line_accuracy:.1%}")

# %% [markdown]
# On 1,000 points it never saw, the network is right 69.4% of the time: better than chance
# (50%), the majority class (51.5%) and a straight line (60.0%), but far from the 100% it scores
# on its own 16 training points. It has learned part of the pattern, not the pattern.
#
# Two things could be missing: **data** (16 points pin down very little of the plane) and
# **capacity** (3 hidden units). We change one at a time and train each setting from 3 random
# seeds (each seed draws a new training set and new initial weights; seed 0 with 16 points and 3
# units is the network above), always testing on the same 1,000 held-out points.


# %%
def experiment(n_points, hidden, seed):
    rng = np.random.default_rng(seed)
    X_s = rng.normal(size=(n_points, 2))
    y_s = (X_s[:, :1] * X_s[:, 1:] > 0).astype(float)
    start = {
        "W1": rng.normal(size=(2, hidden)),
        "b1": np.zeros(hidden),
        "W2": rng.normal(size=(hidden, 1)),
        "b2": np.zeros(1),
    }
    fitted, _ = train(start, X_s, y_s)
    return fitted, X_s, y_s


nets = {}
print("training points  hidden units   held-out accuracy, seeds 0 1 2    mean")
for n_points in (16, 200):
    for hidden in (3, 8):
        runs = [experiment(n_points, hidden, seed) for seed in (0, 1, 2)]
        nets[n_points, hidden] = runs[0]
        accs = [accuracy(net, X_new, y_new) for net, _, _ in runs]
        print(
            f"{n_points:>15}  {hidden:>12}   "
            + "  ".join(f"{a:.1%}" for a in accs)
            + f"    {np.mean(accs):.1%}"
        )
print(f"(chance 50.0%, majority class {majority:.1%}, straight line {line_accuracy:.1%})")

# %% [markdown]
# Data is what was missing. With 16 points, going from 3 to 8 hidden units moves the mean
# held-out accuracy only from 72.5% to 73.5%, less than the spread between seeds (69.1% to
# 75.9%). With 200 points and the same 3 units it rises to 87.7%, and with 200 points and 8 units
# to 95.0% (seeds 93.4% to 96.6%). Only that network has learned XOR: 95% right on points it
# never saw, against 50% for chance and 60.0% for a straight line.
#
# The picture shows why. Each panel shades the network's predicted probability of class 1 over
# the plane and draws its decision boundary ($p = 0.5$); the large markers are the training
# points, the small ones the first 300 held-out points.

# %%
grid = np.linspace(-3, 3, 121)
g1, g2 = np.meshgrid(grid, grid)
plane = np.column_stack([g1.ravel(), g2.ravel()])

fig = Figure(figsize=(10, 4.4), layout="constrained")
axes = fig.subplots(1, 2)
for ax, key in zip(axes, [(16, 3), (200, 8)]):
    net, X_s, y_s = nets[key]
    prob = sigmoid(forward(net, plane)[0]).reshape(g1.shape)
    shade = ax.contourf(g1, g2, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    ax.contour(g1, g2, prob, levels=[0.5], colors="black", linewidths=1.5)
    for label, color, name in [(1, "tab:red", "class 1 (signs agree)"), (0, "tab:blue", "class 0")]:
        new = y_new[:300, 0] == label
        ax.scatter(*X_new[:300][new].T, s=6, color=color, alpha=0.6)
        ax.scatter(*X_s[y_s[:, 0] == label].T, s=40, color=color, edgecolor="black", label=name)
    ax.plot([], [], color="black", label="decision boundary p = 0.5")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    score = accuracy(net, X_new, y_new)
    ax.set_title(f"{key[0]} training points, {key[1]} hidden units: held-out {score:.1%}")
axes[0].legend(loc="lower left", fontsize=8, framealpha=0.9)
fig.colorbar(shade, ax=axes, label="predicted probability of class 1")

corner, corner_new = (X[:, 0] > 0) & (X[:, 1] < 0), (X_new[:, 0] > 0) & (X_new[:, 1] < 0)
print(f"training points with x1 > 0 and x2 < 0: {corner.sum()} of {len(X)}")
for key in [(16, 3), (200, 8)]:
    right = accuracy(nets[key][0], X_new[corner_new], y_new[corner_new])
    print(f"held-out accuracy there, {key[0]} points / {key[1]} units: {right:.1%}")
fig

# %% [markdown]
# On the left, the boundary separates the 16 training points, but only 1 of them lies in the
# quadrant $x_1 > 0,\ x_2 < 0$, so the network never learned that this quadrant is class 0: it
# calls most of it class 1 and is right on only 7.7% of the held-out points there. On the right,
# 200 points cover all four quadrants: the boundary follows the two axes, the true XOR
# boundary, and the network is right on 96.7% of that quadrant's held-out points. Only far out,
# in the corners, where there are few training points, does it bend away from the axes.
#
# ## Summary
#
# - **Forward pass**: inputs → weighted sums → activations → output logits → loss.
# - **Backpropagation**: the chain rule applied from the loss back to the first layer; each
#   layer turns the gradient at its output into gradients for its weights and for its input,
#   reusing the work of the layers above. Every gradient has its parameter's shape.
# - **Local derivatives** used here: cross-entropy with sigmoid, $(p - y)/N$; a linear layer,
#   $X^\top(\cdot)$ for weights and a sum over the batch for biases; the sigmoid,
#   $\sigma(z)(1-\sigma(z))$.
# - **Gradient checking**: automatic differentiation (Keras) and **central finite differences**
#   (error of order $\varepsilon^2$) confirm hand-written gradients; finite differences cost two
#   loss evaluations per parameter, so they check but never train.
# - **Gradient descent**: $w \leftarrow w - \eta\,\partial L/\partial w$; one step lowers the
#   loss, and training repeats forward, backward, update.
# - **Generalization** is measured on held-out points, beside chance and a straight line:
#   16 points were fitted perfectly (100%) yet only 69.4% of new points were right; 200
#   points and 8 hidden units gave 95.0% (mean of 3 seeds), against 50% for chance and 60.0%
#   for a straight line.
#
# Next lesson: what happens to these products of local derivatives when the network is deep.

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 — the backward pass as a function
# Write `backward(params, X, y)` that returns the dict of gradients `{"W1": ..., "b1": ...,
# "W2": ..., "b2": ...}` of the mean binary cross-entropy, for **any** batch size and hidden
# width. You may call `forward` and `sigmoid` from above. The check runs it on batches and
# widths you have not seen. Stuck? `ex.q1.hint()`.


# %%
def backward(params, X, y):
    # BEGIN SOLUTION q1
    logits, (z1, h) = forward(params, X)
    dlogits = (sigmoid(logits) - y) / len(X)
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ params["W2"].T
    dz1 = dh * h * (1 - h)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION


# %%
ex.q1.check(backward)

# %% [markdown]
# ### Exercise 2 — a gradient checker for any function
# Write `numerical_gradient(f, x, eps)`: the gradient of a function `f` (which takes an array
# and returns a number) at the array `x`, by **central** differences. `x` can have any shape;
# return an array of the same shape. The check compares it with exact gradients of functions you
# have never seen.


# %%
def numerical_gradient(f, x, eps=1e-5):
    # BEGIN SOLUTION q2
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[i] += eps
        x_minus[i] -= eps
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return grad
    # END SOLUTION


# %%
ex.q2.check(numerical_gradient)

# %% [markdown]
# ### Exercise 3 — predict what a step will do
# The gradient tells you more than a direction: it predicts how much the loss will change. For a
# small change $\Delta w$ of every parameter entry, the loss changes, to first order, by
#
# $$\Delta L \approx \sum_{\text{all entries}} \frac{\partial L}{\partial w}\,\Delta w .$$
#
# Write `predicted_change(params, X, y, learning_rate)`: the change this formula predicts for
# **one gradient-descent step** with that learning rate, as a single number, computed from the
# gradients of your `backward` (Exercise 1), *without* taking the step. The check compares your
# prediction with the change the step really makes, on networks you have not seen, at learning
# rates from {{q3.small_lr}} to {{q3.large_lr}}. Stuck? `ex.q3.hint()`.


# %%
def predicted_change(params, X, y, learning_rate):
    # BEGIN SOLUTION q3
    grads = backward(params, X, y)
    return -learning_rate * sum(np.sum(g**2) for g in grads.values())
    # END SOLUTION


# %%
ex.q3.check(predicted_change)

# %% [markdown]
# ### Exercise 4 — why not finite differences?
# A network has {{q4.inputs}} inputs, one hidden layer of {{q4.hidden}} units and {{q4.outputs}}
# outputs (Dense layers with biases). How many loss evaluations does a central-difference check of
# every gradient entry need? Store the number in `n_evals` (backpropagation needs one forward and
# one backward pass).

# %%
n_evals = 2 * (784 * 100 + 100 + 100 * 10 + 10)  # SOLUTION q4

# %%
ex.q4.check(n_evals)

# %%
ex.summary()

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
# - take one gradient-descent step and see the loss go down.

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
# otherwise (the "XOR" pattern, which no straight line can separate). Our network has 2 inputs,
# one hidden layer of 3 sigmoid units and one output:
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
print("Keras dW1 =\n", np.round(keras_grads[0], 4))

# %% [markdown]
# The losses agree, and every gradient entry agrees to better than $10^{-6}$ — as close as
# Keras's 32-bit floats allow (our NumPy arrays use 64 bits). Automatic differentiation is no
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
worst = 0.0
for name, value in params.items():
    for i in np.ndindex(value.shape):
        plus = {**params, name: value.copy()}
        minus = {**params, name: value.copy()}
        plus[name][i] += eps
        minus[name][i] -= eps
        numeric = (loss_at(plus) - loss_at(minus)) / (2 * eps)
        worst = max(worst, abs(numeric - grads[name][i]))
print(f"largest |backprop - central difference| over all 13 entries < 1e-8: {worst < 1e-8}")

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
# 16 points at the end.

# %%
trained, losses = dict(params), []
for _ in range(2000):
    logits, (z1, h) = forward(trained, X)
    losses.append(bce_loss(logits, y))
    dlogits = (sigmoid(logits) - y) / N
    dh = dlogits @ trained["W2"].T
    dz1 = dh * h * (1 - h)
    step = {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": h.T @ dlogits, "b2": dlogits.sum(0)}
    trained = {k: trained[k] - learning_rate * step[k] for k in trained}

accuracy = np.mean((forward(trained, X)[0] > 0) == (y == 1))
print(f"loss: {losses[0]:.3f} at step 0 -> {losses[-1]:.3f} after 2000 steps")
print(f"training accuracy: {accuracy:.0%}")

fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.add_subplot()
ax.plot(losses)
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("mean binary cross-entropy")
ax.set_title("Training = forward, backward, update, repeated")
ax.grid(True, alpha=0.3)
fig

# %% [markdown]
# The loss falls from 0.65, barely better than a coin flip, to 0.006, and the network now
# classifies all 16 points correctly: it has learned the XOR pattern, every step of the way
# driven by the seven lines of the backward pass.
#
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
# ### Exercise 3 — the update step
# Write `sgd_step(params, grads, learning_rate)`: one gradient-descent step for a dict of
# parameters (any keys), returning a **new** dict.


# %%
def sgd_step(params, grads, learning_rate):
    # BEGIN SOLUTION q3
    return {k: params[k] - learning_rate * grads[k] for k in params}
    # END SOLUTION


# %%
ex.q3.check(sgd_step)

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

# %% [markdown]
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
#
# Next lesson: what happens to these products of local derivatives when the network is deep.

# %%
ex.summary()

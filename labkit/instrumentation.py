"""Exact per-step gradient statistics at (almost) no cost: reuse the optimizer's own gradients.

``instrument(model)`` makes the model's training step report, at every step, the L2 norm of each
layer's gradient on the *real* training batch — with zero extra forward or backward passes. It
intercepts the gradients where every Keras backend hands them to the optimizer
(``optimizer.apply`` on TensorFlow and PyTorch, ``optimizer.stateless_apply`` on JAX), computes
the norms inside the same compiled step, and adds them to the step's logs as one vector,
``grad_norms`` (one device-to-host copy per step). ``GradientMonitor()`` without a probe decodes
it and puts ``grad_norm/<layer>`` into the epoch's logs. ``instrument(model, activations=True)``
also reads the forward pass the step already runs: each ReLU layer's dead fraction and each
sigmoid/tanh layer's saturated fraction on the real batch, in the same vector.

What each step reports under each training set-up (mixed precision, data parallel,
``steps_per_execution``, gradient accumulation, clipping, custom train steps): the table in
:func:`instrument`.

Example
-------
>>> import labkit
>>> labkit.instrument(model)  # doctest: +SKIP
>>> monitor = GradientMonitor()  # no probe needed  # doctest: +SKIP
>>> model.fit(x, y, epochs=3, callbacks=[monitor])  # doctest: +SKIP
>>> labkit.uninstrument(model)  # plain Keras again  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import threading

import keras
import numpy as np

from labkit.activations import SATURATION_BOUNDS, activation_kind
from labkit.backend import (
    add_optimizer_buffer,
    all_reduce_gradients,
    applied_gradients,
    clipping,
    device_constant,
    fraction_outside,
    grouped_squared_norms,
    intercept_optimizer_gradients,
    joint_live_units,
    loss_scale,
    membership_matrix,
    remove_optimizer_buffer,
    replicas_in_sync,
    restore_layer_call,
    restore_train_step,
    squared_norms,
    wrap_layer_call,
    wrap_train_step,
)
from labkit.gradients import layer_of_variables

__all__ = [
    "LOG_KEY",
    "decode",
    "instrument",
    "is_instrumented",
    "setup",
    "steps_recorded",
    "tapped_layers",
    "uninstrument",
]

LOG_KEY = "grad_norms"
# After the layers' norms, applied norms and tapped layers' fractions, each step's vector holds
# these, in this order.
FLAGS = ("nonfinite", "skipped", "clipped", "loss_scale", "step")
# Activations read from the real batch: ReLU's dead units, sigmoid's and tanh's saturated outputs.
TAPPED_KINDS = ("relu", "sigmoid", "tanh")


class _Stash:
    """The interception's state: the optimizer it wraps, the step buffer, the latest vector."""

    def __init__(self, model: keras.Model, activations: bool):
        self.model = model
        self.latest = threading.local()  # tf.distribute traces each replica in its own thread
        self.optimizer = None
        self.undo = None
        self.buffer = None
        self.layer_groups = None  # (variable indices per layer, their 0/1 matrix)
        self.unit_matrix: tuple | None = None  # (ReLU widths, as an array, their 0/1 matrix)
        self.constants: dict[tuple, object] = {}  # the rows' constant parts, by value
        self.activations = activations
        # (layer, kind) of the layers whose outputs each step summarizes, in layer order
        self.taps: list[tuple[keras.layers.Layer, str]] = []
        if activations:
            self.tap(model)

    @property
    def tapped(self) -> dict[str, str]:
        """``{layer name: kind}`` of the tapped layers, in layer order."""
        return {layer.name: kind for layer, kind in self.taps}

    def tap(self, model: keras.Model) -> None:
        """Summarize, inside each train step, the outputs of each ReLU/sigmoid/tanh layer of
        ``model`` (not of nested models) for :meth:`record`."""
        for layer in model.layers:
            kind = activation_kind(layer)
            if kind not in TAPPED_KINDS or isinstance(layer, keras.Model):
                continue
            wrap_layer_call(layer, functools.partial(self.summarize, layer.name, kind))
            self.taps.append((layer, kind))

    def untap(self) -> None:
        for layer, _ in self.taps:
            restore_layer_call(layer)
        self.taps = []

    # --- eager, before fit builds its train function --------------------------------------
    def prepare(self) -> None:
        self.layer_groups = None  # built again on the next trace, for the model as it is now
        optimizer = self.model.optimizer
        if optimizer is None:
            return
        if optimizer is not self.optimizer:
            self.release()
            self.optimizer = optimizer
            self.undo = intercept_optimizer_gradients(optimizer, self.record, self.written)
        rows = self.model.steps_per_execution
        if self.buffer is not None and self.buffer.shape[0] != rows:
            remove_optimizer_buffer(optimizer, self.buffer)
            self.buffer = None
        if rows > 1 and self.buffer is None:
            width = 2 * len(layer_of_variables(self.model)) + len(self.taps) + len(FLAGS)
            self.buffer = add_optimizer_buffer(self.model, (rows, width), "labkit_grad_norms")

    def release(self) -> None:
        if self.undo is not None:
            self.undo()
        if self.buffer is not None:
            remove_optimizer_buffer(self.optimizer, self.buffer)
        self.optimizer = self.undo = self.buffer = None

    def written(self) -> list:
        return [] if self.buffer is None else [self.buffer]

    # --- inside the compiled step -----------------------------------------------------------
    def before(self) -> None:
        self.latest.value = None
        self.latest.outputs = {} if self.taps else None

    def summarize(self, name: str, kind: str, outputs) -> None:
        """Inside a train step: which outputs are nonzero (ReLU), or the fraction of outputs
        saturated (sigmoid, tanh). Outside one (predict, evaluate): nothing."""
        taken = getattr(self.latest, "outputs", None)
        if taken is None:
            return
        if kind == "relu":
            # a boolean mask, reduced with the other ReLU layers' in _fractions (a float tensor
            # cannot leave JAX's gradient transformation; a boolean one can)
            taken[name] = outputs != 0
        else:
            taken[name] = fraction_outside(outputs, *SATURATION_BOUNDS[kind])

    def _fractions(self):
        """Per tapped layer, its dead (ReLU) or saturated (sigmoid, tanh) fraction over the
        global batch (``nan`` for a layer the step did not call), as one vector in the order of
        ``self.tapped``; ``None`` when nothing is tapped."""
        taken, self.latest.outputs = getattr(self.latest, "outputs", None) or {}, None
        tapped = self.tapped
        if not tapped:
            return None
        relu = [n for n, kind in tapped.items() if kind == "relu" and n in taken]
        other = [n for n, kind in tapped.items() if kind != "relu" and n in taken]
        parts = []
        if relu:  # every ReLU layer's live units, one vector
            parts.append(keras.ops.cast(joint_live_units([taken[n] for n in relu]), "float32"))
        if other:
            parts.append(keras.ops.stack([taken[n] for n in other]))
        # summed over replicas: a unit is dead when no replica's examples activate it, and the
        # replicas' mean saturated fraction is the global batch's (equal shares). Operators,
        # not keras.ops, where they do: PyTorch runs each keras.ops call eagerly, every step.
        replicas = replicas_in_sync()
        reduced = all_reduce_gradients(parts)
        values = []
        if relu:  # each layer's count of live units: one product with a 0/1 (units x layers)
            units, member = self._unit_matrix([int(taken[n].shape[-1]) for n in relu])
            live = reduced[0] if replicas == 1 else keras.ops.cast(reduced[0] > 0, "float32")
            values.append(1.0 - keras.ops.matmul(live[None, :], member)[0] / units)
        if other:
            values.append(reduced[-1] / replicas)
        found = relu + other
        if found != list(tapped):  # mixed kinds, or a layer the step did not call
            values.append(keras.ops.full((1,), math.nan))
            order = [found.index(n) if n in found else len(found) for n in tapped]
            return keras.ops.take(keras.ops.concatenate(values), np.array(order, dtype="int32"))
        return values[0] if len(values) == 1 else keras.ops.concatenate(values)

    def _unit_matrix(self, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The ReLU layers' widths and the 0/1 (units x layers) matrix that counts each layer's
        live units, built once (PyTorch runs every step eagerly)."""
        if self.unit_matrix is None or self.unit_matrix[0] != sizes:
            groups = np.split(np.arange(sum(sizes)), np.cumsum(sizes)[:-1])
            widths = device_constant(np.array(sizes, dtype="float32"))
            self.unit_matrix = (sizes, widths, device_constant(membership_matrix(groups)))
        return self.unit_matrix[1:]

    def record(self, grads) -> None:
        if getattr(self.latest, "value", None) is not None:
            raise RuntimeError(
                "labkit.instrument: this train step hands gradients to model.optimizer more "
                "than once, so there is no single gradient to report; monitor it with a probe "
                "instead, e.g. GradientMonitor(probe=(x_train[:256], y_train[:256]))"
            )
        variables = self.model.trainable_variables
        if len(grads) != len(variables):
            raise RuntimeError(
                f"labkit.instrument: the train step applied {len(grads)} gradients but the model "
                f"has {len(variables)} trainable variables; pass one gradient per variable of "
                "model.trainable_variables to model.optimizer, or monitor with a probe"
            )
        local = [
            keras.ops.zeros(v.shape) if g is None else _float32(g) for g, v in zip(grads, variables)
        ]
        inner, scale = loss_scale(self.optimizer)
        if scale is not None:
            local = [g / scale for g in local]
        grads = all_reduce_gradients(local)
        norms = self._norms(grads)
        dynamic = scale is not None and not _fixed(scale)
        clip = clipping(inner)
        fractions = self._fractions()
        tapped = [] if fractions is None else [fractions]
        if not dynamic and clip is None and not inner.gradient_accumulation_steps:
            # what was applied is what was measured, and an inf or NaN entry makes its layer's
            # norm inf or NaN, which decode reads: the flags are constants
            used = 1.0 if scale is None else float(scale)
            self._store([norms, norms, *tapped], (0.0, 0.0, 0.0, used))
            return
        if dynamic:  # exactly the test a LossScaleOptimizer makes before it skips a step
            finite = keras.ops.all(
                keras.ops.stack([keras.ops.all(keras.ops.isfinite(g)) for g in grads])
            )
        else:  # an inf or NaN entry makes its layer's norm inf or NaN: no pass over each tensor
            finite = keras.ops.isfinite(keras.ops.sum(norms))
        nonfinite = 1.0 - keras.ops.cast(finite, "float32")
        applied, clipped = norms, keras.ops.zeros(())
        if clip is not None or inner.gradient_accumulation_steps:
            applied, clipped = self._applied(inner, local, clip)
        skipped = keras.ops.zeros(())
        if dynamic:  # a LossScaleOptimizer skips such steps
            skipped = nonfinite
            applied = keras.ops.where(skipped > 0, math.nan, applied)
        used = 1.0 if scale is None else scale
        flags = [nonfinite, skipped, clipped, keras.ops.cast(used, "float32")]
        self._store([norms, applied, *tapped, keras.ops.stack(flags)])

    def _norms(self, grads) -> keras.KerasTensor:
        """Each layer's gradient norm, one reduction per layer (see grouped_squared_norms)."""
        if self.layer_groups is None:
            groups = list(layer_of_variables(self.model).values())
            matrix = membership_matrix(groups, rows=len(grads))
            self.layer_groups = (groups, device_constant(matrix))
        return keras.ops.sqrt(grouped_squared_norms(grads, *self.layer_groups))

    def _applied(self, optimizer, local, clip):
        """Norms of what ``optimizer`` applies (``nan`` between accumulated updates), clip bit."""
        before_clip, after_clip, is_update = applied_gradients(optimizer, local)
        bit = keras.ops.zeros(())
        if clip is not None:
            bit = keras.ops.cast(_clip_bites(before_clip, *clip), "float32")
        *after_clip, bit = all_reduce_gradients([*after_clip, bit])
        applied = self._norms(after_clip)
        if is_update is not None:
            applied = keras.ops.where(is_update, applied, math.nan)
        return applied, keras.ops.cast(bit > 0, "float32")

    def _store(self, parts: list, flags: tuple[float, ...] | None = None) -> None:
        """Concatenate ``parts`` and the constant ``flags`` (when they are constants) with the
        step number into this step's row; with a step buffer, write it there too."""
        if self.buffer is None:
            tail = () if flags is None else flags
            self.latest.value = keras.ops.concatenate([*parts, self._constant((*tail, 0.0))])
            return
        if flags is not None:
            parts = [*parts, self._constant(flags)]
        old = self.buffer.value
        step = keras.ops.max(old[:, -1]) + 1.0
        row = keras.ops.concatenate([*parts, keras.ops.reshape(step, (1,))])
        rows = old.shape[0]
        due = keras.ops.arange(rows) == keras.ops.cast(step - 1.0, "int32") % rows
        new = keras.ops.where(keras.ops.expand_dims(due, 1), row[None, :], old)
        self.buffer.assign(new)
        self.latest.value = new

    def _constant(self, values: tuple[float, ...]):
        """``values`` as a float32 vector for the step (converted once per value on PyTorch)."""
        if values not in self.constants:
            self.constants[values] = device_constant(np.array(values, dtype="float32"))
        return self.constants[values]

    def add_logs(self, logs: dict) -> dict:
        latest = getattr(self.latest, "value", None)
        if latest is None:
            raise RuntimeError(
                "labkit.instrument: this train step never handed gradients to model.optimizer "
                "(a custom train_step must call self.optimizer.apply(grads, "
                "self.trainable_variables), or self.optimizer.stateless_apply(...) on JAX), so "
                "there is nothing exact to report. Call labkit.uninstrument(model) and monitor "
                "with a probe instead: GradientMonitor(probe=(x_train[:256], y_train[:256]))"
            )
        return {**logs, LOG_KEY: latest}


def _float32(tensor):
    """``tensor`` in float32 (as it is when it already is: PyTorch runs every cast eagerly)."""
    if keras.backend.standardize_dtype(tensor.dtype) == "float32":
        return tensor
    return keras.ops.cast(tensor, "float32")


def _fixed(scale) -> bool:
    """Whether ``scale`` is a fixed ``loss_scale_factor`` (a number), not a dynamic loss scale."""
    return isinstance(scale, (int, float))


def _clip_bites(grads, kind: str, threshold: float):
    """Whether clipping of ``kind`` at ``threshold`` changes ``grads``."""
    if kind == "clipvalue":
        return keras.ops.any(
            keras.ops.stack([keras.ops.max(keras.ops.abs(g)) > threshold for g in grads])
        )
    squares = squared_norms(grads)
    if kind == "clipnorm":
        return keras.ops.any(squares > threshold**2)
    return keras.ops.sum(squares) > threshold**2


def instrument(model: keras.Model, activations: bool = False) -> keras.Model:
    """Make ``model.fit`` log per-layer gradient norms of every real training batch.

    Keeps the model's optimizer, loss and metrics (compile before or after, either works); the
    weights it reaches are the same as without instrumentation. Returns the model. Each step
    logs ``grad_norms``, read with :func:`decode` (or ``GradientMonitor()``). With
    ``activations=True`` it also holds, from the step's own forward pass, each ReLU layer's dead
    fraction (units that are 0 for every example of the batch, as
    :func:`labkit.activations.dead_relu_fraction` counts them) and each sigmoid/tanh layer's
    saturated fraction (as :func:`labkit.activations.activation_stats`) — over the global batch
    under data parallelism; layers of the model itself (``model.layers``), not of nested models.
    What the entries mean under each set-up:

    ==========================  ===============================  ==============================
    set-up                      ``norms``                        ``applied_norms``, flags
    ==========================  ===============================  ==============================
    plain ``fit``               the step's batch gradient        the same; ``nonfinite``: a
                                                                 layer's norm is inf or NaN
    ``tf.distribute``           the all-reduced gradient of the  the same
    ``MirroredStrategy``, JAX   global batch, as one device
    ``DataParallel``            computes it
    mixed precision             the *unscaled* gradient          ``loss_scale`` used;
    (``LossScaleOptimizer``)    (scaled one / loss scale)        ``nonfinite``: the scaled
                                                                 gradient overflowed,
                                                                 ``skipped``: no update (then
                                                                 ``nan``)
    ``steps_per_execution=n``   every step: the logs hold the    the same, per step
                                last n steps, one row each,
                                numbered (``step``)
    gradient accumulation       the micro-batch's gradient       the mean of the last n micro-
                                                                 batch gradients on update
                                                                 steps, ``nan`` in between
    ``clipnorm``,               before clipping: what the        after clipping: what was
    ``global_clipnorm``,        network produced                 applied; ``clipped``: whether
    ``clipvalue``                                                clipping changed it
    custom ``train_step``       what it hands to                 as above
                                ``model.optimizer`` (once)
    ==========================  ===============================  ==============================

    A train step that never hands gradients to ``model.optimizer``, or hands them twice, raises
    a ``RuntimeError`` that says to monitor with a probe instead. PyTorch: Keras's trainer has
    no data-parallel ``fit`` and needs ``steps_per_execution=1``; everything else above holds.
    Not supported by Keras itself: ``steps_per_execution > 1`` under ``MirroredStrategy``
    (Keras 3.8.0-3.15.1 fail on it without labkit too). With ``steps_per_execution > 1`` the
    rows live in an extra optimizer variable: :func:`uninstrument` removes it, so call it
    before saving the model.

    Parameters
    ----------
    model : keras.Model
        Any Keras model trained with the built-in ``fit``, or with a custom ``train_step`` that
        hands its gradients to ``self.optimizer`` once per step (``apply``, or
        ``stateless_apply`` on JAX).

    Example
    -------
    >>> labkit.instrument(model)  # doctest: +SKIP
    >>> history = model.fit(x, y, epochs=1, verbose=0)  # doctest: +SKIP
    >>> decode(["hidden_1", "output"], {"grad_norms": history.history["grad_norms"][-1]})
    ...  # doctest: +SKIP
    [{'norms': {'hidden_1': 0.41, 'output': 0.52}, 'applied_norms': {...}, 'nonfinite': False,
      'skipped': False, 'clipped': False, 'loss_scale': 1.0, 'step': 0.0}]
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"instrument() needs a keras.Model, got {type(model).__name__}")
    if is_instrumented(model):
        if _stash(model).activations == activations:
            return model
        uninstrument(model)
    stash = _Stash(model, activations)
    step = wrap_train_step(model, stash.before, stash.add_logs, stash.prepare)
    step.labkit_stash = stash
    return model


def uninstrument(model: keras.Model) -> keras.Model:
    """Undo :func:`instrument`: plain Keras training again. Returns the model."""
    stash = _stash(model)
    if stash is None:
        return model
    stash.release()
    stash.untap()
    restore_train_step(model)
    return model


def decode(layers: list[str], logs: dict, tapped: dict[str, str] | None = None) -> list[dict]:
    """The steps in one ``logs`` of an instrumented model, oldest first.

    ``layers`` are the names of the layers with trainable weights, in layer order
    (``list(labkit.gradients.layer_of_variables(model))``); ``tapped``, of a model instrumented
    with ``activations=True``, is :func:`tapped_layers`. Each step is a dict with ``norms``
    and ``applied_norms`` (``{layer: norm}``), the flags ``nonfinite``, ``skipped`` and
    ``clipped``, the ``loss_scale`` used and, with ``steps_per_execution > 1``, the ``step``
    number counted since :func:`instrument` (0 otherwise); with ``tapped``, also
    ``dead_fraction`` (ReLU layers) and ``saturated_fraction`` (sigmoid and tanh layers).

    Example
    -------
    >>> decode(["hidden_1", "output"], {"grad_norms": [0.5, 0.25, 0.5, 0.25, 0, 0, 0, 1, 0]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'norms': {'hidden_1': 0.5, 'output': 0.25}, 'applied_norms': {'hidden_1': 0.5,
      'output': 0.25}, 'nonfinite': False, 'skipped': False, 'clipped': False,
      'loss_scale': 1.0, 'step': 0.0}]
    >>> logs = {"grad_norms": [0.5, 0.25, 0.5, 0.25, 0.125, 0, 0, 0, 1, 0]}
    >>> decode(["hidden_1", "output"], logs, {"hidden_1": "relu"})[0]["dead_fraction"]
    {'hidden_1': 0.125}
    """
    n, tapped = len(layers), tapped or {}
    m = len(tapped)
    rows = np.atleast_2d(np.asarray(logs[LOG_KEY], dtype=float))
    if rows.shape[0] > 1:
        rows = rows[np.argsort(rows[:, -1])]
        rows = rows[rows[:, -1] > 0]  # rows not written yet
    steps = []
    for row in rows:
        flags = dict(zip(FLAGS, row[2 * n + m :].tolist()))
        step = {
            "norms": dict(zip(layers, row[:n].tolist())),
            "applied_norms": dict(zip(layers, row[n : 2 * n].tolist())),
            **{k: bool(flags[k]) for k in FLAGS[:3]},
            # an inf or NaN gradient entry makes its layer's norm inf or NaN
            "nonfinite": bool(flags["nonfinite"]) or not np.isfinite(row[:n]).all(),
            "loss_scale": flags["loss_scale"],
            "step": flags["step"],
        }
        if tapped:
            fractions = dict(zip(tapped, row[2 * n : 2 * n + m].tolist()))
            step["dead_fraction"] = {k: v for k, v in fractions.items() if tapped[k] == "relu"}
            step["saturated_fraction"] = {k: v for k, v in fractions.items() if tapped[k] != "relu"}
        steps.append(step)
    return steps


def tapped_layers(model: keras.Model) -> dict[str, str]:
    """``{layer name: activation}`` of the layers whose outputs an instrumented step summarizes
    (``instrument(model, activations=True)``), in layer order; empty otherwise.

    Example
    -------
    >>> hidden = keras.layers.Dense(3, activation="relu", name="hidden")
    >>> tapped_layers(instrument(keras.Sequential([keras.Input((2,)), hidden]), activations=True))
    {'hidden': 'relu'}
    """
    stash = _stash(model)
    return {} if stash is None else dict(stash.tapped)


def setup(model: keras.Model) -> dict:
    """What the instrumented gradients of ``model`` go through, from its optimizer's settings.

    ``loss_scaled`` (mixed precision's dynamic loss scaling), ``clipping`` (``(kind,
    threshold)`` or ``None``) and ``accumulation`` (``gradient_accumulation_steps`` or
    ``None``).

    Example
    -------
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> m.compile(optimizer=keras.optimizers.SGD(global_clipnorm=1.0), loss="mse")
    >>> setup(m)
    {'loss_scaled': False, 'clipping': ('global_clipnorm', 1.0), 'accumulation': None}
    """
    optimizer = model.optimizer
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return {
        "loss_scaled": inner is not optimizer,
        "clipping": clipping(inner),
        "accumulation": inner.gradient_accumulation_steps,
    }


def steps_recorded(model: keras.Model) -> int:
    """The step count in an instrumented model's step buffer (0 without one).

    Only ``steps_per_execution > 1`` keeps a buffer; a monitor reads the count when training
    begins, so that it takes each later step from the logs exactly once.

    Example
    -------
    >>> steps_recorded(model)  # doctest: +SKIP
    0
    """
    stash = _stash(model)
    if stash is None or stash.buffer is None:
        return 0
    return int(np.max(keras.ops.convert_to_numpy(stash.buffer.value)[:, -1]))


def is_instrumented(model: keras.Model) -> bool:
    """Whether :func:`instrument` is active on ``model``."""
    return _stash(model) is not None


def _stash(model: keras.Model) -> _Stash | None:
    """The stash of an instrumented model: an attribute of the train step that replaced Keras's."""
    return getattr(model.train_step, "labkit_stash", None)

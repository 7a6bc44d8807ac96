"""What each layer's units output on a probe batch: dead ReLUs and saturated sigmoid/tanh units."""

from __future__ import annotations

import math
import weakref

import keras
import numpy as np

from labkit.backend import is_functional, layer_graph_built, live_units, probe_pass, to_numpy

__all__ = [
    "ReluTaps",
    "activated_layers",
    "activation_kind",
    "activation_stats",
    "dead_relu_fraction",
    "dead_unit_counts",
    "finite_histogram",
    "relu_layers",
    "relu_taps",
]

_PROBES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RELU_TAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

SIGMOID_SATURATION = (0.02, 0.98)
TANH_SATURATION = 0.97
# An output counts as saturated outside these bounds, where the derivative is nearly 0.
SATURATION_BOUNDS = {"sigmoid": SIGMOID_SATURATION, "tanh": (-TANH_SATURATION, TANH_SATURATION)}
DEFAULT_BINS = 40
HISTOGRAM_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def activation_kind(layer: keras.layers.Layer) -> str | None:
    """``"relu"``, ``"sigmoid"``, ``"tanh"``, another activation's name, or ``None``.

    Recognises ``Dense``/``Conv`` layers with an ``activation``, ``Activation`` layers and a plain
    ``ReLU`` layer (a ``ReLU`` with a negative slope or threshold is not a ReLU for this purpose).

    Example
    -------
    >>> activation_kind(keras.layers.Dense(4, activation="relu"))
    'relu'
    """
    if isinstance(layer, keras.layers.ReLU):
        plain = float(layer.negative_slope) == 0.0 and float(layer.threshold) == 0.0
        return "relu" if plain else "leaky_relu"
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    fn = getattr(layer, "activation", None)
    if fn is None or not callable(fn):
        return None
    name = getattr(fn, "__name__", type(fn).__name__)
    return None if name == "linear" else name


def relu_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of ``model`` whose output goes through a plain ReLU, in layer order."""
    return [layer for layer in _functional(model).layers if activation_kind(layer) == "relu"]


def activated_layers(model: keras.Model, x=None) -> list[keras.layers.Layer]:
    """The layers of ``model`` with a non-linear activation (:func:`activation_kind`), in order.

    ``x``, a batch of inputs, builds a Sequential model that has no input shape yet.
    """
    layers = _functional(model, x).layers
    return [layer for layer in layers if activation_kind(layer) is not None]


def dead_relu_fraction(model: keras.Model, x, *, compiled: bool = False) -> dict[str, float]:
    """Fraction of dead units in every ReLU layer: units whose output is 0 for every example.

    Runs the model in inference mode. For convolutional outputs a unit is a channel (the last
    axis): it is dead when it is 0 at every position of every example.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or Functional model.
    x : array-like
        Probe inputs (a few hundred examples is plenty).
    compiled : bool
        Count the dead units inside one compiled function (built on the first call for this
        model, see :func:`labkit.backend.probe_pass`) and copy only the counts to the host:
        worth it when called many times, as :class:`~labkit.callbacks.DeadReLUMonitor` does;
        one call is faster eagerly. The fractions are the same.

    Returns
    -------
    dict
        ``{layer.name: fraction}`` in layer order; empty when the model has no ReLU layer.

    Example
    -------
    >>> dead_relu_fraction(model, x_train[:512])  # doctest: +SKIP
    {'hidden_1': 0.0, 'hidden_2': 0.125}
    """
    taps = relu_taps(model, _probe_batch(x)) if compiled else None
    if taps is not None:
        _, _, counts, finite = probe_pass(model, x, taps=taps.model, summarize=dead_unit_counts)
        if finite:  # else NaN outputs, which a fused compiled ReLU may turn into 0: eagerly
            return taps.fractions(counts)
    outputs = _layer_outputs(model, x)
    return {name: _dead_fraction(out) for name, (kind, out) in outputs.items() if kind == "relu"}


def _dead_fraction(out: np.ndarray) -> float:
    """Fraction of units (last axis) that are 0 for every example and position."""
    return float(np.mean(np.all(out.reshape(-1, out.shape[-1]) == 0, axis=0)))


def dead_unit_counts(outputs: list) -> keras.KerasTensor:
    """Per output in ``outputs`` (backend tensors), how many units (last axis) are 0 for every
    example and position: the ``summarize`` of a compiled probe pass, in ``keras.ops``.

    Example
    -------
    >>> out = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    >>> keras.ops.convert_to_numpy(dead_unit_counts([out])).tolist()
    [1.0]
    """
    counts = []
    for out in outputs:
        dead = keras.ops.logical_not(live_units(out))
        counts.append(keras.ops.sum(keras.ops.cast(dead, "float32")))
    return keras.ops.stack(counts)


class ReluTaps:
    """A model's ReLU layers and a Functional model returning their outputs (``model``), to
    count dead units inside a compiled probe pass (:func:`labkit.backend.probe_pass` with
    ``summarize=dead_unit_counts``)."""

    def __init__(self, names: list[str], model: keras.Model):
        self.names = names
        self.model = model
        self.units = [int(out.shape[-1]) for out in model.outputs]

    def fractions(self, counts: np.ndarray) -> dict[str, float]:
        """``{layer: dead fraction}`` from the pass's dead-unit counts (exactly as NumPy's mean
        of the per-unit dead flags)."""
        return {
            name: float(np.float64(count) / units)
            for name, count, units in zip(self.names, counts, self.units, strict=True)
        }


def relu_taps(model: keras.Model, x=None) -> ReluTaps | None:
    """The :class:`ReluTaps` of ``model`` (built once per model), or ``None`` without ReLU layers.

    ``x``, a batch of inputs, builds a Sequential model that has no input shape yet.

    Example
    -------
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu")])
    >>> relu_taps(m).units
    [4]
    """
    if model in _RELU_TAPS:
        return _RELU_TAPS[model]
    functional = _functional(model, x)
    names = [layer.name for layer in functional.layers if activation_kind(layer) == "relu"]
    taps = None
    if names and all(functional.get_layer(n).output.shape[-1] is not None for n in names):
        outputs = [functional.get_layer(n).output for n in names]
        inputs = functional.inputs[0] if len(functional.inputs) == 1 else functional.inputs
        taps = ReluTaps(names, keras.Model(inputs, outputs, name=f"{model.name}_relu_taps"))
    _RELU_TAPS[model] = taps
    return taps


def _probe_batch(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError("the probe x is empty: pass a batch of inputs, e.g. x_train[:512]")
    return x


def activation_stats(
    model: keras.Model, x, bins: int = DEFAULT_BINS, *, compiled: bool = False
) -> dict[str, dict]:
    """Mean, std, ReLU zero fraction, sigmoid/tanh saturation and histogram of every activated
    layer's outputs on ``x`` (inference mode).

    A sigmoid output counts as saturated below 0.02 or above 0.98, a tanh output when
    ``|tanh| > 0.97``: there the derivative is nearly 0 and gradients stop flowing. The histogram
    (:func:`finite_histogram`) spans ``[0, 1]`` for sigmoid, ``[-1, 1]`` for tanh and the
    outputs' range otherwise.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or Functional model.
    x : array-like
        Probe inputs (a few hundred examples is plenty).
    bins : int
        Histogram bins (default 40).
    compiled : bool
        Run the forward pass as one compiled function, built on the first call for this model,
        whose outputs reach the host in one copy: worth it when called many times, as
        :class:`~labkit.callbacks.ActivationMonitor` does; one call is faster eagerly.

    Returns
    -------
    dict
        ``{layer.name: {"activation", "mean", "std", "zero_fraction", "dead_fraction",
        "saturated_fraction", "hist"}}``; ``dead_fraction`` is as in :func:`dead_relu_fraction`
        (0 for layers that are not ReLU), ``hist`` is ``(counts, edges)``.

    Example
    -------
    >>> activation_stats(model, x_train[:512])["hidden_1"]["saturated_fraction"]  # doctest: +SKIP
    0.61
    """
    stats = {}
    for name, (kind, out) in _layer_outputs(model, x, compiled).items():
        saturated = 0.0
        if kind in SATURATION_BOUNDS:
            low, high = SATURATION_BOUNDS[kind]
            saturated = float(np.mean((out < low) | (out > high)))
        stats[name] = {
            "activation": kind,
            "mean": float(np.mean(out)),
            "std": float(np.std(out)),
            "zero_fraction": float(np.mean(out == 0)),
            "dead_fraction": _dead_fraction(out) if kind == "relu" else 0.0,
            "saturated_fraction": saturated,
            "hist": finite_histogram(out, bins, HISTOGRAM_RANGE.get(kind)),
        }
    return stats


def finite_histogram(
    values, bins: int = DEFAULT_BINS, value_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of the finite values, as :func:`numpy.histogram` bins them.

    ``value_range`` defaults to the finite values' own range; inf and NaN are left out, so an
    exploded layer still gets a histogram of what is left.

    Example
    -------
    >>> counts, edges = finite_histogram([0.0, 0.5, 1.0, float("nan")], bins=2)
    >>> counts.tolist(), edges.tolist()
    ([1, 2], [0.0, 0.5, 1.0])
    """
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive number of histogram bins, got {bins!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if value_range is None and values.size == 0:
        value_range = (0.0, 1.0)
    return np.histogram(values, bins=bins, range=value_range)


def _layer_outputs(
    model: keras.Model, x, compiled: bool = False
) -> dict[str, tuple[str, np.ndarray]]:
    """Outputs of every activated layer on ``x`` (inference mode), keyed by layer name."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype("float32", copy=False)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError("the probe x is empty: pass a batch of inputs, e.g. x_train[:512]")
    probe = _probe_model(model, x)
    if probe is None:
        return {}
    if compiled and probe.joined() is not None:
        # One host copy: every layer's outputs flattened side by side, split here.
        joined = np.asarray(probe.joined().predict_on_batch(x), dtype=np.float64)
        ends = np.cumsum([math.prod(shape) for shape in probe.shapes])[:-1]
        values = [
            part.reshape(len(x), *shape)
            for part, shape in zip(np.split(joined, ends, axis=1), probe.shapes)
        ]
    else:
        values = probe.extractor(x, training=False)
        if not isinstance(values, (list, tuple)):  # Keras unwraps a one-element output list
            values = [values]
        values = [to_numpy(v).astype(np.float64) for v in values]
    return {name: (kind, value) for (name, kind), value in zip(probe.layers, values, strict=True)}


class _Probe:
    """The activated layers of a model, a sub-model returning their outputs and, on demand, one
    that returns them flattened into a single tensor for :meth:`keras.Model.predict_on_batch`."""

    def __init__(self, layers: list[tuple[str, str]], extractor: keras.Model):
        self.layers = layers
        self.extractor = extractor
        self.shapes = [tuple(out.shape[1:]) for out in extractor.outputs]
        self._joined: keras.Model | None = None

    def joined(self) -> keras.Model | None:
        """``None`` when an output's per-example shape is not static (it cannot be split)."""
        if self._joined is None and all(d is not None for s in self.shapes for d in s):
            # float32 layers: under mixed precision the float16 outputs are widened, not rounded.
            flat = [keras.layers.Flatten(dtype="float32")(o) for o in self.extractor.outputs]
            if len(flat) > 1:
                flat = [keras.layers.Concatenate(dtype="float32")(flat)]
            inputs = self.extractor.inputs
            inputs = inputs[0] if len(inputs) == 1 else inputs
            self._joined = keras.Model(inputs, flat[0], name=self.extractor.name)
        return self._joined


def _probe_model(model: keras.Model, x) -> _Probe | None:
    if model in _PROBES:
        return _PROBES[model]
    functional = _functional(model, x)
    layers = [(layer.name, activation_kind(layer)) for layer in functional.layers]
    layers = [(n, k) for n, k in layers if k is not None]
    probe = None
    if layers:
        outputs = [functional.get_layer(n).output for n, _ in layers]
        # A single input is passed bare, as the caller passes x (a list would trigger a warning).
        inputs = functional.inputs[0] if len(functional.inputs) == 1 else functional.inputs
        probe = _Probe(layers, keras.Model(inputs, outputs, name=f"{model.name}_probe"))
    _PROBES[model] = probe
    return probe


def _functional(model: keras.Model, x=None) -> keras.Model:
    """``model`` if its layer graph is visible (Sequential/Functional), else a clear error."""
    if isinstance(model, keras.Sequential):
        if not layer_graph_built(model):
            if x is None:
                raise ValueError(
                    f"model {model.name!r} is not built yet: give it an input shape "
                    "(keras.Input(shape=...)) or call it on data first"
                )
            model(np.asarray(x)[:1])
        return model
    if is_functional(model):
        return model
    raise ValueError(
        f"{type(model).__name__} is a subclassed keras.Model: its layers' outputs exist only "
        "inside its call() method, so labkit cannot probe them. Build the same network with "
        "keras.Sequential or the Functional API (keras.Model(inputs, outputs)) to monitor it."
    )

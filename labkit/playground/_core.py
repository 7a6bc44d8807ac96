"""The headless playground: 2-D data, a small network, exact per-step diagnostics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace

import keras
import numpy as np

from labkit.activations import activation_kind
from labkit.diagnose import (
    Finding,
    dead_relu_findings,
    exploding_finding,
    overfitting_finding,
    update_ratio_findings,
    vanishing_finding,
)
from labkit.gradients import layer_of_variables
from labkit.instrumentation import decode, instrument
from labkit.models import build_mlp, reinitialize
from labkit.playground.controls import (
    CONTROLS,
    DATASETS,
    PRESETS,
    preset_controls,
    validated,
)

__all__ = ["CONTROLS", "PRESETS", "Playground", "make_data"]

WINDOW = 10  # findings read the mean of the last WINDOW records
_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),  # Keras's default negative slope
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500))),
    "tanh": np.tanh,
}


def make_data(dataset: str, points: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``points`` 2-D points (float32, roughly in [-1, 1]) and their 0/1 labels, drawn with NumPy.

    ``noise`` is the standard deviation of the jitter added to each point.

    Example
    -------
    >>> x, y = make_data("xor", 200, 0.1, seed=0)
    >>> x.shape, sorted(set(y.tolist()))
    ((200, 2), [0.0, 1.0])
    """
    rng = np.random.default_rng([seed, 0])
    y = np.arange(points) % 2
    if dataset == "spiral":
        t = rng.uniform(0.05, 1.0, points)
        angle = 2.5 * math.pi * t + math.pi * y
        x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    elif dataset == "circles":
        radius = np.where(y == 1, rng.uniform(0.0, 0.45, points), rng.uniform(0.65, 1.0, points))
        angle = rng.uniform(0, 2 * math.pi, points)
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    elif dataset == "xor":
        x = rng.uniform(-1, 1, (points, 2))
        x += np.sign(x) * 0.05  # a small margin around the axes
        y = (x[:, 0] * x[:, 1] > 0).astype(int)
    elif dataset == "gaussian":
        centre = np.where(y[:, None] == 1, 0.5, -0.5)
        x = centre + rng.normal(0.0, 0.25, (points, 2))
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    x = x + rng.normal(0.0, noise, x.shape)
    return x.astype("float32"), y.astype("float32")


class Playground:
    """A small network on 2-D data that trains step by step and reports what goes wrong.

    Headless: ``run(steps)`` trains, ``history`` holds one record per step, ``findings`` says what
    is wrong now and ``state`` holds the controls (``Playground(**state)`` rebuilds the same
    set-up). ``show()`` opens the live app in Jupyter and Colab, or draws a static summary in a
    non-interactive run.

    Parameters
    ----------
    preset : str
        ``"healthy"`` (the defaults), ``"vanishing"``, ``"exploding"``, ``"dead_relu"`` or
        ``"overfitting"``; ``controls`` override it.
    locked : iterable of str
        Controls the app shows but does not let the student change.
    hidden : iterable of str
        Controls the app does not show at all (a restricted set-up, like a lesson's challenge).
    **controls
        Any of :data:`CONTROLS`: ``dataset`` (spiral, circles, xor, gaussian), ``points``,
        ``noise``, ``train_fraction``, ``depth``, ``width``, ``activation`` (sigmoid, tanh, relu,
        leaky_relu, linear), ``initializer`` (glorot, he), ``init_scale`` (multiplies the initial
        weights), ``batch_norm``, ``dropout``, ``l2``, ``optimizer`` (sgd, adam),
        ``learning_rate``, ``batch_size``, ``seed`` (data, weights and batch order, drawn with
        NumPy; dropout masks, drawn by Keras).

    Each step is one optimizer update on one batch. Record ``k`` of ``history`` describes update
    ``k``: ``grad_norms`` (exact, of that step's real batch, from :func:`labkit.instrument`),
    ``update_ratio`` (log10 of std(Δw) / std(w) per layer) and, measured after it,
    ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy`` and ``dead`` (the
    fraction of each ReLU layer's units that output 0 for every training point). Record 0 is the
    untrained network (empty ``grad_norms`` and ``update_ratio``).

    Example
    -------
    >>> pg = Playground(preset="vanishing")
    >>> pg.run(steps=50)  # doctest: +SKIP
    >>> [f.kind for f in pg.findings]  # doctest: +SKIP
    ['vanishing', 'learning_rate']
    >>> fixed = Playground(**{**pg.state, "activation": "relu", "initializer": "he"})
    """

    def __init__(
        self,
        preset: str = "healthy",
        *,
        locked: Iterable[str] = (),
        hidden: Iterable[str] = (),
        **controls,
    ):
        self.preset = preset
        self.controls = validated(preset_controls(preset), controls)
        self.locked = self._names(locked, "locked")
        self.hidden = self._names(hidden, "hidden")
        self._build()

    @classmethod
    def from_state(cls, state: Mapping, **kwargs) -> Playground:
        """The playground a :attr:`state` describes (``locked``/``hidden`` in ``kwargs``).

        Example
        -------
        >>> Playground.from_state({"preset": "healthy", "depth": 2}).controls["depth"]
        2
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"a playground state is a dict such as pg.state, got {type(state).__name__}"
            )
        return cls(**{**state, **kwargs})

    # --- controls ------------------------------------------------------------------------------
    @property
    def state(self) -> dict:
        """The preset and every control, as plain JSON-able data."""
        return {"preset": self.preset, **self.controls}

    def changed(self) -> dict:
        """The controls that differ from the preset's, ``{name: value}``.

        Example
        -------
        >>> Playground(preset="vanishing", activation="relu").changed()
        {'activation': 'relu'}
        """
        base = preset_controls(self.preset)
        return {k: v for k, v in self.controls.items() if v != base[k]}

    def set(self, **controls) -> Playground:
        """Change controls. ``learning_rate`` and ``batch_size`` apply to the running network;
        any other change rebuilds it and starts again from step 0. Returns the playground.

        Example
        -------
        >>> pg = Playground().set(learning_rate=0.001)
        >>> pg.controls["learning_rate"]
        0.001
        """
        new = validated(self.controls, controls)
        rebuild = any(new[k] != self.controls[k] and CONTROLS[k].rebuild for k in new)
        self.controls = new
        if rebuild:
            self._build()
        else:
            self._optimizer.learning_rate.assign(new["learning_rate"])
        return self

    def reset(self, seed: int | None = None) -> Playground:
        """Start again from step 0 with a new seed (default: the next one). Returns it."""
        return self.set(seed=self.controls["seed"] + 1 if seed is None else seed)

    @staticmethod
    def _names(names: Iterable[str], what: str) -> tuple[str, ...]:
        names = (names,) if isinstance(names, str) else tuple(names)
        unknown = [n for n in names if n not in CONTROLS]
        if unknown:
            raise ValueError(
                f"{what} names unknown control(s) {unknown}; the controls are: "
                f"{', '.join(CONTROLS)}"
            )
        return names

    # --- the network ---------------------------------------------------------------------------
    def _build(self) -> None:
        c = self.controls
        x, y = make_data(c["dataset"], c["points"], c["noise"], c["seed"])
        order = np.random.default_rng([c["seed"], 1]).permutation(len(x))
        n_train = max(2, min(len(x) - 2, round(c["train_fraction"] * len(x))))
        self.x_train, self.y_train = x[order[:n_train]], y[order[:n_train]]
        self.x_test, self.y_test = x[order[n_train:]], y[order[n_train:]]
        self._batches = np.random.default_rng([c["seed"], 2])
        self._queue = np.empty(0, dtype=int)

        self.model = _network(c)
        self._optimizer = (
            keras.optimizers.Adam(c["learning_rate"])
            if c["optimizer"] == "adam"
            else keras.optimizers.SGD(c["learning_rate"])
        )
        self.model.compile(
            optimizer=self._optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True)
        )
        instrument(self.model)
        self.layers = list(layer_of_variables(self.model))
        self._sizes = [len(layer.weights) for layer in self.model.layers]
        self.step = 0
        self.history: list[dict] = []
        self.history.append(self._measure(self._layer_weights(), {}, {}))

    def _layer_weights(self) -> dict[str, list[np.ndarray]]:
        """Every layer's weights as float64 NumPy arrays (one host copy per variable)."""
        flat = iter(np.asarray(w, dtype=np.float64) for w in self.model.get_weights())
        return {
            layer.name: [next(flat) for _ in range(n)]
            for layer, n in zip(self.model.layers, self._sizes)
        }

    def forward(self, x: np.ndarray, weights: Mapping | None = None):
        """``(logits, relu_outputs)`` of the network on ``x`` in inference mode, in NumPy.

        The network is small, so this exact float64 replay of its layers (Dense, batch norm with
        its moving statistics, the activation; dropout is off) costs far less than a call into
        the backend, which keeps every step's record cheap. ``relu_outputs`` maps each ReLU
        layer's name to its outputs.

        Example
        -------
        >>> logits, relu = Playground(depth=2).forward(np.zeros((4, 2), "float32"))
        >>> logits.shape, list(relu)
        ((4,), ['hidden_1', 'hidden_2'])
        """
        weights = self._layer_weights() if weights is None else weights
        h = np.asarray(x, dtype=np.float64)
        relu = {}
        for layer in self.model.layers:
            w = weights[layer.name]
            if isinstance(layer, keras.layers.Dense):
                h = h @ w[0] + w[1]
            elif isinstance(layer, keras.layers.BatchNormalization):
                gamma, beta, mean, var = w
                h = gamma * (h - mean) / np.sqrt(var + layer.epsilon) + beta
            elif isinstance(layer, keras.layers.Dropout):
                continue
            kind = activation_kind(layer)
            if kind is not None:
                h = _ACTIVATIONS[kind](h)
                if kind == "relu":
                    relu[layer.name] = h
        return h[:, 0], relu

    def _measure(self, weights: Mapping, norms: dict, ratios: dict) -> dict:
        """A history record of ``weights``, the network after ``self.step`` updates."""
        n = len(self.x_train)
        logits, relu = self.forward(np.concatenate([self.x_train, self.x_test]), weights)
        dead = {name: float(np.mean(np.all(a[:n] == 0, axis=0))) for name, a in relu.items()}
        record = {"step": self.step, "grad_norms": norms, "update_ratio": ratios, "dead": dead}
        for part, z, labels in (
            ("train", logits[:n], self.y_train),
            ("test", logits[n:], self.y_test),
        ):
            with np.errstate(over="ignore", invalid="ignore"):
                loss = np.mean(np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z))))
            record[f"{part}_loss"] = float(loss)
            record[f"{part}_accuracy"] = float(np.mean((z > 0) == (labels > 0.5)))
        return record

    # --- training ------------------------------------------------------------------------------
    def run(self, steps: int = 100, every: int = 1) -> Playground:
        """Train ``steps`` updates (one ``train_on_batch`` each); record every ``every``-th step.

        Batches are drawn with NumPy from the seed (each epoch a new shuffle of the training
        points), so a state trains the same way on TensorFlow, JAX and PyTorch. A record reads
        the weights back from the backend before and after its step, which costs more than the
        step itself on TensorFlow: ``every=10`` trains several times faster. The last step is
        always recorded. Returns the playground.

        Example
        -------
        >>> len(Playground(depth=2).run(steps=5).history)  # record 0 and steps 1-5
        6
        """
        for name, value in (("steps", steps), ("every", every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{name} must be a positive whole number, e.g. run(steps=200, every=1); "
                    f"got {name}={value!r}"
                )
        size = min(self.controls["batch_size"], len(self.x_train))
        for i in range(steps):
            if len(self._queue) < size:
                self._queue = np.concatenate(
                    [self._queue, self._batches.permutation(len(self.x_train))]
                )
            idx, self._queue = self._queue[:size], self._queue[size:]
            due = (self.step + 1) % every == 0 or i == steps - 1
            before = self._layer_weights() if due else None
            logs = self.model.train_on_batch(self.x_train[idx], self.y_train[idx], return_dict=True)
            self.step += 1
            if due:
                self._record(logs, before)
        return self

    def _record(self, logs: dict, before: Mapping) -> None:
        (step,) = decode(self.layers, logs)
        after = self._layer_weights()
        ratios = {}
        for name, weights in after.items():
            if not weights or name not in step["norms"]:
                continue
            spread = float(np.std(before[name][0]))
            change = float(np.std(weights[0] - before[name][0]))
            if change == 0:
                ratios[name] = -math.inf
            else:
                ratios[name] = math.log10(change / spread) if spread > 0 else math.nan
        self.history.append(self._measure(after, step["norms"], ratios))

    # --- what it found -------------------------------------------------------------------------
    def latest(self, key: str, window: int = WINDOW) -> dict[str, float]:
        """The mean of ``key`` (``"grad_norms"``, ``"update_ratio"``, ``"dead"``) per layer over
        the last ``window`` records that have it.

        Example
        -------
        >>> Playground().latest("dead")  # doctest: +SKIP
        {'hidden_1': 0.0, 'hidden_2': 0.0, 'hidden_3': 0.0}
        """
        records = [r[key] for r in self.history if r[key]][-window:]
        if not records:
            return {}
        return {name: float(np.mean([r[name] for r in records])) for name in records[-1]}

    @property
    def findings(self) -> list[Finding]:
        """What is wrong now (the last :data:`WINDOW` records), each with the course's remedy.

        At most one finding per kind, for the layer nearest the input; its message says how
        many more layers show it. A vanishing gradient that dead ReLU units explain (a layer of
        them at 100%) is left to the dead-ReLU finding.
        """
        norms = self.latest("grad_norms")
        dead = self.history[-1]["dead"]
        found = [exploding_finding(norms, step=self.step)]
        if not any(v >= 1.0 for v in dead.values()):
            found.append(vanishing_finding(norms, step=self.step))
        if found[0] is None and not math.isfinite(self.history[-1]["train_loss"]):
            found[0] = exploding_finding({self.layers[0]: math.nan}, step=self.step)
        found += dead_relu_findings(dead, step=self.step)
        if self.controls["learning_rate"] > 0 and all(math.isfinite(v) for v in norms.values()):
            found += update_ratio_findings(self.latest("update_ratio"), step=self.step)
        losses = [(r["train_loss"], r["test_loss"]) for r in self.history]
        found.append(overfitting_finding(*zip(*losses), step=self.step))
        return _one_per_kind([f for f in found if f is not None])

    def summary(self) -> dict:
        """The last record's losses and accuracies, the majority-class baseline and the gap.

        Example
        -------
        >>> Playground().summary()["baseline_accuracy"]  # doctest: +SKIP
        0.5
        """
        last = self.history[-1]
        share = float(np.mean(self.y_test, dtype=np.float64))
        majority = max(share, 1 - share)
        return {
            "step": self.step,
            **{k: last[k] for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")},
            "baseline_accuracy": float(majority),
            "gap": last["test_loss"] - last["train_loss"],
        }

    def predict_grid(self, resolution: int = 60, extent: float = 1.7):
        """``(xs, ys, p)``: the network's class-1 probability on a ``resolution``² grid."""
        xs = np.linspace(-extent, extent, resolution, dtype="float32")
        gx, gy = np.meshgrid(xs, xs)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        z, _ = self.forward(grid)
        with np.errstate(over="ignore", invalid="ignore"):
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return xs, xs, p.reshape(resolution, resolution)

    def show(self, live: bool | None = None):
        """The live app (Jupyter, Colab) or, in a non-interactive run, a static summary.

        ``live=None`` decides from the environment (:func:`labkit.playground.interactive`).

        Example
        -------
        >>> Playground(preset="dead_relu").show()  # doctest: +SKIP
        """
        from labkit.playground._app import show

        return show(self, live)

    def _ipython_display_(self):
        from IPython.display import display

        shown = self.show()
        if shown is not None:
            display(shown)

    def __repr__(self) -> str:
        args = [f"preset={self.preset!r}"] + [f"{k}={v!r}" for k, v in self.changed().items()]
        return f"Playground({', '.join(args)}) at step {self.step}"


def _one_per_kind(findings: list[Finding]) -> list[Finding]:
    """The first finding of each kind, its message counting the other layers that show it."""
    kept: dict[str, Finding] = {}
    more: dict[str, int] = {}
    for f in findings:
        if f.kind in kept:
            more[f.kind] += 1
        else:
            kept[f.kind], more[f.kind] = f, 0
    return [
        replace(f, message=f"{f.message} ({more[k]} more layer(s) show it too.)") if more[k] else f
        for k, f in kept.items()
    ]


def _network(c: Mapping) -> keras.Model:
    """The controls' MLP (one logit out), weights drawn with NumPy from the seed."""
    base = {"he": (2.0, "fan_in", "truncated_normal"), "glorot": (1.0, "fan_avg", "uniform")}
    scale, mode, distribution = base[c["initializer"]]
    init = keras.initializers.VarianceScaling(c["init_scale"] ** 2 * scale, mode, distribution)
    if c["init_scale"] == 0:
        init = keras.initializers.Zeros()
    model = build_mlp(
        2,
        c["depth"],
        c["width"],
        activation=c["activation"],
        kernel_initializer=init,
        batch_norm=c["batch_norm"],
        dropout=c["dropout"],
        name=f"playground_{c['activation']}_{c['depth']}x{c['width']}",
    )
    if c["l2"] > 0 or c["dropout"] > 0:
        config = model.get_config()
        for i, layer in enumerate(config["layers"]):
            if layer["class_name"] == "Dense" and c["l2"] > 0:
                layer["config"]["kernel_regularizer"] = keras.regularizers.serialize(
                    keras.regularizers.L2(c["l2"])
                )
            if layer["class_name"] == "Dropout":
                layer["config"]["seed"] = c["seed"] * 1000 + i
        model = keras.Sequential.from_config(config)
    return reinitialize(model, c["seed"])

"""``TensorBoardHistograms``: the monitors' histograms on TensorBoard's histogram dashboard."""

from __future__ import annotations

import itertools
import os
import socket
import time

import keras
import numpy as np

from labkit.callbacks.activation_monitor import ActivationMonitor
from labkit.callbacks.gradient_monitor import GradientMonitor

# Record entry holding {layer: (counts, edges)} -> TensorBoard tag prefix.
ENTRIES = {ActivationMonitor: ("hist", "activations"), GradientMonitor: ("grad_hist", "gradients")}

_FILES = itertools.count()


class TensorBoardHistograms(keras.callbacks.Callback):
    """Write the histograms that monitors record into TensorBoard event files, on every backend.

    An :class:`ActivationMonitor` gives the tags ``activations/<layer>``, a
    :class:`GradientMonitor` with a probe ``gradients/<layer>``, each at the training step of
    its record. The files are written with the ``tensorboard`` package alone (no TensorFlow
    needed), into ``<log_dir>/train`` beside the scalars of ``keras.callbacks.TensorBoard``
    (which are the monitors' epoch ``logs``). List this callback after the monitors; new records
    are written at each epoch end and when training ends (so records a monitor thinned out of
    its ``history`` within an epoch, past its ``max_records``, are not written).

    Args:
        monitors: the monitors whose histograms to write.
        log_dir: the run's directory, as given to ``keras.callbacks.TensorBoard``.

    Example:
        >>> acts = ActivationMonitor(probe=x_train[:256])  # doctest: +SKIP
        >>> grads = GradientMonitor(probe=(x_train[:256], y_train[:256]))  # doctest: +SKIP
        >>> tb = keras.callbacks.TensorBoard("logs/run1")  # doctest: +SKIP
        >>> hists = TensorBoardHistograms([acts, grads], log_dir="logs/run1")  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[acts, grads, hists, tb])  # doctest: +SKIP
    """

    def __init__(self, monitors, log_dir: str):
        super().__init__()
        monitors = list(monitors) if isinstance(monitors, (list, tuple)) else [monitors]
        for monitor in monitors:
            if not isinstance(monitor, tuple(ENTRIES)):
                raise ValueError(
                    f"{type(monitor).__name__} records no histograms: pass ActivationMonitor "
                    "and GradientMonitor(probe=...) objects, e.g. TensorBoardHistograms([acts], "
                    'log_dir="logs")'
                )
            if isinstance(monitor, GradientMonitor) and not monitor.uses_probe:
                raise ValueError(
                    "gradient histograms come from the probe batch: pass "
                    "GradientMonitor(probe=(x_train[:256], y_train[:256]))"
                )
        _tensorboard()  # fail now, with the install command, rather than after an epoch
        self.monitors = monitors
        self.log_dir = os.fspath(log_dir)
        self._written = [-1] * len(monitors)  # per monitor, the last step written
        self._file = None

    def on_train_begin(self, logs=None):
        self._file = _EventFile(os.path.join(self.log_dir, "train"))

    def on_epoch_end(self, epoch, logs=None):
        self._write_new()

    def on_train_end(self, logs=None):
        self._write_new()
        self._file.close()
        self._file = None

    def _write_new(self) -> None:
        for i, monitor in enumerate(self.monitors):
            key, prefix = next(e for cls, e in ENTRIES.items() if isinstance(monitor, cls))
            steps = monitor.steps(key)
            for position, step in enumerate(steps):
                if step > self._written[i]:  # positions shift when the monitor thins its history
                    hists = monitor.at(position, key)
                    self._file.write(step, {f"{prefix}/{k}": v for k, v in hists.items()})
            self._written[i] = max([self._written[i], *steps])
        self._file.flush()


def _tensorboard():
    """The ``tensorboard`` modules used here (they never import TensorFlow)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram import metadata
        from tensorboard.summary.writer.record_writer import RecordWriter
        from tensorboard.util import tensor_util
    except ImportError:
        raise ImportError(
            "TensorBoardHistograms writes TensorBoard event files with the tensorboard package: "
            "pip install tensorboard"
        ) from None
    return event_pb2, summary_pb2, metadata, RecordWriter, tensor_util


class _EventFile:
    """One TensorBoard event file: histograms as the histogram plugin's ``[k, 3]`` tensors."""

    def __init__(self, directory: str):
        event_pb2, _, _, RecordWriter, _ = _tensorboard()
        os.makedirs(directory, exist_ok=True)
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{next(_FILES)}.labkit"
        )
        self.path = os.path.join(directory, name)
        self._tags: set[str] = set()  # the plugin metadata goes with a tag's first value only
        self._records = RecordWriter(open(self.path, "wb"))  # closed in close()
        self._records.write(
            event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString()
        )

    def write(self, step: int, histograms: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """One event at ``step`` holding ``{tag: (counts, edges)}``."""
        event_pb2, summary_pb2, metadata, _, tensor_util = _tensorboard()
        summary = summary_pb2.Summary()
        for tag, (counts, edges) in histograms.items():
            edges = np.asarray(edges, dtype=np.float64)
            buckets = np.stack([edges[:-1], edges[1:], np.asarray(counts, dtype=np.float64)], 1)
            value = summary.value.add(
                tag=tag, tensor=tensor_util.make_tensor_proto(buckets, dtype=np.float64)
            )
            if tag not in self._tags:
                value.metadata.CopyFrom(metadata.create_summary_metadata(tag, description=""))
                self._tags.add(tag)
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._records.write(event.SerializeToString())

    def flush(self) -> None:
        self._records.flush()

    def close(self) -> None:
        self._records.close()

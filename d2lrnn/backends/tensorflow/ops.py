"""TensorFlow primitives for the core: tensors, devices, gradients, the SGD update, ``tf.function``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from ...metrics import ArrayMath
from ..base import Backend
from .models import RNN, RNNScratch, keras

#: compile the training step with XLA; measured about 3x slower than a plain graph on CPU
JIT_COMPILE = False


def _cross_entropy(logits: tf.Tensor, Y: tf.Tensor) -> tf.Tensor:
    """Mean token cross-entropy of time-major logits against batch-major labels."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.transpose(Y), logits=logits)
    )


@tf.function
def _eval_loss(model: Any, X: tf.Tensor, Y: tf.Tensor, state: Any) -> tuple[tf.Tensor, Any]:
    """Validation loss, compiled once per model (TensorFlow keys the trace on a weak reference)."""
    logits, state = model(X, state)
    return _cross_entropy(logits, Y), state


class TensorFlowBackend(Backend):
    name = "tensorflow"
    math = ArrayMath(tf.reduce_sum, tf.sqrt, tf.maximum)
    RNN = RNN
    RNNScratch = RNNScratch

    def tensor(self, array: np.ndarray, device: Any = None) -> tf.Tensor:
        if device is None or "CPU" in str(device).upper():
            return tf.constant(array)  # eager constants live on the host already
        with tf.device(device):
            return tf.identity(tf.constant(array))

    def to_numpy(self, tensor: tf.Tensor) -> np.ndarray:
        return np.asarray(tensor)

    def cpu(self) -> str:
        return "/CPU:0"

    def num_gpus(self) -> int:
        return len(tf.config.list_physical_devices("GPU"))

    def gpu(self, i: int = 0) -> str:
        return f"/GPU:{i}"

    def seed(self, seed: int) -> None:
        # Python, NumPy and TensorFlow: Keras initialisers draw from all
        keras.utils.set_random_seed(seed)

    def set_threads(self, threads: int) -> None:
        """Intra- and inter-op threads; only before the runtime starts (``TF_NUM_*_THREADS`` do the
        same)."""
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime is running: the variables set before the import apply
            pass

    def parameters(self, model: Any, sample: Any = None) -> list[Any]:
        if sample is not None:  # build layers a user subclass creates lazily
            model(sample)
        return list(model.trainable_variables)

    def loss(self, model: Any, X: tf.Tensor, Y: tf.Tensor, state: Any) -> tuple[tf.Tensor, Any]:
        return _eval_loss(model, X, Y, state)

    def loss_and_grads(self, model: Any, params: list[Any], X: tf.Tensor, Y: tf.Tensor, state: Any):
        with tf.GradientTape() as tape:
            logits, state = model(X, state)
            loss = _cross_entropy(logits, Y)
        grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        # gather gives IndexedSlices: densify
        return loss, [tf.convert_to_tensor(g) for g in grads], state

    def sgd_update(self, params: list[Any], grads: list[tf.Tensor], lr: float) -> None:
        for param, grad in zip(params, grads, strict=True):
            param.assign_sub(lr * grad)

    def compile_step(self, step: Callable[..., Any]) -> Callable[..., Any]:
        # exact shapes (no reduce_retracing): RNNScratch unrolls over a static num_steps.
        # Fixed-shape
        # batches trace twice (first state None, then a state); random sampling (always None) once
        return tf.function(step, jit_compile=JIT_COMPILE)


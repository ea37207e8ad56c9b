"""The tensor aliases the book's cells call (``d2l.reshape``, ``d2l.zeros``, ...), per framework,
and
the d2l 0.x names that every tab of the published book also offers.

d2l defines one short name per tensor operation so that a cell reads the same on every tab;
:func:`tensor_aliases` returns them for one framework module (its name picks the table).
:data:`V0_NAMES` lists, once for every tab, the 0.x names that ``from d2lrnn import <tab> as d2l``
offers beside the published book's (:func:`v0_names` takes them from the tab's 0.x module,
:mod:`d2lrnn.book.v0`; JAX has no 0.x tab).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _torch(torch: ModuleType) -> dict[str, Any]:
    return {
        "ones": torch.ones,
        "zeros": torch.zeros,
        "arange": torch.arange,
        "meshgrid": torch.meshgrid,
        "sin": torch.sin,
        "sinh": torch.sinh,
        "cos": torch.cos,
        "cosh": torch.cosh,
        "tanh": torch.tanh,
        "linspace": torch.linspace,
        "exp": torch.exp,
        "log": torch.log,
        "normal": torch.normal,
        "rand": torch.rand,
        "randn": torch.randn,
        "matmul": torch.matmul,
        "concat": torch.cat,
        "stack": torch.stack,
        "abs": torch.abs,
        "eye": torch.eye,
        "sigmoid": torch.sigmoid,
        "batch_matmul": torch.bmm,
        "swapaxes": torch.swapaxes,
        "numpy": lambda x, *args, **kwargs: x.detach().numpy(*args, **kwargs),
        "size": lambda x, *args, **kwargs: x.numel(*args, **kwargs),
        "reshape": lambda x, *args, **kwargs: x.reshape(*args, **kwargs),
        "reduce_sum": lambda x, *args, **kwargs: x.sum(*args, **kwargs),
        "reduce_mean": lambda x, *args, **kwargs: x.mean(*args, **kwargs),
        "argmax": lambda x, *args, **kwargs: x.argmax(*args, **kwargs),
        "astype": lambda x, *args, **kwargs: x.type(*args, **kwargs),
        "transpose": lambda x, *args, **kwargs: x.t(*args, **kwargs),
    }


def _tensorflow(tf: ModuleType) -> dict[str, Any]:
    return {
        "ones": tf.ones,
        "zeros": tf.zeros,
        "arange": tf.range,
        "meshgrid": tf.meshgrid,
        "sin": tf.sin,
        "sinh": tf.sinh,
        "cos": tf.cos,
        "cosh": tf.cosh,
        "tanh": tf.tanh,
        "linspace": tf.linspace,
        "exp": tf.exp,
        "log": tf.math.log,
        "normal": tf.random.normal,
        "rand": tf.random.uniform,
        "randn": lambda *shape, **kwargs: tf.random.normal(shape, **kwargs),
        "matmul": tf.matmul,
        "concat": tf.concat,
        "stack": tf.stack,
        "abs": tf.abs,
        "eye": tf.eye,
        "sigmoid": tf.sigmoid,
        "batch_matmul": tf.matmul,
        "swapaxes": lambda x, a, b: tf.transpose(
            x, [b if i == a else a if i == b else i for i in range(len(x.shape))]
        ),
        "numpy": lambda x, *args, **kwargs: x.numpy(*args, **kwargs),
        "size": lambda x, *args, **kwargs: tf.size(x, *args, **kwargs).numpy(),
        "reshape": lambda x, *args, **kwargs: tf.reshape(x, *args, **kwargs),
        "reduce_sum": lambda x, *args, **kwargs: tf.reduce_sum(x, *args, **kwargs),
        "reduce_mean": lambda x, *args, **kwargs: tf.reduce_mean(x, *args, **kwargs),
        "argmax": lambda x, *args, **kwargs: tf.argmax(x, *args, **kwargs),
        "astype": lambda x, *args, **kwargs: tf.cast(x, *args, **kwargs),
        "transpose": lambda x, *args, **kwargs: tf.transpose(x, *args, **kwargs),
    }


def _mxnet(mx: ModuleType) -> dict[str, Any]:
    np, npx = mx.np, mx.npx
    return {
        "ones": np.ones,
        "zeros": np.zeros,
        "arange": np.arange,
        "meshgrid": np.meshgrid,
        "sin": np.sin,
        "sinh": np.sinh,
        "cos": np.cos,
        "cosh": np.cosh,
        "tanh": np.tanh,
        "linspace": np.linspace,
        "exp": np.exp,
        "log": np.log,
        "normal": np.random.normal,
        "rand": np.random.rand,
        "randn": np.random.randn,
        "matmul": np.dot,
        "concat": np.concatenate,
        "stack": np.stack,
        "abs": np.abs,
        "eye": np.eye,
        "sigmoid": npx.sigmoid,
        "batch_matmul": npx.batch_dot,
        "swapaxes": np.swapaxes,
        "numpy": lambda x, *args, **kwargs: x.asnumpy(*args, **kwargs),
        "size": lambda x, *args, **kwargs: x.size,
        "reshape": lambda x, *args, **kwargs: x.reshape(*args, **kwargs),
        "reduce_sum": lambda x, *args, **kwargs: x.sum(*args, **kwargs),
        "reduce_mean": lambda x, *args, **kwargs: x.mean(*args, **kwargs),
        "argmax": lambda x, *args, **kwargs: x.argmax(*args, **kwargs),
        "astype": lambda x, *args, **kwargs: x.astype(*args, **kwargs),
        "transpose": lambda x, *args, **kwargs: x.T,
    }


def _method(name: str) -> Any:
    """``alias(x, *args)`` calling ``x.<name>(*args)``, as the book's JAX aliases do."""
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _jax(jax: ModuleType) -> dict[str, Any]:
    import numpy as np
    from jax import numpy as jnp

    return {
        "ones": jnp.ones,
        "ones_like": jnp.ones_like,
        "zeros": jnp.zeros,
        "zeros_like": jnp.zeros_like,
        "arange": jnp.arange,
        "meshgrid": jnp.meshgrid,
        "sin": jnp.sin,
        "sinh": jnp.sinh,
        "cos": jnp.cos,
        "cosh": jnp.cosh,
        "tanh": jnp.tanh,
        "linspace": jnp.linspace,
        "exp": jnp.exp,
        "log": jnp.log,
        "tensor": jnp.array,
        "expand_dims": jnp.expand_dims,
        "matmul": jnp.matmul,
        "concat": jnp.concatenate,
        "stack": jnp.stack,
        "abs": jnp.abs,
        "eye": jnp.eye,
        "sigmoid": jax.nn.sigmoid,
        "numpy": np.asarray,
        "to": jax.device_put,
        "reshape": _method("reshape"),
        "reduce_sum": _method("sum"),
        "argmax": _method("argmax"),
        "astype": _method("astype"),
        "reduce_mean": _method("mean"),
        "swapaxes": _method("swapaxes"),
        "repeat": _method("repeat"),
        "transpose": lambda x, *axes: x.T if not axes else jnp.transpose(x, *axes),
    }


#: the d2l 0.x names each tab's plain namespace (``from d2lrnn import mxnet as d2l``) offers, the
#: same on every tab
V0_NAMES = (
    "Accumulator",
    "Animator",
    "RNNModel",
    "RNNModelScratch",
    "Timer",
    "grad_clipping",
    "load_data_time_machine",
    "predict_ch8",
    "sgd",
    "train_ch8",
)


def v0_names(v0: ModuleType) -> dict[str, Any]:
    """:data:`V0_NAMES` as the tab's d2l 0.x module ``v0`` (``d2lrnn.book.v0.mxnet``, ...) defines
    them."""
    return {name: getattr(v0, name) for name in V0_NAMES}


TABLES = {"torch": _torch, "tensorflow": _tensorflow, "mxnet": _mxnet, "jax": _jax}


def tensor_aliases(framework: ModuleType) -> dict[str, Any]:
    """The aliases for ``framework`` (the imported module, e.g. ``torch``)."""
    return TABLES[framework.__name__](framework)

"""d2l 1.0.3's JAX tab: ``from d2lrnn import jax as d2l`` (also ``d2lrnn.v1.jax``), Flax ``linen``
models on the core loop. d2l 0.x had no JAX tab, so there are no 0.x names here.

The framework-neutral parts are in :mod:`d2lrnn.book.v1`. The book's JAX models are Flax
``linen`` dataclasses whose weights live outside them, in the trainer's :class:`TrainState`:
``training_step(params, batch, state)`` returns the loss and the gradients, and
``Trainer.fit(model, data, key=None)`` initialises the parameters from the first batch. Here that
``Trainer`` is the library's loop (:class:`d2lrnn.book.v1.Trainer`); this module adds the
``Module`` / ``Classifier`` classes, ``RNNScratch``, ``RNNLMScratch``, ``RNN``, ``RNNLM``, the
tensor aliases and the per-batch primitive, whose optimizer update (the clipping hook included)
is one ``jax.jit``-compiled function.

The book's concise ``RNN`` raised ``NotImplementedError`` (Flax then had no vanilla cell). Here it
runs Flax's ``linen.SimpleCell``, unrolled in Python over the time steps: Linen's ``nn.RNN`` and
``nn.scan`` fail on JAX 0.4.38 with Flax 0.10.4 (``jax.api_util.debug_info`` is missing there).
"""

from __future__ import annotations

import random
from dataclasses import field
from functools import partial
from typing import Any

import jax
import numpy as np
import optax
from flax import linen as nn
from flax.training import train_state
from jax import numpy as jnp

from ...backends.jax import BACKEND
from ...cells import Ops, get_cell
from ...vocab import SortedVocab as Vocab
from ..aliases import tensor_aliases
from . import *  # noqa: F403  (the names every tab shares)
from . import TAB_NAMES, BookAPIError, ModuleSteps, ProgressBoard, check_call, data_classes
from . import Trainer as _Trainer
from . import __all__ as SHARED_NAMES

globals().update(tensor_aliases(jax))  # reshape, zeros, ..., the book's tensor aliases
float32 = jnp.float32
int32 = jnp.int32
int64 = jnp.int64
DataModule, TimeMachine = data_classes(jnp.asarray, np.asarray)
cpu = BACKEND.cpu
gpu = BACKEND.gpu
num_gpus = BACKEND.num_gpus
try_gpu = BACKEND.try_gpu


def try_all_gpus() -> list[Any]:
    """Every GPU JAX sees (an empty list without one)."""
    return [gpu(i) for i in range(num_gpus())]


def get_seed() -> int:
    """A random seed for a PRNG key (the book draws them from Python's ``random``)."""
    return random.randint(0, 10**6)


def get_key() -> jax.Array:
    """A fresh PRNG key (``jax.random.PRNGKey(get_seed())``)."""
    return jax.random.PRNGKey(get_seed())


def check_len(a: Any, n: int) -> None:
    """Assert that the list ``a`` has ``n`` items."""
    assert len(a) == n, f"list's length {len(a)} != expected length {n}"


def check_shape(a: Any, shape: tuple[int, ...]) -> None:
    """Assert that the array ``a`` has ``shape``."""
    assert a.shape == shape, f"tensor's shape {a.shape} != expected shape {shape}"


class TrainState(train_state.TrainState):
    """Flax's ``TrainState`` with the two fields the book adds: ``batch_stats`` and ``dropout_rng``.
    """

    batch_stats: Any
    dropout_rng: jax.Array


#: what the book's trainer sets on a model after it is built (Flax freezes a module after
#: ``__init__``)
_RUNTIME_ATTRIBUTES = frozenset({"trainer", "training"})


class Module(nn.Module, ModuleSteps):
    """The book's base model: a Flax ``linen`` module with ``training_step(params, batch, state)``,
    ``validation_step``, ``configure_optimizers`` (``optax.sgd(lr)``), ``apply_init`` and ``plot``
    (recorded on :attr:`board`, a :class:`ProgressBoard`). ``__call__`` runs ``forward``."""

    plot_train_per_epoch: int = field(default=2, init=False)
    plot_valid_per_epoch: int = field(default=1, init=False)
    board: ProgressBoard = field(default_factory=ProgressBoard, init=False)
    #: the core picks the JAX adapter for this model (its arrays, devices and gradient norm)
    backend_name = "jax"

    @nn.nowrap
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _RUNTIME_ATTRIBUTES and self._state.is_initialized and not self._state.in_setup:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def __call__(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        return self.forward(X, *args, **kwargs)

    def training_step(self, params: Any, batch: Any, state: TrainState) -> tuple[Any, Any]:
        loss, grads = jax.value_and_grad(self.loss)(params, batch[:-1], batch[-1], state)
        self.plot("loss", loss, train=True)
        return loss, grads

    def validation_step(self, params: Any, batch: Any, state: TrainState) -> Any:
        loss = self.loss(params, batch[:-1], batch[-1], state)
        self.plot("loss", loss, train=False)
        return loss

    def configure_optimizers(self) -> optax.GradientTransformation:
        return optax.sgd(self.lr)

    def apply_init(self, dummy_input: tuple[Any, ...], key: Any) -> Any:
        """The model's variables, initialised from ``key`` on ``dummy_input``."""
        return self.init(key, *dummy_input)

    # --- the tab's primitives, called by the core loop through d2lrnn.book.v1.Trainer ----------
    @nn.nowrap
    def parameters(self) -> list[Any]:
        """None: a Flax model holds no weights; they are in the trainer's :class:`TrainState`."""
        return []

    @nn.nowrap
    def _scalar(self, value: Any) -> float:
        return float(np.asarray(value))

    @nn.nowrap
    def _book_update(self, trainer: Trainer, batch: Any) -> jax.Array:
        """One training step as the book does it: ``training_step`` (loss and gradients), then the
        trainer's compiled update (the ``clip_gradients`` hook, the optimizer, the next dropout
        key)."""
        model, state = self._book_mode(trainer, training=True)
        value, grads = model.training_step(state.params, batch, state)
        loss, aux = value if isinstance(value, tuple) else (value, None)
        batch_stats = aux.get("batch_stats") if isinstance(aux, dict) else None
        trainer.state = trainer._update(trainer.state, grads, batch_stats)
        return loss

    @nn.nowrap
    def _book_validate(self, trainer: Trainer, batch: Any) -> Any:
        model, state = self._book_mode(trainer, training=False)
        value = model.validation_step(state.params, batch, state)
        return value[0] if isinstance(value, tuple) else value

    @nn.nowrap
    def _book_mode(self, trainer: Trainer, training: bool) -> tuple[Module, TrainState]:
        """The model (and train state) to run a step with, its ``training`` flag set as the book's
        trainer sets it.

        A model whose ``training`` is a field (``RNNLM``'s) is not changed in place: JAX (0.10)
        keeps
        compiled functions by the identity of their static arguments, so the compiled ``loss`` would
        not see the change. The other mode is a clone, made once, that shares the board and the
        trainer.
        """
        field_ = self.__dataclass_fields__.get("training")
        if field_ is None or not field_.init:
            object.__setattr__(self, "training", training)
            return self, trainer.state
        if self.training == training:
            return self, trainer.state
        twins = self.__dict__.setdefault("_book_twins", {})
        if training not in twins:
            twins[training] = self.clone(training=training)
            object.__setattr__(twins[training], "board", self.board)
        twin = twins[training]
        object.__setattr__(twin, "trainer", trainer)
        return twin, trainer.state.replace(apply_fn=twin.apply)


class Classifier(Module):
    """A model whose loss is the cross-entropy of its logits; validation also plots accuracy.

    ``loss(params, X, Y, state, averaged=True)`` returns ``(loss, updated batch_stats)`` and is
    compiled with ``jax.jit`` (the model is a static argument), as in the book.
    """

    def training_step(self, params: Any, batch: Any, state: TrainState) -> tuple[Any, Any]:
        value, grads = jax.value_and_grad(self.loss, has_aux=True)(
            params, batch[:-1], batch[-1], state
        )
        self.plot("loss", value[0], train=True)
        return value, grads

    def validation_step(self, params: Any, batch: Any, state: TrainState) -> Any:
        loss, _ = self.loss(params, batch[:-1], batch[-1], state)
        self.plot("loss", loss, train=False)
        self.plot("acc", self.accuracy(params, batch[:-1], batch[-1], state), train=False)
        return loss

    @partial(jax.jit, static_argnums=(0, 5))
    def accuracy(
        self, params: Any, X: Any, Y: Any, state: TrainState, averaged: bool = True
    ) -> jax.Array:
        Y_hat = state.apply_fn(_variables(params, state), *X)
        predicted = Y_hat.reshape(-1, Y_hat.shape[-1]).argmax(axis=1).astype(Y.dtype)
        correct = (predicted == Y.reshape(-1)).astype(jnp.float32)
        return correct.mean() if averaged else correct

    @partial(jax.jit, static_argnums=(0, 5))
    def loss(
        self, params: Any, X: Any, Y: Any, state: TrainState, averaged: bool = True
    ) -> tuple[jax.Array, Any]:
        Y_hat, updates = state.apply_fn(_variables(params, state), *X, mutable=["batch_stats"],
                                        rngs={"dropout": state.dropout_rng})
        losses = optax.softmax_cross_entropy_with_integer_labels(
            Y_hat.reshape(-1, Y_hat.shape[-1]), Y.reshape(-1)
        )
        return (losses.mean() if averaged else losses), updates


def _variables(params: Any, state: TrainState) -> dict[str, Any]:
    """The variables to apply a model with: its parameters, and its batch statistics when it has
    any."""
    return (
        {"params": params, "batch_stats": state.batch_stats}
        if state.batch_stats
        else {"params": params}
    )


class RNNScratch(nn.Module):
    """d2l 1.0.3's recurrent layer alone (a Flax module): ``__call__(inputs, state=None)`` takes
    time-major ``(num_steps, batch, num_inputs)`` floats and returns the list of hidden states and
    the last one."""

    num_inputs: int
    num_hiddens: int
    sigma: float = 0.01

    def __new__(cls, *args: Any, **kwargs: Any) -> RNNScratch:
        if args or kwargs:  # copies and clones pass through here with no arguments
            check_call(cls, args, kwargs, draft_names=())
        return super().__new__(cls)

    def setup(self) -> None:
        normal = nn.initializers.normal(self.sigma)
        self.W_xh = self.param("W_xh", normal, (self.num_inputs, self.num_hiddens))
        self.W_hh = self.param("W_hh", normal, (self.num_hiddens, self.num_hiddens))
        self.b_h = self.param("b_h", nn.initializers.zeros, (self.num_hiddens,))

    def __call__(self, inputs: jax.Array, state: Any = None) -> tuple[list[jax.Array], jax.Array]:
        if isinstance(state, (tuple, list)):
            (state,) = state
        if state is None:
            state = jnp.zeros((inputs.shape[1], self.num_hiddens), inputs.dtype)
        outputs = []
        for X in inputs:
            state = jnp.tanh(X @ self.W_xh + state @ self.W_hh + self.b_h)
            outputs.append(state)
        return outputs, state


class RNNLMScratch(Classifier):
    """A language model around a recurrent layer ``rnn``: one-hot inputs, a linear output,
    perplexity plotted."""

    rnn: nn.Module
    vocab_size: int
    lr: float = 0.01

    def setup(self) -> None:
        self.W_hq = self.param(
            "W_hq", nn.initializers.normal(self.rnn.sigma), (self.rnn.num_hiddens, self.vocab_size)
        )
        self.b_q = self.param("b_q", nn.initializers.zeros, (self.vocab_size,))

    def training_step(self, params: Any, batch: Any, state: TrainState) -> tuple[Any, Any]:
        value, grads = jax.value_and_grad(self.loss, has_aux=True)(
            params, batch[:-1], batch[-1], state
        )
        self.plot("ppl", jnp.exp(value[0]), train=True)
        return value, grads

    def validation_step(self, params: Any, batch: Any, state: TrainState) -> Any:
        loss, _ = self.loss(params, batch[:-1], batch[-1], state)
        self.plot("ppl", jnp.exp(loss), train=False)
        return loss

    def one_hot(self, X: jax.Array) -> jax.Array:
        return jax.nn.one_hot(X.T, self.vocab_size)

    def output_layer(self, rnn_outputs: Any) -> jax.Array:
        return jnp.stack([H @ self.W_hq + self.b_q for H in rnn_outputs], 1)

    def forward(self, X: jax.Array, state: Any = None) -> jax.Array:
        rnn_outputs, _ = self.rnn(self.one_hot(X), state)
        return self.output_layer(rnn_outputs)

    @nn.nowrap
    def predict(self, prefix: str, num_preds: int, vocab: Vocab, params: Any) -> str:
        """Warm up on ``prefix``, then greedily append ``num_preds`` tokens (``params``: the trained
        ones,
        e.g. ``trainer.state.params``)."""
        if not isinstance(params, dict) or "rnn" not in params:
            raise BookAPIError(
                "On the JAX tab, predict(prefix, num_preds, vocab, params) takes the model's "
                "parameters, "
                f"e.g. trainer.state.params, not {type(params).__name__}."
            )
        state, outputs = None, [vocab[prefix[0]]]
        for i in range(len(prefix) + num_preds - 1):
            rnn_outputs, state = self.rnn.apply(
                {"params": params["rnn"]}, self.one_hot(jnp.array([[outputs[-1]]])), state
            )
            if i < len(prefix) - 1:
                outputs.append(vocab[prefix[i + 1]])
            else:
                Y = self.apply({"params": params}, rnn_outputs, method=self.output_layer)
                outputs.append(int(Y.argmax(axis=2).reshape(())))
        return "".join(vocab.idx_to_token[i] for i in outputs)


class RNN(nn.Module):
    """d2l 1.0.3's concise recurrent layer on the JAX tab, ``RNN(num_hiddens)``: Flax's
    ``SimpleCell``
    (tanh) over the time steps of time-major inputs; returns the outputs ``(num_steps, batch,
    num_hiddens)``
    and the last state. ``training`` is accepted (``RNNLM`` passes it) and changes nothing: no
    dropout."""

    num_hiddens: int

    def __new__(cls, *args: Any, **kwargs: Any) -> RNN:
        if args or kwargs:  # copies and clones pass through here with no arguments
            check_call(cls, args, kwargs, draft_names=())
        return super().__new__(cls)

    @nn.compact
    def __call__(
        self, inputs: jax.Array, H: Any = None, training: bool = False
    ) -> tuple[jax.Array, jax.Array]:
        cell = nn.SimpleCell(features=self.num_hiddens)
        if isinstance(H, (tuple, list)):
            (H,) = H
        if H is None:
            H = jnp.zeros((inputs.shape[1], self.num_hiddens), inputs.dtype)
        outputs = []
        for X in inputs:  # one cell, called once per step: its weights are shared
            H, Y = cell(H, X)
            outputs.append(Y)
        return jnp.stack(outputs), H


class GRU(RNN):
    """d2l 1.0.3's multilayer GRU on the JAX tab, ``GRU(num_hiddens, num_layers, dropout=0)``.

    A thin layer over the core's cell registry: each layer's weights have the canonical GRU names
    and shapes (:meth:`d2lrnn.cells.Cell.layer_shapes`; ``W_x``, ``W_h``, ``b_x``, ``b_h`` with the
    gates ``r, z, n``) and each time step is the registry's GRU step, the equations every adapter's
    scratch GRU runs (the reset gate multiplies the recurrent bias too; Flax's ``GRUCell``, which
    the class used before, is the same without the recurrent biases of ``r`` and ``z``).
    The layers are unrolled in Python as in :class:`RNN`; dropout between layers while
    ``training``. Returns the last layer's outputs and the stacked last states
    ``(num_layers, batch, num_hiddens)``. The weights start as Flax's ``GRUCell`` starts them: the
    input matrices LeCun-normal, the recurrent ones orthogonal, the biases zero.
    """

    num_hiddens: int
    num_layers: int = 1
    dropout: float = 0

    @nn.compact
    def __call__(
        self, X: jax.Array, state: Any = None, training: bool = False
    ) -> tuple[jax.Array, jax.Array]:
        cell = get_cell("gru")
        last_states = []
        for layer in range(self.num_layers):
            weights = {name: self.param(f"{name}.{layer}", _GRU_INIT[name], shape)
                       for name, shape in cell.layer_shapes(X.shape[-1], self.num_hiddens).items()}
            H = (
                state[layer]
                if state is not None
                else jnp.zeros((X.shape[1], self.num_hiddens), X.dtype)
            )
            xp = jnp.matmul(X, weights["W_x"]) + weights["b_x"]  # every step's input part at once
            outputs = []
            for xp_t in xp:
                H = cell.step(CELL_OPS, xp_t, H, weights["W_h"], weights["b_h"])
                outputs.append(H)
            X = jnp.stack(outputs)
            last_states.append(H)
            if layer < self.num_layers - 1:
                X = nn.Dropout(self.dropout, deterministic=not training)(X)
        return X, jnp.stack(last_states)


#: the array operations of the registry's step equations, in JAX
CELL_OPS = Ops(jnp.matmul, jax.nn.sigmoid, jnp.tanh, lambda a, n: jnp.split(a, n, axis=-1))


def _orthogonal_per_gate(
    key: jax.Array, shape: tuple[int, ...], dtype: Any = jnp.float32
) -> jax.Array:
    """One orthogonal ``(H, H)`` block per gate, side by side (Flax's ``GRUCell`` has one per gate).
    """
    rows, width = shape
    keys = jax.random.split(key, width // rows)
    return jnp.concatenate(
        [nn.initializers.orthogonal()(k, (rows, rows), dtype) for k in keys], axis=1
    )


_GRU_INIT = {"W_x": nn.initializers.lecun_normal(), "W_h": _orthogonal_per_gate,
             "b_x": nn.initializers.zeros_init(), "b_h": nn.initializers.zeros_init()}


class RNNLM(RNNLMScratch):
    """A language model around a framework recurrent layer: a dense output layer; passes
    ``training`` on."""

    training: bool = True

    def setup(self) -> None:
        self.linear = nn.Dense(self.vocab_size)

    def output_layer(self, hiddens: jax.Array) -> jax.Array:
        return jnp.swapaxes(self.linear(hiddens), 0, 1)

    def forward(self, X: jax.Array, state: Any = None) -> jax.Array:
        rnn_outputs, _ = self.rnn(self.one_hot(X), state, self.training)
        return self.output_layer(rnn_outputs)


class Trainer(_Trainer):
    """d2l 1.0.3's JAX ``Trainer``: ``fit(model, data, key=None)`` initialises the model's
    parameters
    from the first training batch into :attr:`state` (a :class:`TrainState` with
    ``configure_optimizers``'
    optimizer), then runs the core loop (see :class:`d2lrnn.book.v1.Trainer`)."""

    math = BACKEND.math

    def __init__(
        self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0, **kwargs: Any
    ) -> None:
        super().__init__(max_epochs, num_gpus, gradient_clip_val, **kwargs)
        self.gpus = [gpu(i) for i in range(min(num_gpus, BACKEND.num_gpus()))]
        self.state: TrainState | None = None
        self._key: Any = None

    def fit(self, model: Any, data: Any, key: Any = None) -> None:  # type: ignore[override]
        """Train ``model`` on ``data``; ``key`` (a PRNG key, else a fresh one) initialises the
        parameters."""
        self.state, self._key = None, key
        super().fit(model, data)

    def clip_gradients(self, grad_clip_val: float, grads: Any) -> Any:  # type: ignore[override]
        """The gradient pytree rescaled to global norm at most ``grad_clip_val``
        (:func:`d2lrnn.clip_gradients`)."""
        leaves, treedef = jax.tree_util.tree_flatten(grads)
        return jax.tree_util.tree_unflatten(treedef, super().clip_gradients(grad_clip_val, leaves))

    def init_state(self, model: Any, key: Any = None) -> TrainState:
        """Initialise ``model`` on the first training batch; its parameters and optimizer state."""
        params_key, dropout_key = jax.random.split(key if key is not None else get_key())
        dummy_input = tuple(next(iter(self.train_dataloader)))[:-1]
        variables = model.apply_init(
            dummy_input, key={"params": params_key, "dropout": dropout_key}
        )
        variables = jax.device_put(variables, self.device)
        return TrainState.create(
            apply_fn=model.apply,
            params=variables["params"],
            batch_stats=variables.get("batch_stats", {}),
            dropout_rng=dropout_key,
            tx=self.optim,
        )

    def start_book_model(self, model: Any) -> None:
        """Initialise the parameters into :attr:`state` (once per ``fit``) and compile the update.
        """
        if self.state is None:
            self.state = self.init_state(model, self._key)
        self._update = _compiled_update(self)


def _compiled_update(trainer: Trainer) -> Any:
    """``update(state, grads, batch_stats) -> state``: the trainer's ``clip_gradients`` hook (when
    ``gradient_clip_val > 0``), the optimizer step and the next dropout key, in one ``jax.jit``.

    A hook that cannot be traced (one that branches on a gradient's value) runs eagerly instead.
    """

    def update(state: TrainState, grads: Any, batch_stats: Any) -> TrainState:
        if trainer.gradient_clip_val > 0:
            grads = trainer.clip_gradients(trainer.gradient_clip_val, grads)
        state = state.apply_gradients(grads=grads)
        state = state.replace(dropout_rng=jax.random.split(state.dropout_rng)[0])
        return state.replace(batch_stats=batch_stats) if batch_stats is not None else state

    compiled = jax.jit(update)
    eager = False

    def run(state: TrainState, grads: Any, batch_stats: Any) -> TrainState:
        nonlocal eager
        if not eager:
            try:
                return compiled(state, grads, batch_stats)
            except jax.errors.ConcretizationTypeError:
                eager = True
        return update(state, grads, batch_stats)

    return run


__all__ = [
    *SHARED_NAMES,
    *TAB_NAMES,
    "GRU",
    "TrainState",
    "check_len",
    "check_shape",
    "get_key",
    "get_seed",
    "try_all_gpus",
    *tensor_aliases(jax),
]

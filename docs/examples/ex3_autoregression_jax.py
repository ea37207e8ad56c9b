# --8<-- [start:data]
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from d2lrnn.exercises.sine import (
    k_step_errors,
    k_step_predictions,
    minibatches,
    noisy_sine,
    windows,
)

TAU, NUM_TRAIN = 4, 600
EPOCHS = 10
time, x = noisy_sine(1000, noise=0.2, seed=0)
features, labels = windows(x, TAU)                  # (996, 4) windows, (996,) next values
train = features[:NUM_TRAIN], labels[:NUM_TRAIN]    # the rest of the series is for testing
# --8<-- [end:data]


# --8<-- [start:models]
def mlp(seed=0):
    """The book's baseline: the tau past values -> 10 ReLU units -> the next value."""
    rngs = nnx.Rngs(seed)
    return nnx.Sequential(nnx.Linear(TAU, 10, rngs=rngs), nnx.relu, nnx.Linear(10, 1, rngs=rngs))


class RNNRegressor(nnx.Module):
    """Reads the window one value at a time; predicts the next value from the last hidden state."""

    def __init__(self, num_hiddens=16, seed=0):
        rngs = nnx.Rngs(seed)
        self.num_hiddens = num_hiddens
        self.rnn = nnx.RNN(nnx.SimpleCell(1, num_hiddens, rngs=rngs))  # batch-major by default
        self.linear = nnx.Linear(num_hiddens, 1, rngs=rngs)

    def __call__(self, X):                         # X: (batch, tau) real numbers, not tokens
        state = jnp.zeros((X.shape[0], self.num_hiddens))
        outputs = self.rnn(X[..., None], initial_carry=state)  # (batch, tau, hidden)
        return self.linear(outputs[:, -1])                      # (batch, 1)
# --8<-- [end:models]


# --8<-- [start:train]
def fit(net, epochs, lr=0.01, batch_size=16):
    """Adam on the squared error; returns a NumPy predictor for the sine helpers."""
    # JAX trains pure functions of the weights
    graphdef, params, rest = nnx.split(net, nnx.Param, ...)
    optimizer = optax.adam(lr)
    opt_state = optimizer.init(params)

    def loss(params, X, y):
        return jnp.mean((nnx.merge(graphdef, params, rest)(X).squeeze(-1) - y) ** 2)

    @jax.jit
    def step(params, opt_state, X, y):
        updates, opt_state = optimizer.update(jax.grad(loss)(params, X, y), opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for X, y in minibatches(*train, batch_size, rng):
            params, opt_state = step(params, opt_state, X, y)
    trained = nnx.merge(graphdef, params, rest)

    def predict(windows):
        return np.asarray(trained(jnp.asarray(windows))).squeeze(-1)
    return predict


predictors = {"MLP": fit(mlp(), EPOCHS), "RNN": fit(RNNRegressor(), EPOCHS)}
# --8<-- [end:train]

# --8<-- [start:evaluate]
STEPS = (1, 4, 16, 64)
errors = {}
for name, predict in predictors.items():  # scored on the test part only
    errors[name] = k_step_errors(predict, x, TAU, STEPS, start=NUM_TRAIN + TAU)
    print(f"{name}: test MSE " + ", ".join(f"{k}-step {e:.3f}" for k, e in errors[name].items()))
# --8<-- [end:evaluate]

# %%
# the 1- to 64-step predictions along the whole series (the figure on the exercise page)
predictions = {
    name: k_step_predictions(predict, x, TAU, max(STEPS)) for name, predict in predictors.items()
}

# --8<-- [start:data]
import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn, rnn

from d2lrnn.exercises.sine import k_step_errors, minibatches, noisy_sine, windows

npx.set_np()
TAU, NUM_TRAIN = 4, 600
EPOCHS = 10
time, x = noisy_sine(1000, noise=0.2, seed=0)
features, labels = windows(x, TAU)                  # (996, 4) windows, (996,) next values
train = features[:NUM_TRAIN], labels[:NUM_TRAIN]    # the rest of the series is for testing
# --8<-- [end:data]


# --8<-- [start:models]
def mlp():
    """The book's baseline: the tau past values -> 10 ReLU units -> the next value."""
    net = nn.Sequential()
    net.add(nn.Dense(10, activation="relu"), nn.Dense(1))
    return net


class RNNRegressor(nn.Block):
    """Reads the window one value at a time; predicts the next value from the last hidden state."""

    def __init__(self, num_hiddens=16):
        super().__init__()
        self.rnn = rnn.RNN(num_hiddens, activation="tanh", layout="NTC", input_size=1)
        self.linear = nn.Dense(1)

    def forward(self, X):                          # X: (batch, tau) real numbers, not tokens
        outputs = self.rnn(X[:, :, None])          # (batch, tau, hidden)
        return self.linear(outputs[:, -1])         # (batch, 1)
# --8<-- [end:models]


# --8<-- [start:train]
def fit(net, epochs, lr=0.01, batch_size=16):
    """Adam on the squared error; returns a NumPy predictor for the sine helpers."""
    net.initialize(mx.init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": lr})
    rng = onp.random.default_rng(0)
    for _ in range(epochs):
        for X, y in minibatches(*train, batch_size, rng):
            with autograd.record():
                loss = ((net(np.array(X)).reshape(-1) - np.array(y)) ** 2).mean()
            loss.backward()
            trainer.step(1)  # the loss is already a mean

    def predict(windows):
        return net(np.array(windows)).reshape(-1).asnumpy()
    return predict


mx.random.seed(0)
predictors = {"MLP": fit(mlp(), EPOCHS), "RNN": fit(RNNRegressor(), EPOCHS)}
# --8<-- [end:train]

# --8<-- [start:evaluate]
STEPS = (1, 4, 16, 64)
errors = {}
for name, predict in predictors.items():  # scored on the test part only
    errors[name] = k_step_errors(predict, x, TAU, STEPS, start=NUM_TRAIN + TAU)
    print(f"{name}: test MSE " + ", ".join(f"{k}-step {e:.3f}" for k, e in errors[name].items()))
# --8<-- [end:evaluate]

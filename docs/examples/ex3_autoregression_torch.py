# --8<-- [start:data]
import numpy as np
import torch
from torch import nn

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
def mlp():
    """The book's baseline: the tau past values -> 10 ReLU units -> the next value."""
    return nn.Sequential(nn.Linear(TAU, 10), nn.ReLU(), nn.Linear(10, 1))


class RNNRegressor(nn.Module):
    """Reads the window one value at a time; predicts the next value from the last hidden state."""

    def __init__(self, num_hiddens=16):
        super().__init__()
        self.rnn = nn.RNN(1, num_hiddens, batch_first=True)
        self.linear = nn.Linear(num_hiddens, 1)

    def forward(self, X):                          # X: (batch, tau) real numbers, not tokens
        outputs, _ = self.rnn(X.unsqueeze(-1))     # (batch, tau, hidden)
        return self.linear(outputs[:, -1])         # (batch, 1)
# --8<-- [end:models]


# --8<-- [start:train]
def fit(net, epochs, lr=0.01, batch_size=16):
    """Adam on the squared error; returns a NumPy predictor for the sine helpers."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for X, y in minibatches(*train, batch_size, rng):
            loss = nn.functional.mse_loss(net(torch.from_numpy(X)).squeeze(-1), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def predict(windows):
        with torch.no_grad():
            return net(torch.from_numpy(windows)).squeeze(-1).numpy()
    return predict


torch.manual_seed(0)
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

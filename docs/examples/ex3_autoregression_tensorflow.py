# --8<-- [start:data]
import numpy as np
import tensorflow as tf

from d2lrnn.exercises.sine import k_step_errors, minibatches, noisy_sine, windows

TAU, NUM_TRAIN = 4, 600
EPOCHS = 10
time, x = noisy_sine(1000, noise=0.2, seed=0)
features, labels = windows(x, TAU)                  # (996, 4) windows, (996,) next values
train = features[:NUM_TRAIN], labels[:NUM_TRAIN]    # the rest of the series is for testing
# --8<-- [end:data]


# --8<-- [start:models]
def mlp():
    """The book's baseline: the tau past values -> 10 ReLU units -> the next value."""
    return tf.keras.Sequential(
        [tf.keras.layers.Dense(10, activation="relu"), tf.keras.layers.Dense(1)]
    )


class RNNRegressor(tf.keras.Model):
    """Reads the window one value at a time; predicts the next value from the last hidden state."""

    def __init__(self, num_hiddens=16):
        super().__init__()
        self.rnn = tf.keras.layers.SimpleRNN(num_hiddens)   # returns the last hidden state only
        self.linear = tf.keras.layers.Dense(1)

    def call(self, X):                                   # X: (batch, tau) real numbers, not tokens
        # (batch, tau, 1) -> (batch, hidden) -> (batch, 1)
        return self.linear(self.rnn(X[:, :, None]))
# --8<-- [end:models]


# --8<-- [start:train]
def fit(net, epochs, lr=0.01, batch_size=16):
    """Adam on the squared error; returns a NumPy predictor for the sine helpers."""
    optimizer = tf.keras.optimizers.Adam(lr)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for X, y in minibatches(*train, batch_size, rng):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((tf.reshape(net(X), [-1]) - y) ** 2)
            grads = tape.gradient(loss, net.trainable_variables)
            optimizer.apply_gradients(zip(grads, net.trainable_variables))

    def predict(windows):
        return net(windows).numpy().reshape(-1)
    return predict


tf.keras.utils.set_random_seed(0)
predictors = {"MLP": fit(mlp(), EPOCHS), "RNN": fit(RNNRegressor(), EPOCHS)}
# --8<-- [end:train]

# --8<-- [start:evaluate]
STEPS = (1, 4, 16, 64)
errors = {}
for name, predict in predictors.items():  # scored on the test part only
    errors[name] = k_step_errors(predict, x, TAU, STEPS, start=NUM_TRAIN + TAU)
    print(f"{name}: test MSE " + ", ".join(f"{k}-step {e:.3f}" for k, e in errors[name].items()))
# --8<-- [end:evaluate]

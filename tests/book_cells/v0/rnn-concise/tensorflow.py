# ruff: noqa  (the book's code as readers type it)
# judge-after: 6 epochs: with Keras's initialisers (orthogonal recurrent weights) and the book's learning rate of 1, this section's half-epoch perplexities jump by up to 20 on the 8 batches of 0.x's 10,000-token corpus, and after 2 epochs the last was above the first in about 1 run in 6 (4 of 24 runs, half of them the book's loop written out in plain TensorFlow; CI failed on it at stop 28); after 6 epochs it fell from 25-40 to 11-13 in 12 of 12
# %%
from d2l import tensorflow as d2l
import tensorflow as tf
batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)

# %%
num_hiddens = 256
rnn_cell = tf.keras.layers.SimpleRNNCell(num_hiddens,
    kernel_initializer='glorot_uniform')
rnn_layer = tf.keras.layers.RNN(rnn_cell, time_major=True,
    return_sequences=True, return_state=True)

# %%
state = rnn_cell.get_initial_state(batch_size=batch_size, dtype=tf.float32)
state.shape

# %%
X = tf.random.uniform((num_steps, batch_size, len(vocab)))
Y, state_new = rnn_layer(X, state)
Y.shape, len(state_new), state_new[0].shape

# %%
#@save
class RNNModel(tf.keras.layers.Layer):
    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.dense = tf.keras.layers.Dense(vocab_size)

    def call(self, inputs, state):
        X = tf.one_hot(tf.transpose(inputs), self.vocab_size)
        # Later RNN like `tf.keras.layers.LSTMCell` return more than two values
        Y, *state = self.rnn(X, state)
        output = self.dense(tf.reshape(Y, (-1, Y.shape[-1])))
        return output, state

    def begin_state(self, *args, **kwargs):
        return self.rnn.cell.get_initial_state(*args, **kwargs)

# %%
device_name = d2l.try_gpu()._device_name
strategy = tf.distribute.OneDeviceStrategy(device_name)
with strategy.scope():
    net = RNNModel(rnn_layer, vocab_size=len(vocab))

d2l.predict_ch8('time traveller', 10, net, vocab)

# %%
num_epochs, lr = 500, 1
d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, strategy)

# expect: ^TensorShape\(\[32, 256\]\)$
# expect: ^\(TensorShape\(\[35, 32, 256\]\), 32, TensorShape\(\[256\]\)\)$
# expect: ^'time traveller.{10}'$
# expect: ^perplexity \d+\.\d, \d+\.\d tokens/sec on .*CPU
# expect: ^time traveller.{50}$

# %% probe
for run in d2l.recorded_perplexities():
    print('PPL', *(f'{p:.3f}' for p in run))


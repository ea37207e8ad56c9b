# ruff: noqa  (the book's code as readers type it)
# known-issue: epochs<2: with the book's Keras initialisation and learning rate, one epoch (8 batches of the 10,000 tokens) may end above where it began; over 2 or more epochs the perplexity falls
# %%
import tensorflow as tf
from d2l import tensorflow as d2l

batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)

# %%
vocab_size = len(vocab)
num_hiddens = 256
num_layers = 2
device_name = d2l.try_gpu()._device_name
strategy = tf.distribute.OneDeviceStrategy(device_name)
rnn_cells = [tf.keras.layers.LSTMCell(num_hiddens) for _ in range(num_layers)]
stacked_lstm = tf.keras.layers.StackedRNNCells(rnn_cells)
lstm_layer = tf.keras.layers.RNN(stacked_lstm, time_major=True, return_sequences=True, return_state=True)
with strategy.scope():
    model = d2l.RNNModel(lstm_layer, vocab_size=len(vocab))

# %%
num_epochs, lr = 500, 2
d2l.train_ch8(model, train_iter, vocab, lr, num_epochs, strategy)
# expect: ^perplexity \d+\.\d, \d+\.\d tokens/sec on .*CPU
# expect: ^time traveller.{50}$

# %% probe
for run in d2l.recorded_perplexities():
    print('PPL', *(f'{p:.3f}' for p in run))


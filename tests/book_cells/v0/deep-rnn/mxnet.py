# ruff: noqa  (the book's code as readers type it)
# %%
from d2l import mxnet as d2l
from mxnet import npx
from mxnet.gluon import rnn
npx.set_np()

batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)

# %%
vocab_size = len(vocab)
num_hiddens = 256
num_layers = 2
device = d2l.try_gpu()
lstm_layer = rnn.LSTM(num_hiddens, num_layers)
model = d2l.RNNModel(lstm_layer, len(vocab))

# %%
num_epochs, lr = 500, 2
d2l.train_ch8(model, train_iter, vocab, lr, num_epochs, device)
# expect: ^perplexity \d+\.\d, \d+\.\d tokens/sec on cpu
# expect: ^time traveller.{50}$

# %% probe
for run in d2l.recorded_perplexities():
    print('PPL', *(f'{p:.3f}' for p in run))


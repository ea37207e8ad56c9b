# ruff: noqa  (the book's code as readers type it)
# %%
import torch
from torch import nn
from torch.nn import functional as F
from d2l import torch as d2l

batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)

# %%
num_hiddens = 256
rnn_layer = nn.RNN(len(vocab), num_hiddens)
state = torch.zeros((1, batch_size, num_hiddens))
state.shape
# expect: ^torch\.Size\(\[1, 32, 256\]\)$

# %%
X = torch.rand(size=(num_steps, batch_size, len(vocab)))
Y, state_new = rnn_layer(X, state)
Y.shape, state_new.shape
# expect: ^\(torch\.Size\(\[35, 32, 256\]\), torch\.Size\(\[1, 32, 256\]\)\)$

# %%
device = d2l.try_gpu()
net = d2l.RNNModel(rnn_layer, vocab_size=len(vocab))
net = net.to(device)
d2l.predict_ch8('time traveller', 10, net, vocab, device)

# %%
num_epochs, lr = 500, 1
d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, device)
# expect: ^perplexity \d+\.\d, \d+\.\d tokens/sec on cpu

# %% probe
for run in d2l.recorded_perplexities():
    print('PPL', *(f'{p:.3f}' for p in run))


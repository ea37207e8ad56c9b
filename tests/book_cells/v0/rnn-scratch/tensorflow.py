# ruff: noqa  (the book's code as readers type it)
# %%
import math
import tensorflow as tf
from d2l import tensorflow as d2l

batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)

# %%
X = d2l.reshape(d2l.arange(10), (2, 5))
tf.one_hot(tf.transpose(X), 28).shape
# expect: ^TensorShape\(\[5, 2, 28\]\)$

# %%
def get_params(vocab_size, num_hiddens):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return d2l.normal(shape=shape, stddev=0.01, mean=0, dtype=tf.float32)

    W_xh = tf.Variable(normal((num_inputs, num_hiddens)), dtype=tf.float32)
    W_hh = tf.Variable(normal((num_hiddens, num_hiddens)), dtype=tf.float32)
    b_h = tf.Variable(d2l.zeros(num_hiddens), dtype=tf.float32)
    W_hq = tf.Variable(normal((num_hiddens, num_outputs)), dtype=tf.float32)
    b_q = tf.Variable(d2l.zeros(num_outputs), dtype=tf.float32)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    return params

# %%
def init_rnn_state(batch_size, num_hiddens):
    return (d2l.zeros((batch_size, num_hiddens)), )

# %%
def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        X = tf.reshape(X, [-1, W_xh.shape[0]])
        H = tf.tanh(tf.matmul(X, W_xh) + tf.matmul(H, W_hh) + b_h)
        Y = tf.matmul(H, W_hq) + b_q
        outputs.append(Y)
    return d2l.concat(outputs, axis=0), (H,)

# %%
device_name = d2l.try_gpu()._device_name
strategy = tf.distribute.OneDeviceStrategy(device_name)
num_hiddens = 512
with strategy.scope():
    net = d2l.RNNModelScratch(len(vocab), num_hiddens, init_rnn_state, rnn, get_params)
state = net.begin_state(X.shape[0])
Y, new_state = net(X, state)
Y.shape, len(new_state), new_state[0].shape
# expect: ^\(TensorShape\(\[10, 28\]\), 1, TensorShape\(\[2, 512\]\)\)$

# %%
d2l.predict_ch8('time traveller ', 10, net, vocab)
# expect: ^'time traveller .{10}'$

# %%
num_epochs, lr = 500, 1
with strategy.scope():
    net = d2l.RNNModelScratch(len(vocab), num_hiddens, init_rnn_state, rnn, get_params)
d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, strategy)
# expect: ^perplexity \d+\.\d, \d+\.\d tokens/sec on .*CPU

# %% probe
X, Y = next(iter(train_iter))
print('PROBE', type(X).__name__, tuple(X.shape), bool(tf.reduce_all(X[:, 1:] == Y[:, :-1])))
for run in d2l.recorded_perplexities():
    print('PPL', *(f'{p:.3f}' for p in run))
# expect: ^PROBE EagerTensor \(32, 35\) True$

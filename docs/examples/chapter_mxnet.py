# %% [markdown]
# # Concise RNNs with MXNet
#
# Generated from `docs/examples/chapter_mxnet.py`; the chapter "Concise RNNs in four frameworks"
# explains every step.

# %%
# --8<-- [start:setup]
import mxnet as mx
from mxnet import np, npx
from mxnet.gluon import nn, rnn

import d2lrnn

npx.set_np()
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens; training tokens:", len(data.train_corpus))
# --8<-- [end:setup]

# %%
# --8<-- [start:layer]
num_hiddens, batch_size, num_steps = 256, 32, 35
rnn_layer = rnn.RNN(num_hiddens, activation="tanh")    # Gluon's default activation is relu
rnn_layer.initialize()
# a list holding one (layers, batch, hidden) array
state = rnn_layer.begin_state(batch_size=batch_size)
X = np.random.uniform(size=(num_steps, batch_size, vocab_size))  # (time, batch, input features)
Y, new_state = rnn_layer(X, state)
print("Y:", tuple(Y.shape), "state:", tuple(new_state[0].shape))
# --8<-- [end:layer]

# %%
# --8<-- [start:model]
class RNN(d2lrnn.get_backend("mxnet").RNNScratch):
    """The framework's RNN layer plus a dense output layer."""

    def init_params(self):
        self.rnn = rnn.RNN(self.num_hiddens, activation="tanh")
        self.linear = nn.Dense(self.num_outputs, flatten=False)
        self.initialize()

    def forward(self, X, state=None):
        if state is None:
            state = self.init_state(X)
        embs = npx.one_hot(X.T, self.num_inputs)   # (time, batch, vocab)
        Y, state = self.rnn(embs, state)           # (time, batch, hidden)
        return self.linear(Y), state               # (time, batch, vocab)

    def init_state(self, X):
        return self.rnn.begin_state(batch_size=X.shape[0], ctx=X.ctx)
# --8<-- [end:model]

# %%
# --8<-- [start:untrained]
mx.random.seed(0)
model = RNN(num_inputs=vocab_size, num_outputs=vocab_size, num_hiddens=32, lr=1)
print(model.predict("time traveller", 10, data.vocab))
# --8<-- [end:untrained]

# %%
# --8<-- [start:train]
EPOCHS = 500
trainer = d2lrnn.Trainer(max_epochs=EPOCHS, gradient_clip_val=1, progress=False)
trainer.fit(model, data)
summary = trainer.summary()
print(f"perplexity {summary['perplexity']:.1f} (validation {summary['val_perplexity']:.1f}), "
      f"{summary['tokens_per_sec']:,.0f} tokens/sec on {summary['device']}")
# --8<-- [end:train]

# %%
# --8<-- [start:predict]
for prefix in ("time traveller", "traveller"):
    print(model.predict(prefix, 50, data.vocab))
# --8<-- [end:predict]

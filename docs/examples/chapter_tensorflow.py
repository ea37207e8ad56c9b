# %% [markdown]
# # Concise RNNs with TensorFlow
#
# Generated from `docs/examples/chapter_tensorflow.py`; the chapter "Concise RNNs in four
# frameworks" explains every step.

# %%
# --8<-- [start:setup]
import tensorflow as tf

import d2lrnn

data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens; training tokens:", len(data.train_corpus))
# --8<-- [end:setup]

# %%
# --8<-- [start:layer]
num_hiddens, batch_size, num_steps = 256, 32, 35
rnn_layer = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(num_hiddens),
                                return_sequences=True, return_state=True)  # batch-major input
# (batch, hidden): one layer, no layer axis
state = tf.zeros((batch_size, num_hiddens))
X = tf.random.uniform((batch_size, num_steps, vocab_size))   # (batch, time, input features)
Y, new_state = rnn_layer(X, initial_state=[state])
Y = tf.transpose(Y, (1, 0, 2))                               # time-major, like the other frameworks
print("Y:", tuple(Y.shape), "state:", tuple(new_state[None].shape))
# --8<-- [end:layer]

# %%
# --8<-- [start:model]
class RNN(d2lrnn.get_backend("tensorflow").RNNScratch):
    """The framework's RNN layer plus a dense output layer."""

    def init_params(self):
        self.rnn = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(self.num_hiddens),
                                       return_sequences=True, return_state=True)
        self.linear = tf.keras.layers.Dense(self.num_outputs)

    def forward(self, X, state=None):
        if state is None:
            state = self.init_state(X)
        embs = tf.one_hot(X, self.num_inputs)                     # (batch, time, vocab)
        Y, state = self.rnn(embs, initial_state=[state])          # (batch, time, hidden)
        return tf.transpose(self.linear(Y), (1, 0, 2)), state     # (time, batch, vocab)

    def init_state(self, X):
        return tf.zeros((tf.shape(X)[0], self.num_hiddens))
# --8<-- [end:model]

# %%
# --8<-- [start:untrained]
tf.keras.utils.set_random_seed(0)
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

# %% [markdown]
# # Concise RNNs with JAX
#
# Generated from `docs/examples/chapter_jax.py`; the chapter "Concise RNNs in four frameworks"
# explains every step.

# %%
# --8<-- [start:setup]
import jax
import jax.numpy as jnp
from flax import nnx

import d2lrnn

jax_backend = d2lrnn.get_backend("jax")
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens; training tokens:", len(data.train_corpus))
# --8<-- [end:setup]

# %%
# --8<-- [start:layer]
num_hiddens, batch_size, num_steps = 256, 32, 35
cell = nnx.SimpleCell(vocab_size, num_hiddens, rngs=nnx.Rngs(0))       # tanh, one recurrent bias
rnn_layer = nnx.RNN(cell, time_major=True, return_carry=True)          # time-major input
# (batch, hidden): no layer axis
state = jnp.zeros((batch_size, num_hiddens))
X = jax.random.uniform(jax.random.PRNGKey(0), (num_steps, batch_size, vocab_size))
# Flax returns the state first
new_state, Y = rnn_layer(X, initial_carry=state)
print("Y:", tuple(Y.shape), "state:", tuple(new_state[None].shape))
# --8<-- [end:layer]

# %%
# --8<-- [start:model]
class RNN(jax_backend.RNNScratch):
    """Flax's RNN layer plus a linear output layer (each held as d2lrnn parameters)."""

    def init_params(self):
        rngs = nnx.Rngs(0)
        cell = nnx.SimpleCell(self.num_inputs, self.num_hiddens, rngs=rngs)
        self.rnn = jax_backend.FlaxLayer(nnx.RNN(cell, time_major=True, return_carry=True))
        self.linear = jax_backend.FlaxLayer(
            nnx.Linear(self.num_hiddens, self.num_outputs, rngs=rngs)
        )

    def forward(self, X, state=None):
        if state is None:
            state = self.init_state(X)
        embs = jax.nn.one_hot(X.T, self.num_inputs)           # (time, batch, vocab)
        state, Y = self.rnn(embs, initial_carry=state)         # (time, batch, hidden)
        return self.linear(Y), state                           # (time, batch, vocab)

    def init_state(self, X):
        return jnp.zeros((X.shape[0], self.num_hiddens))
# --8<-- [end:model]

# %%
# --8<-- [start:untrained]
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

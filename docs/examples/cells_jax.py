# %% [markdown]
# # GRU and LSTM with JAX
#
# Generated from `docs/examples/cells_jax.py`; the page "Beyond the vanilla RNN: GRU and LSTM in
# four frameworks" explains every step.

# %%
# --8<-- [start:setup]
import jax
from flax import nnx

import d2lrnn

data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens")
# --8<-- [end:setup]

# %%
# --8<-- [start:layers]
num_hiddens, batch_size, num_steps = 256, 32, 35
X = jax.random.uniform(jax.random.PRNGKey(0), (num_steps, batch_size, vocab_size))
rngs = nnx.Rngs(0)
gru = nnx.RNN(nnx.GRUCell(vocab_size, num_hiddens, rngs=rngs), time_major=True, return_carry=True)
H, Y = gru(X)                                      # Flax returns the carry first
print("GRU  Y:", Y.shape, "state:", H.shape)
lstm = nnx.RNN(
    nnx.OptimizedLSTMCell(vocab_size, num_hiddens, rngs=rngs), time_major=True, return_carry=True
)
(C, H), Y = lstm(X)                                # the carry is a pair, memory cell first
print("LSTM Y:", Y.shape, "h:", H.shape, "c:", C.shape)
count = lambda layer: sum(p.size for p in jax.tree.leaves(nnx.state(layer, nnx.Param)))  # noqa: E501, E731
print("weights: GRU", count(gru), "LSTM", count(lstm))
# --8<-- [end:layers]

# %%
# --8<-- [start:train]
EPOCHS, NUM_HIDDENS = 500, 256
backend = d2lrnn.get_backend("jax")
for cell in ("rnn", "gru", "lstm"):
    backend.seed(0)
    model = backend.RNN(
        num_inputs=vocab_size, num_outputs=vocab_size, num_hiddens=NUM_HIDDENS, lr=1, cell=cell
    )
    trainer = d2lrnn.Trainer(max_epochs=EPOCHS, gradient_clip_val=1, progress=False)
    trainer.fit(model, data)
    summary = trainer.summary()
    print(
        f"{cell}: perplexity {summary['perplexity']:.2f}, {summary['tokens_per_sec']:.0f} "
        "tokens/sec"
    )
    print("   ", model.predict("time traveller", 40, data.vocab))
# --8<-- [end:train]

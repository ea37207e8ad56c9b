# %% [markdown]
# # GRU and LSTM with MXNet
#
# Generated from `docs/examples/cells_mxnet.py`; the page "Beyond the vanilla RNN: GRU and LSTM in
# four frameworks" explains every step.

# %%
# --8<-- [start:setup]
from mxnet import np, npx
from mxnet.gluon import rnn

import d2lrnn

npx.set_np()
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens")
# --8<-- [end:setup]

# %%
# --8<-- [start:layers]
num_hiddens, batch_size, num_steps = 256, 32, 35
X = np.random.uniform(size=(num_steps, batch_size, vocab_size))   # time-major, as rnn.RNN
gru = rnn.GRU(num_hiddens)
gru.initialize()
Y, [H] = gru(X, gru.begin_state(batch_size=batch_size))           # Gluon passes states as a list
print("GRU  Y:", Y.shape, "state:", H.shape)
lstm = rnn.LSTM(num_hiddens)
lstm.initialize()
# the state is a pair: hidden and memory cell
Y, [H, C] = lstm(X, lstm.begin_state(batch_size=batch_size))
print("LSTM Y:", Y.shape, "h:", H.shape, "c:", C.shape)
count = lambda layer: sum(p.data().size for p in layer.collect_params().values())  # noqa: E731
print("weights: GRU", count(gru), "LSTM", count(lstm))
# --8<-- [end:layers]

# %%
# --8<-- [start:train]
EPOCHS, NUM_HIDDENS = 500, 256
backend = d2lrnn.get_backend("mxnet")
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

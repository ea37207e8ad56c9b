# %% [markdown]
# # GRU and LSTM with PyTorch
#
# Generated from `docs/examples/cells_torch.py`; the page "Beyond the vanilla RNN: GRU and LSTM in
# four frameworks" explains every step.

# %%
# --8<-- [start:setup]
import torch
from torch import nn

import d2lrnn

data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, seed=0)
vocab_size = len(data.vocab)
print("vocabulary:", vocab_size, "tokens")
# --8<-- [end:setup]

# %%
# --8<-- [start:layers]
num_hiddens, batch_size, num_steps = 256, 32, 35
X = torch.rand(num_steps, batch_size, vocab_size)         # time-major, as nn.RNN
gru = nn.GRU(vocab_size, num_hiddens)
Y, H = gru(X, torch.zeros(1, batch_size, num_hiddens))
print("GRU  Y:", tuple(Y.shape), "state:", tuple(H.shape))
lstm = nn.LSTM(vocab_size, num_hiddens)
zeros = torch.zeros(1, batch_size, num_hiddens)
# the state is a pair: hidden and memory cell
Y, (H, C) = lstm(X, (zeros, zeros))
print("LSTM Y:", tuple(Y.shape), "h:", tuple(H.shape), "c:", tuple(C.shape))
print(
    "weights: GRU",
    sum(p.numel() for p in gru.parameters()),
    "LSTM",
    sum(p.numel() for p in lstm.parameters()),
)
# --8<-- [end:layers]

# %%
# --8<-- [start:train]
EPOCHS, NUM_HIDDENS = 500, 256
backend = d2lrnn.get_backend("torch")
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

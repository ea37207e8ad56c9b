# --8<-- [start:train]
import bz2
import gzip
import lzma

import numpy as np

import d2lrnn
from d2lrnn.exercises.compress import RNNProbabilityModel, bits_per_char, decode, encode, ideal_bits

EPOCHS, NUM_HIDDENS = 100, 256
HELD_OUT = 5000  # characters to compress, none of them seen in training
backend = d2lrnn.get_backend()  # $D2LRNN_BACKEND, else torch
data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, num_train=20000, num_val=HELD_OUT, seed=0)
V = len(data.vocab)
backend.seed(0)
model = backend.RNN(num_inputs=V, num_outputs=V, num_hiddens=NUM_HIDDENS, lr=1)
trainer = d2lrnn.Trainer(max_epochs=EPOCHS, gradient_clip_val=1, progress=False)
trainer.fit(model, data)
# --8<-- [end:train]

# --8<-- [start:bits]
symbols = [int(i) for i in data.val_corpus]       # the held-out text as token indices
text = "".join(data.vocab.to_tokens(symbols))
# the model's mean cross-entropy (nats) on the held-out text, one character at a time
cross_entropy = ideal_bits(symbols, RNNProbabilityModel(model, backend)) * np.log(2) / len(symbols)
model_bits = bits_per_char(cross_entropy)
print(f"held-out text: {len(text)} characters; perplexity {d2lrnn.perplexity(cross_entropy):.2f} "
      f"= {model_bits:.2f} bits per character")
# --8<-- [end:bits]

# --8<-- [start:code]
code = encode(symbols, RNNProbabilityModel(model, backend))
decoded = decode(code, len(symbols), RNNProbabilityModel(model, backend))
assert decoded == symbols, "the round trip must be exact"
print("round trip exact:", "".join(data.vocab.to_tokens(decoded)) == text)
# --8<-- [end:code]

# --8<-- [start:compare]
raw = text.encode("ascii")
sizes = {
    "raw (8 bits/char)": len(raw),
    "uniform (log2 28 bits/char)": int(np.ceil(len(raw) * np.log2(V) / 8)),
    "gzip -9": len(gzip.compress(raw, 9)),
    "bz2 -9": len(bz2.compress(raw, 9)),
    "lzma -9": len(lzma.compress(raw, preset=9)),
    "RNN + arithmetic coder": len(code),
}
for name, size in sizes.items():
    print(f"{name:>28}: {size:6d} bytes, {8 * size / len(raw):.2f} bits/char")
weights = model.get_weights()
num_params = sum(w.size for w in weights.values())
print(f"the model itself: {num_params:,} parameters = {4 * num_params:,} bytes as float32")
# --8<-- [end:compare]

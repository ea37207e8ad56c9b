# ruff: noqa  (the book's code as readers type it)
# stand-in: d2lrnn's d2l.RNN (Flax's SimpleCell), in place of the book's JAX RNN, whose __call__ raises NotImplementedError
# The book's JAX tab defines `class RNN(nn.Module)` whose __call__ raises NotImplementedError (Flax then
# had no vanilla cell) and has no training cells; here the reader uses d2l.RNN (Flax's SimpleCell) and
# trains as on the other tabs.
# %%
from d2l import jax as d2l
from flax import linen as nn
from jax import numpy as jnp

# %%
class RNNLM(d2l.RNNLMScratch):
    training: bool = True

    def setup(self):
        self.linear = nn.Dense(self.vocab_size)

    def output_layer(self, hiddens):
        return d2l.swapaxes(self.linear(hiddens), 0, 1)

    def forward(self, X, state=None):
        embs = self.one_hot(X)
        rnn_outputs, _ = self.rnn(embs, state, self.training)
        return self.output_layer(rnn_outputs)

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
rnn = d2l.RNN(num_hiddens=32)
model = RNNLM(rnn, vocab_size=len(data.vocab), lr=1)

# %%
trainer = d2l.Trainer(max_epochs=100, gradient_clip_val=1, num_gpus=1)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab, trainer.state.params)
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

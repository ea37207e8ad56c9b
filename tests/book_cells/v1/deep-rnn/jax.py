# ruff: noqa  (the book's code as readers type it)
# known-issue: flax>=0.7,<0.7.5: the book calls nn.GRUCell.initialize_carry on the class as (rng, batch_dims, size); Flax 0.7.0 made it an instance method taking (rng, input_shape), and until 0.7.4 a guard rejects the old call
# raises: TypeError in cell 7: The RNNCellBase API has changed
# seen: read in the source of flax 0.7.0 to 0.7.4 (not run here)
# known-issue: flax>=0.7.5: the book calls nn.GRUCell.initialize_carry on the class as (rng, batch_dims, size); since Flax 0.7.0 it is an instance method taking (rng, input_shape), so the size (an int) lands where the shape goes
# raises: TypeError in cell 7: 'int' object is not subscriptable
# seen: flax 0.12.0, 0.12.8
# %%
from d2l import jax as d2l
from flax import linen as nn
import jax
from jax import numpy as jnp

# %%
class StackedRNNScratch(d2l.Module):
    num_inputs: int
    num_hiddens: int
    num_layers: int
    sigma: float = 0.01

    def setup(self):
        self.rnns = [d2l.RNNScratch(self.num_inputs if i==0 else self.num_hiddens,
                                    self.num_hiddens, self.sigma)
                     for i in range(self.num_layers)]

# %%
@d2l.add_to_class(StackedRNNScratch)
def forward(self, inputs, Hs=None):
    outputs = inputs
    if Hs is None: Hs = [None] * self.num_layers
    for i in range(self.num_layers):
        outputs, Hs[i] = self.rnns[i](outputs, Hs[i])
        outputs = d2l.stack(outputs, 0)
    return outputs, Hs

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
rnn_block = StackedRNNScratch(num_inputs=len(data.vocab),
                              num_hiddens=32, num_layers=2)
model = d2l.RNNLMScratch(rnn_block, vocab_size=len(data.vocab), lr=2)
trainer = d2l.Trainer(max_epochs=100, gradient_clip_val=1, num_gpus=1)
trainer.fit(model, data)

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

# %%
class GRU(d2l.RNN):  #@save
    """The multilayer GRU model."""
    num_hiddens: int
    num_layers: int
    dropout: float = 0

    @nn.compact
    def __call__(self, X, state=None, training=False):
        outputs = X
        new_state = []
        if state is None:
            batch_size = X.shape[1]
            state = [nn.GRUCell.initialize_carry(jax.random.PRNGKey(0),
                    (batch_size,), self.num_hiddens)] * self.num_layers

        GRU = nn.scan(nn.GRUCell, variable_broadcast="params",
                      in_axes=0, out_axes=0, split_rngs={"params": False})

        # Introduce a dropout layer after every GRU layer except last
        for i in range(self.num_layers - 1):
            layer_i_state, X = GRU()(state[i], outputs)
            new_state.append(layer_i_state)
            X = nn.Dropout(self.dropout, deterministic=not training)(X)

        # Final GRU layer without dropout
        out_state, X = GRU()(state[-1], X)
        new_state.append(out_state)
        return X, jnp.array(new_state)

# %%
gru = GRU(num_hiddens=32, num_layers=2)
model = d2l.RNNLM(gru, vocab_size=len(data.vocab), lr=2)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab, trainer.state.params)
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

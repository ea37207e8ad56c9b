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
class GRUScratch(d2l.Module):
    num_inputs: int
    num_hiddens: int
    sigma: float = 0.01

    def setup(self):
        init_weight = lambda name, shape: self.param(name,
                                                     nn.initializers.normal(self.sigma),
                                                     shape)
        triple = lambda name : (
            init_weight(f'W_x{name}', (self.num_inputs, self.num_hiddens)),
            init_weight(f'W_h{name}', (self.num_hiddens, self.num_hiddens)),
            self.param(f'b_{name}', nn.initializers.zeros, (self.num_hiddens)))

        self.W_xz, self.W_hz, self.b_z = triple('z')  # Update gate
        self.W_xr, self.W_hr, self.b_r = triple('r')  # Reset gate
        self.W_xh, self.W_hh, self.b_h = triple('h')  # Candidate hidden state

# %%
@d2l.add_to_class(GRUScratch)
def forward(self, inputs, H=None):
    def scan_fn(H, X):
        Z = d2l.sigmoid(d2l.matmul(X, self.W_xz) + d2l.matmul(H, self.W_hz) +
                        self.b_z)
        R = d2l.sigmoid(d2l.matmul(X, self.W_xr) +
                        d2l.matmul(H, self.W_hr) + self.b_r)
        H_tilde = d2l.tanh(d2l.matmul(X, self.W_xh) +
                           d2l.matmul(R * H, self.W_hh) + self.b_h)
        H = Z * H + (1 - Z) * H_tilde
        return H, H

    if H is None:
        batch_size = inputs.shape[1]
        carry = jnp.zeros((batch_size, self.num_hiddens))
    else:
        carry = H

    carry, outputs = jax.lax.scan(scan_fn, carry, inputs)
    return outputs, carry

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
gru = GRUScratch(num_inputs=len(data.vocab), num_hiddens=32)
model = d2l.RNNLMScratch(gru, vocab_size=len(data.vocab), lr=4)
trainer = d2l.Trainer(max_epochs=50, gradient_clip_val=1, num_gpus=1)
trainer.fit(model, data)

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

# %%
class GRU(d2l.RNN):
    num_hiddens: int

    @nn.compact
    def __call__(self, inputs, H=None, training=False):
        if H is None:
            batch_size = inputs.shape[1]
            H = nn.GRUCell.initialize_carry(jax.random.PRNGKey(0),
                                            (batch_size,), self.num_hiddens)

        GRU = nn.scan(nn.GRUCell, variable_broadcast="params",
                      in_axes=0, out_axes=0, split_rngs={"params": False})

        H, outputs = GRU()(H, inputs)
        return outputs, H

# %%
gru = GRU(num_hiddens=32)
model = d2l.RNNLM(gru, vocab_size=len(data.vocab), lr=4)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab, trainer.state.params)
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

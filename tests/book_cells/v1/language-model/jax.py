# ruff: noqa  (the book's code as readers type it)
# %%
from d2l import jax as d2l
from jax import numpy as jnp

# %%
@d2l.add_to_class(d2l.TimeMachine)
def __init__(self, batch_size, num_steps, num_train=10000, num_val=5000):
    super(d2l.TimeMachine, self).__init__()
    self.save_hyperparameters()
    corpus, self.vocab = self.build(self._download())
    array = d2l.tensor([corpus[i:i+num_steps+1]
                        for i in range(len(corpus)-num_steps)])
    self.X, self.Y = array[:,:-1], array[:,1:]

# %%
@d2l.add_to_class(d2l.TimeMachine)
def get_dataloader(self, train):
    idx = slice(0, self.num_train) if train else slice(
        self.num_train, self.num_train + self.num_val)
    return self.get_tensorloader([self.X, self.Y], train, idx)

# %%
data = d2l.TimeMachine(batch_size=2, num_steps=10)
for X, Y in data.train_dataloader():
    print('X:', X, '\nY:', Y)
    break
# expect: ^X: \[\[
# expect: ^Y: \[\[

# %% probe
print('PROBE', tuple(X.shape), tuple(Y.shape), bool((X[:, 1:] == Y[:, :-1]).all()), len(data.train_dataloader()))
# expect: ^PROBE \(2, 10\) \(2, 10\) True 5000$

# ruff: noqa  (the book's code as readers type it)
# %%
from d2l import mxnet as d2l
from mxnet import np, npx
from mxnet.gluon import rnn
npx.set_np()

# %%
class GRU(d2l.RNN):
    def __init__(self, num_hiddens, num_layers, dropout=0):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
gru = GRU(num_hiddens=32, num_layers=2)
model = d2l.RNNLM(gru, vocab_size=len(data.vocab), lr=2)
trainer = d2l.Trainer(max_epochs=100, gradient_clip_val=1, num_gpus=1)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab, d2l.try_gpu())
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

# ruff: noqa  (the book's code as readers type it)
# %%
from d2l import mxnet as d2l
from mxnet import np, npx
from mxnet.gluon import rnn
npx.set_np()

# %%
class LSTM(d2l.RNN):
    def __init__(self, num_hiddens):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = rnn.LSTM(num_hiddens)

    def forward(self, inputs, H_C=None):
        if H_C is None: H_C = self.rnn.begin_state(inputs.shape[1], ctx=inputs.ctx)
        return self.rnn(inputs, H_C)

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
lstm = LSTM(num_hiddens=32)
model = d2l.RNNLM(lstm, vocab_size=len(data.vocab), lr=4)
trainer = d2l.Trainer(max_epochs=50, gradient_clip_val=1, num_gpus=1)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab, d2l.try_gpu())
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

# ruff: noqa  (the book's code as readers type it)
# %%
import tensorflow as tf
from d2l import tensorflow as d2l

# %%
class GRU(d2l.RNN):
    def __init__(self, num_hiddens, num_layers, dropout=0):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        gru_cells = [tf.keras.layers.GRUCell(num_hiddens, dropout=dropout)
                     for _ in range(num_layers)]
        self.rnn = tf.keras.layers.RNN(gru_cells, return_sequences=True,
                                       return_state=True, time_major=True)

    def forward(self, X, state=None):
        outputs, *state = self.rnn(X, state)
        return outputs, state

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
gru = GRU(num_hiddens=32, num_layers=2)
with d2l.try_gpu():
    model = d2l.RNNLM(gru, vocab_size=len(data.vocab), lr=2)
trainer = d2l.Trainer(max_epochs=100, gradient_clip_val=1)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab)
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

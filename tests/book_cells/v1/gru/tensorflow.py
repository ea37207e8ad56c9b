# ruff: noqa  (the book's code as readers type it)
# %%
import tensorflow as tf
from d2l import tensorflow as d2l

# %%
class GRU(d2l.RNN):
    def __init__(self, num_hiddens):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = tf.keras.layers.GRU(num_hiddens, return_sequences=True, return_state=True)

# %%
data = d2l.TimeMachine(batch_size=1024, num_steps=32)
gru = GRU(num_hiddens=32)
with d2l.try_gpu():
    model = d2l.RNNLM(gru, vocab_size=len(data.vocab), lr=4)
trainer = d2l.Trainer(max_epochs=50, gradient_clip_val=1)
trainer.fit(model, data)

# %%
model.predict('it has', 20, data.vocab)
# expect: ^'it has.{20}'$

# %% probe
print('PPL', *(f'{y:.3f}' for _, y in model.board.data['train_ppl']))

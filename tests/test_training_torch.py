import numpy as np
import pytest

import d2lrnn

from .conftest import needs_corpus

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def data():
    if not d2lrnn.corpus.os.environ.get("D2LRNN_DATA_DIR"):
        pytest.skip("no corpus")
    return d2lrnn.TimeMachine(batch_size=16, num_steps=20, num_train=4000, num_val=1000, seed=0)


@needs_corpus
@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_short_training_lowers_perplexity(data, kind):
    backend = d2lrnn.get_backend("torch")
    backend.seed(0)
    cls = getattr(backend, kind)
    model = cls(num_inputs=len(data.vocab), num_outputs=len(data.vocab), num_hiddens=64, lr=1)
    trainer = d2lrnn.Trainer(max_epochs=12, gradient_clip_val=1, progress=False)
    history = trainer.fit(model, data)
    assert len(history) == 12
    assert history[-1].perplexity < 0.75 * history[0].perplexity
    assert history[-1].val_perplexity is not None and history[-1].val_perplexity < len(data.vocab)
    assert all(s.tokens % (16 * 20) == 0 and s.tokens >= (4000 // 320 - 1) * 320 for s in history)
    text = model.predict("time traveller", 20, data.vocab)
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 20


def test_user_subclass_as_in_the_book():
    """A seed-002 style subclass: its own init_params / forward / init_state."""
    backend = d2lrnn.get_backend("torch")
    from torch import nn
    from torch.nn import functional as F

    class RNN(backend.RNNScratch):
        def init_params(self):
            self.rnn = nn.RNN(self.num_inputs, self.num_hiddens)
            self.linear = nn.Linear(self.num_hiddens, self.num_outputs)

        def forward(self, X, state=None):
            if state is None:
                state = self.init_state(X)
            Y, state = self.rnn(F.one_hot(X.T, self.num_inputs).type(torch.float32), state)
            return self.linear(Y), state

        def init_state(self, X):
            return torch.zeros((1, X.shape[0], self.num_hiddens))

    corpus = np.tile(np.arange(5), 200)
    loader = d2lrnn.SeqDataLoader(corpus, 4, 10, seed=0)
    model = RNN(num_inputs=5, num_outputs=5, num_hiddens=16, lr=1)
    history = d2lrnn.Trainer(max_epochs=5, gradient_clip_val=1, progress=False).fit(model, loader)
    # a cyclic sequence is easy to learn: perplexity falls towards 1 (a uniform guess would be 5)
    assert history[-1].perplexity < min(1.1, history[0].perplexity)


def test_divergence_is_reported_with_the_epoch():
    backend = d2lrnn.get_backend("torch")
    backend.seed(0)
    model = backend.RNNScratch(num_inputs=5, num_outputs=5, num_hiddens=16, lr=1)
    with torch.no_grad():
        model.W_hq.fill_(float("nan"))
    loader = d2lrnn.SeqDataLoader(np.tile(np.arange(5), 100), 4, 10, seed=0)
    with pytest.raises(d2lrnn.DivergenceError, match="epoch 1"):
        d2lrnn.Trainer(max_epochs=3, progress=False).fit(model, loader)


def test_temperature_sampling_is_seeded_and_greedy_is_deterministic():
    backend = d2lrnn.get_backend("torch")
    backend.seed(1)
    vocab = d2lrnn.Vocab(list("abcde "))
    model = backend.RNN(num_inputs=len(vocab), num_outputs=len(vocab), num_hiddens=8)
    greedy = {model.predict("ab", 15, vocab) for _ in range(3)}
    assert len(greedy) == 1
    hot = [model.predict("ab", 15, vocab, temperature=5.0, seed=s) for s in range(6)]
    assert hot[0] == model.predict("ab", 15, vocab, temperature=5.0, seed=0)
    assert len(set(hot)) > 1
    with pytest.raises(d2lrnn.D2LRNNError, match="outside the vocabulary: 'z'"):
        model.predict("abz", 3, vocab)
    with pytest.raises(d2lrnn.D2LRNNError, match="empty"):
        model.predict("", 3, vocab)


def test_a_book_style_subclass_can_be_saved_and_loaded_elsewhere(tmp_path):
    from torch import nn
    from torch.nn import functional as F

    backend = d2lrnn.get_backend("torch")

    class RNN(backend.RNNScratch):
        def init_params(self):
            self.rnn = nn.RNN(self.num_inputs, self.num_hiddens)
            self.linear = nn.Linear(self.num_hiddens, self.num_outputs)

        def forward(self, X, state=None):
            Y, state = self.rnn(F.one_hot(X.T, self.num_inputs).type(torch.float32), state)
            return self.linear(Y), state

    vocab = d2lrnn.Vocab(list("abcde "))
    model = RNN(num_inputs=len(vocab), num_outputs=len(vocab), num_hiddens=8)
    path = d2lrnn.save(tmp_path / "book.npz", model, vocab)
    for name in d2lrnn.available_backends():
        again, _, _ = d2lrnn.load(path, backend=name)
        assert again.predict("ab", 12, vocab) == model.predict("ab", 12, vocab)

    class Opaque(backend.RNNScratch):
        def init_params(self):
            self.cell = nn.RNNCell(self.num_inputs, self.num_hiddens)

    with pytest.raises(d2lrnn.CheckpointError, match="no portable form"):
        Opaque(num_inputs=3, num_hiddens=4).get_weights()


def test_a_used_up_generator_is_a_clear_error_not_a_crash():
    backend = d2lrnn.get_backend("torch")
    model = backend.RNNScratch(num_inputs=5, num_outputs=5, num_hiddens=8)
    batches = iter(list(d2lrnn.SeqDataLoader(np.tile(np.arange(5), 40), 2, 5, seed=0)))
    with pytest.raises(d2lrnn.D2LRNNError, match="gave no batches"):
        d2lrnn.Trainer(max_epochs=2, progress=False).fit(model, batches)


@needs_corpus
def test_a_callback_can_stop_training_after_an_epoch(data):
    """``stop_requested`` set by a callback (e.g. early stopping) ends ``fit`` after that epoch, and
    ``fit`` continues later."""
    backend = d2lrnn.get_backend("torch")
    model = backend.RNN(
        num_inputs=len(data.vocab), num_outputs=len(data.vocab), num_hiddens=16, lr=1
    )

    def stop_after_two(trainer, stats):
        if stats.epoch == 2:
            trainer.stop_requested = True

    trainer = d2lrnn.Trainer(
        max_epochs=5, gradient_clip_val=1, progress=False, callbacks=[stop_after_two]
    )
    assert [s.epoch for s in trainer.fit(model, data)] == [1, 2]
    assert [s.epoch for s in trainer.fit(model, data)] == [1, 2, 3, 4, 5]

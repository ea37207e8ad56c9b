# ruff: noqa  (the book's code as readers type it)
# %%
import collections
from d2l import jax as d2l
import jax
from jax import numpy as jnp
import random
import re

# %%
class TimeMachine(d2l.DataModule):
    def _download(self):
        fname = d2l.download(d2l.DATA_URL + 'timemachine.txt', self.root,
                             '090b5e7e70c295757f55df93cb0a180b9691891a')
        with open(fname) as f:
            return f.read()

data = TimeMachine()
raw_text = data._download()
raw_text[:60]
# expect: ^'The Time Machine, by H\. G\. Wells

# %%
@d2l.add_to_class(TimeMachine)
def _preprocess(self, text):
    return re.sub('[^A-Za-z]+', ' ', text).lower()

text = data._preprocess(raw_text)
text[:60]
# expect: ^'the time machine by h g wells

# %%
@d2l.add_to_class(TimeMachine)
def _tokenize(self, text):
    return list(text)

tokens = data._tokenize(text)
','.join(tokens[:30])
# expect: ^'t,h,e, ,t,i,m,e, ,m,a,c,h,i,n,e

# %%
vocab = d2l.Vocab(tokens)
indices = vocab[tokens[:10]]
print('indices:', indices)
print('words:', vocab.to_tokens(indices))
# expect: ^indices: \[21, 9, 6, 0, 21, 10, 14, 6, 0, 14\]$
# expect: ^words: \['t', 'h', 'e', ' ', 't', 'i', 'm', 'e', ' ', 'm'\]$

# %%
@d2l.add_to_class(TimeMachine)
def build(self, raw_text, vocab=None):
    tokens = self._tokenize(self._preprocess(raw_text))
    if vocab is None: vocab = d2l.Vocab(tokens)
    corpus = [vocab[token] for token in tokens]
    return corpus, vocab

corpus, vocab = data.build(raw_text)
len(corpus), len(vocab)
# expect: ^\(173428, 28\)$

# %%
words = text.split()
vocab = d2l.Vocab(words)
vocab.token_freqs[:3]
# expect: ^\[\('the', 2261\), \('i', 1267\), \('and', 1245\)\]$

# %%
freqs = [freq for token, freq in vocab.token_freqs]
d2l.plot(freqs, xlabel='token: x', ylabel='frequency: n(x)', xscale='log', yscale='log')
# expect: ^<Figure size

# %%
bigram_tokens = ['--'.join(pair) for pair in zip(words[:-1], words[1:])]
bigram_vocab = d2l.Vocab(bigram_tokens)
bigram_vocab.token_freqs[:2]
# expect: ^\[\('of--the', 309\), \('in--the', 169\)\]$

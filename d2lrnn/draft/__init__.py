"""The book's names as the d2l 1.0 draft (RNNScratch as a whole language model, TimeMachine counting tokens) has them: ``from d2lrnn.draft import torch as d2l`` (see docs/book.md)."""

"""The book's names as the d2l 1.0 draft (RNNScratch a whole model) has them: ``from d2lrnn.draft import torch as d2l``."""

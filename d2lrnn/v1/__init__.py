"""The book's names as d2l 1.0.3, the published book has them: ``from d2lrnn.v1 import torch as d2l``."""

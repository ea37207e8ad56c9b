"""The book's names as d2l 0.x (0.17.6; the Chinese edition 2.0.0) has them: ``from d2lrnn.v0 import torch as d2l``."""

"""Library error classes: each carries a one-paragraph message meant for a person."""

from __future__ import annotations


class D2LRNNError(ValueError):
    """Base class of every error the library raises on purpose."""


class BackendError(D2LRNNError):
    """An unknown, uninstalled or unusable backend."""


class CorpusError(D2LRNNError):
    """A corpus that is missing, unreadable, too short or fails verification."""


class CheckpointError(D2LRNNError):
    """A checkpoint that is missing, damaged or does not fit the model."""


class DivergenceError(D2LRNNError):
    """Training produced a non-finite loss."""


class ResourceError(D2LRNNError):
    """A run that cannot fit the machine (memory) or a place that cannot take its output."""

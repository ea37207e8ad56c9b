"""Library error classes: each carries a one-paragraph message meant for a person.

A message may name the settings a person can change as ``{name}`` or ``{name:VALUE}`` fields (e.g.
``"Lower {num_hiddens}."``, ``"Use {device:cpu}."``). ``str(error)`` spells them as the library's
arguments (``num_hiddens``, ``device='cpu'``); the command line spells them as its own options
through :meth:`D2LRNNError.spelled`, so no library message names a flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

#: how a message spells a setting: ``spell(name, value)``, ``value`` "" when the message gives none
Spelling = Callable[[str, str], str]
_FIELD = re.compile(r"\{(\w+)(?::([^{}]*))?\}")


def argument_spelling(name: str, value: str) -> str:
    """A setting as a Python argument: ``num_hiddens``, ``device='cpu'``, ``workers=2``."""
    if not value:
        return name
    number = value.lstrip("-").replace(".", "", 1).isdigit()
    return f"{name}={value}" if number else f"{name}={value!r}"


class D2LRNNError(ValueError):
    """Base class of every error the library raises on purpose; ``settings`` names the fields of
    the message (see the module's docstring)."""

    def __init__(self, message: str = "", *, settings: Iterable[str] = ()) -> None:
        self.template = message
        self.settings = tuple(settings)
        super().__init__(self.spelled(argument_spelling))

    def spelled(self, spell: Spelling) -> str:
        """The message with each named setting spelled by ``spell``."""
        def field(match: re.Match[str]) -> str:
            name, value = match.group(1), match.group(2) or ""
            return spell(name, value) if name in self.settings else match.group(0)

        return _FIELD.sub(field, self.template) if self.settings else self.template


class BackendError(D2LRNNError):
    """An unknown, uninstalled or unusable backend."""


class CorpusError(D2LRNNError):
    """A corpus that is missing, unreadable, too short or fails verification."""


class CheckpointError(D2LRNNError):
    """A checkpoint that is missing, damaged or does not fit the model."""


class DivergenceError(D2LRNNError):
    """Training produced a non-finite loss: in ``epoch``, at learning rate ``lr`` and clipping
    ``clip``; ``checkpoint`` is the intact file to resume from, if one was saved."""

    def __init__(
        self,
        message: str,
        *,
        epoch: int | None = None,
        lr: float | None = None,
        clip: float | None = None,
        checkpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.lr = lr
        self.clip = clip
        self.checkpoint = checkpoint

    def kept(self, checkpoint: str, saved_epoch: int) -> DivergenceError:
        """The same divergence, saying that ``checkpoint`` (from ``saved_epoch``) is intact."""
        return DivergenceError(
            f"{self} The checkpoint {checkpoint} from epoch {saved_epoch} is intact; resume from "
            "it with a lower learning rate.",
            epoch=self.epoch,
            lr=self.lr,
            clip=self.clip,
            checkpoint=checkpoint,
        )


class ResourceError(D2LRNNError):
    """A run that cannot fit the machine (memory) or a place that cannot take its output."""

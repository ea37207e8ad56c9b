"""Raw MXNet arrays as trainable parameters (d2l 0.x's scratch models keep ``attach_grad`` arrays).

The adapter's primitives read a model's parameters through Gluon's ``collect_params()``: each
parameter gives ``data()``, ``grad()``, ``grad_req`` and ``list_ctx()``. :class:`ArrayParameter`
offers the same for a plain array, so the core loop trains a list of arrays in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import D2LRNNError


class ArrayParameter:
    """One array with an attached gradient, read and updated in place like a Gluon parameter."""

    grad_req = "write"

    def __init__(self, array: Any) -> None:
        if getattr(array, "grad", None) is None:
            raise D2LRNNError(
                f"A parameter array of shape {tuple(array.shape)} has no gradient buffer: call its "
                "attach_grad() "
                "before training (as the book's get_params does), or the model cannot learn."
            )
        self.array = array

    def data(self, ctx: Any = None) -> Any:
        return self.array

    def grad(self, ctx: Any = None) -> Any:
        return self.array.grad

    def list_ctx(self) -> list[Any]:
        return [self.array.ctx]


class ArrayParameters(dict):
    """``collect_params()`` for a list of arrays: names ``param0``, ``param1``, ... to
    :class:`ArrayParameter`."""

    def __init__(self, arrays: Sequence[Any]) -> None:
        super().__init__((f"param{i}", ArrayParameter(a)) for i, a in enumerate(arrays))

    def reset_ctx(self, ctx: Any) -> None:
        """Arrays cannot move without losing the caller's references to them: refuse another device.
        """
        for name, param in self.items():
            if param.array.ctx != ctx:
                raise D2LRNNError(
                    f"The model's {name} lives on {param.array.ctx}, but training was asked to run "
                    f"on {ctx}. "
                    "Create the parameters on the training device (get_params(..., device))."
                )

"""Brian2 through PyNN: runtime, C++ standalone (``brian2:cpp``) and CUDA standalone (``brian2:cuda``)
(entry point: :class:`Brian2Backend`)."""

from .backend import Brian2Backend
from .options import Brian2Options

__all__ = ["Brian2Backend", "Brian2Options"]

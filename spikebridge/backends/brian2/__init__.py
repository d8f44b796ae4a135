"""Brian2 through PyNN: runtime, C++ standalone (``brian2:cpp``) and CUDA standalone (``brian2:cuda``)."""

from .backend import Brian2Backend, create

__all__ = ["Brian2Backend", "create"]

"""The documented import path of ``TextBlock`` (the block a bulk mapper receives)
and ``text_files``; both live in ``simplemr.io.textfiles``."""

from .io.textfiles import TextBlock, text_files

__all__ = ["TextBlock", "text_files"]

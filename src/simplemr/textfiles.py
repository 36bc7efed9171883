"""The documented import path of ``TextBlock`` (the block a bulk mapper receives)
and of what this module offered before; all live in ``simplemr.io``."""

from .io.paths import expand_paths
from .io.textfiles import CombinedSplit, TextBlock, TextFiles, TextSplit, text_files

__all__ = ["CombinedSplit", "TextBlock", "TextFiles", "TextSplit", "expand_paths", "text_files"]

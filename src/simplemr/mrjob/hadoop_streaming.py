"""Hadoop Streaming's own job: any executable as mapper and reducer.

``simplemr streaming -input IN -output OUT -mapper CMD -reducer CMD`` runs
``HadoopStreaming``, an mrjob job of one step of commands (``MRStep(mapper_cmd=...,
reducer_cmd=...)``), through this package's mrjob runner:

    input lines ─▶ mapper CMD ─▶ lines "key<TAB>value" ─▶ grouped and sorted by key
                ─▶ reducer CMD (one a reduce task) ─▶ lines ─▶ OUT/part-NNNNN

as Hadoop Streaming runs them: the mapper reads its split's lines on stdin, the
reducer reads its partition's lines sorted by key (the text before the first tab).
Without ``-reducer`` the lines pass through sorted (Hadoop's identity reducer); with
``-numReduceTasks 0`` the mapper's lines are the output.
"""

from __future__ import annotations

from typing import Any

from .job import MRJob
from .protocol import RawValueProtocol
from .step import MRStep

__all__ = ["HadoopStreaming"]


class HadoopStreaming(MRJob):
    """One step of commands, given as options (see the module)."""

    INPUT_PROTOCOL = RawValueProtocol
    INTERNAL_PROTOCOL = RawValueProtocol
    OUTPUT_PROTOCOL = RawValueProtocol

    def configure_args(self) -> None:
        super().configure_args()
        self.add_passthru_arg("--streaming-mapper", default="cat")
        self.add_passthru_arg("--streaming-combiner", default=None)
        self.add_passthru_arg("--streaming-reducer", default="cat")
        self.add_passthru_arg("--streaming-map-only", action="store_true")

    def steps(self) -> list[Any]:
        commands = {"mapper_cmd": self.options.streaming_mapper}
        if not self.options.streaming_map_only:
            commands["reducer_cmd"] = self.options.streaming_reducer
            if self.options.streaming_combiner:
                commands["combiner_cmd"] = self.options.streaming_combiner
        return [MRStep(**commands)]

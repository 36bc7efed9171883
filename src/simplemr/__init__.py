"""simplemr: MapReduce for Python on every core of one machine, in bounded memory.

>>> import simplemr
>>> job = simplemr.MapReduce(
...     mapper=lambda line: ((word, 1) for word in line.split()),
...     reducer=lambda word, counts: (word, sum(counts)),
...     combiner=lambda word, counts: sum(counts),
... )
>>> sorted(job.run(["a b", "b c b"], executor="inline").results)  # doctest: +SKIP
"""

from .api import JobResult, MapReduce
from .compat import SimpleMapReduce
from .counters import Counters, increment_counter
from .engine import ResultStream
from .errors import (
    InputError,
    JobDefinitionError,
    OutputError,
    SimplemrError,
    SortError,
    TaskFailedError,
    WorkerLostError,
    WorkFolderError,
)
from .executors import Executor
from .io.formats import input_files
from .io.named_outputs import To
from .io.parquet import parquet_files
from .io.textfiles import text_files
from .jobclass import Job, Step
from .joins import join
from .version import __version__

__all__ = [
    "Counters",
    "Executor",
    "InputError",
    "Job",
    "JobDefinitionError",
    "JobResult",
    "MapReduce",
    "OutputError",
    "ResultStream",
    "SimpleMapReduce",
    "SimplemrError",
    "SortError",
    "Step",
    "TaskFailedError",
    "To",
    "WorkFolderError",
    "WorkerLostError",
    "__version__",
    "increment_counter",
    "input_files",
    "join",
    "parquet_files",
    "text_files",
]

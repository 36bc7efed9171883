"""mrjob's own vocabulary, as the rest of simplemr needs to know it.

``simplemr.Job`` warns of a class attribute or method that only mrjob honours
(``INPUT_PROTOCOL``, ``mapper_cmd``...), naming what it does in mrjob: the knowledge
of what those names mean is this package's. This module imports nothing, so that
the user API, a layer below this package, may read it.
"""

__all__ = ["MRJOB_ONLY"]

#: mrjob's attributes and methods that mean nothing to a ``Job``: what they do in mrjob.
MRJOB_ONLY = {
    "INPUT_PROTOCOL": "reads input lines",
    "INTERNAL_PROTOCOL": "encodes pairs between steps",
    "OUTPUT_PROTOCOL": "writes the output",
    "FILES": "puts files in each task's folder",
    "DIRS": "puts folders in each task's folder",
    "ARCHIVES": "unpacks archives in each task's folder",
    "JOBCONF": "sets jobconf variables",
    "PARTITIONER": "names a Hadoop partitioner",
    "HADOOP_INPUT_FORMAT": "names a Hadoop input format",
    "HADOOP_OUTPUT_FORMAT": "names a Hadoop output format",
    "mapper_raw": "maps whole files",
    **{
        f"{kind}_{what}": f"runs a shell command {'before' if what == 'pre_filter' else 'as'} "
        f"the {kind}"
        for kind in ("mapper", "combiner", "reducer")
        for what in ("cmd", "pre_filter")
    },
}

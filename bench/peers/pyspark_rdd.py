"""PySpark ``local[2]``, RDD API: ``textFile`` / ``flatMap`` / ``reduceByKey`` for the
word count; ``groupByKey`` over (word, place) pairs for the index."""

from __future__ import annotations

import os

import pyspark
from contender import main
from pyspark import SparkConf, SparkContext
from rules import file_places, line_words, summary


def run(job: str, files: list[str]):
    conf = (
        SparkConf()
        .setMaster("local[2]")
        .setAppName("peers")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
    )
    context = SparkContext(conf=conf)
    context.setLogLevel("ERROR")
    try:
        if job == "wordcount":
            lines = context.textFile(",".join(files), minPartitions=16)
            counts = lines.flatMap(line_words).map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
            return counts.collect()
        paths = context.parallelize(files, min(len(files), 32))
        pairs = paths.flatMap(file_places)
        grouped = pairs.groupByKey().map(lambda item: summary(item[0], item[1]))
        return grouped.collect()
    finally:
        context.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    main(run, {"pyspark": pyspark.__version__})

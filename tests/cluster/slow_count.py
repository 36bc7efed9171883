"""A word count whose every task first waits a moment, so that a test can kill a
host while one of its map or reduce tasks runs."""

import time

from simplemr import Job

PAUSE = 2.0


class SlowCount(Job):
    def mapper_init(self) -> None:
        time.sleep(PAUSE)

    def mapper(self, _, line):
        for word in line.split():
            yield word.lower(), 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer_init(self) -> None:
        time.sleep(PAUSE)

    def reducer(self, word, counts):
        yield word, sum(counts)


if __name__ == "__main__":
    SlowCount.main()

"""Pre-filters and commands: a mapper pre-filter, a combiner pre-filter, a reducer
pre-filter, then a step whose reducer is a command."""

from mrjob.job import MRJob
from mrjob.step import MRStep


class MRCommands(MRJob):
    def steps(self):
        return [
            MRStep(
                mapper_pre_filter="tr A-Z a-z | grep -v '^#'",
                mapper=self.words,
                combiner_pre_filter="cat",
                combiner=self.count,
                reducer_pre_filter="grep -v zebra",
                reducer=self.count,
            ),
            MRStep(mapper=self.bucket, reducer_cmd="uniq -c"),
        ]

    def words(self, _, line):
        for word in line.split():
            yield word, 1

    def count(self, word, counts):
        yield word, sum(counts)

    def bucket(self, word, total):
        yield min(total, 3), None


if __name__ == "__main__":
    MRCommands.run()

"""FILES, DIRS, --archives and add_file_arg: files in each task's working folder."""

import os

from mrjob.job import MRJob


class MRUploads(MRJob):
    FILES = ["data/stop.txt"]
    DIRS = ["data/dir#extra_dir"]

    def configure_args(self):
        super().configure_args()
        self.add_file_arg("--more-stop-words")

    def mapper_init(self):
        with open("stop.txt") as file:
            self.stop = set(file.read().split())
        with open(self.options.more_stop_words) as file:
            self.stop |= set(file.read().split())
        with open(os.path.join("extra_dir", "words.txt")) as file:
            self.bonus = file.read().split()
        self.archived = sorted(os.listdir("archived")) if os.path.isdir("archived") else []

    def mapper(self, _, line):
        for word in line.lower().split():
            if word not in self.stop:
                yield word, 1

    def mapper_final(self):
        for word in self.bonus:
            yield word, 0
        yield "archived: " + ",".join(self.archived), 0

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


if __name__ == "__main__":
    MRUploads.run()

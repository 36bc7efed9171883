"""One reduce task over a partition many times its memory budget. The reducer
counts keys and yields nothing for them; ``reducer_final`` yields the count and
how much the task's process grew at its peak while it ran (Linux: VmHWM, reset
when the task starts)."""

from simplemr import Job

KEYS_PER_RECORD = 50_000


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


class WidePartition(Job):
    def mapper(self, _, line):
        start = int(line) * KEYS_PER_RECORD
        for number in range(start, start + KEYS_PER_RECORD):
            yield f"key-{number:012d}", number

    def reducer_init(self) -> None:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets the high-water mark of resident memory
        self.rss = _status("VmRSS")
        self.keys = 0

    def reducer(self, key, values):
        for _ in values:
            pass
        self.keys += 1
        yield from ()

    def reducer_final(self):
        yield "keys", self.keys
        yield "peak growth", _status("VmHWM") - self.rss


if __name__ == "__main__":
    WidePartition.main()

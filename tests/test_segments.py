"""The spill format: what is written is read back, and reading says how far it got."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from simplemr.errors import WorkFolderError
from simplemr.io.batches import BUFFER, InMemory
from simplemr.shuffle.segments import (
    ReadProgress,
    SegmentWriter,
    pack_segment,
    read_segments,
    unpack_segment,
)


def test_segments_read_back_from_file_or_bytes_counting_every_byte(tmp_path: Path) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=2)
    for spill in range(3):
        writer.write(0, [(f"k{spill}-{i}", list(range(i))) for i in range(3000)])
        writer.write(1, [("other", [spill])])
    first, second = writer.close()
    assert first is not None and second is not None
    for source in (first, unpack_segment(InMemory(pack_segment(first)), str(tmp_path / "moved"))):
        progress = ReadProgress([source, second])
        items = read_segments([source], progress)
        next(items)
        assert progress.done == 0  # a batch counts once its items are used
        fractions = [progress.fraction for _ in items]
        assert len(fractions) == 3 * 3000 - 1
        assert 0 < fractions[len(fractions) // 2] < fractions[-1] < 1
        assert progress.done == first.nbytes
    assert ReadProgress([]).fraction == 1.0


def test_a_partition_written_in_buckets_reads_one_bucket_or_all(tmp_path: Path) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=2 * 3)  # 3 buckets each
    for spill in range(2):
        for slot in range(6):
            writer.write(slot, [(f"slot{slot}-spill{spill}", [slot])])
    first, second = writer.close(partitions=2)
    assert first is not None and second is not None
    assert set(first.buckets) == {0, 2, 4} and set(second.buckets) == {1, 3, 5}
    assert [key for key, _ in read_segments([second], bucket=3)] == [
        "slot3-spill0",
        "slot3-spill1",
    ]
    assert len(list(read_segments([first]))) == 6
    assert ReadProgress([first], bucket=2).total == first.nbytes // 3
    # Moved to another machine, a segment keeps its buckets and its ranges, in order
    # of bucket (a range is one spill's run: never read in one piece if large).
    moved = unpack_segment(InMemory(pack_segment(first)), str(tmp_path / "moved"))
    assert moved.buckets == (0, 0, 2, 2, 4, 4) and len(moved.ranges) == 6
    assert [key for key, _ in read_segments([moved], bucket=2)] == [
        "slot2-spill0",
        "slot2-spill1",
    ]
    assert len(list(read_segments([moved]))) == 6


def test_a_segment_moved_whole_or_streamed_reads_the_same(tmp_path: Path) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=4)
    for spill in range(3):
        for slot in (3, 1, 2):
            writer.write(slot, [(f"{slot}-{spill}-{i}", [i]) for i in range(500)])
    (segment,) = [s for s in writer.close(partitions=1) if s is not None]
    packed = pack_segment(segment)
    streamed = Packed(packed)
    for number, source in enumerate((InMemory(packed), streamed)):
        moved = unpack_segment(source, str(tmp_path / f"moved-{number}"))
        for bucket in (1, 2, 3):
            assert list(read_segments([moved], bucket=bucket)) == list(
                read_segments([segment], bucket=bucket)
            )


class Packed:
    """Bytes served as a stream, as from another machine."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.nbytes = len(data)

    def open(self) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]

    def discard(self) -> None:
        pass


def test_a_segment_cut_short_on_the_way_or_on_disk_is_never_taken_whole(
    tmp_path: Path,
) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=2)
    writer.write(0, [(f"k{i}", [i]) for i in range(2000)])
    writer.write(0, [("last", [0])])
    (segment,) = writer.close(partitions=1)
    assert segment is not None
    packed = pack_segment(segment)
    with pytest.raises(WorkFolderError, match=r"holds \d+ bytes where its map task wrote"):
        unpack_segment(InMemory(packed[:-100]), str(tmp_path / "moved"))
    with pytest.raises(WorkFolderError, match="came without its header"):
        unpack_segment(InMemory(packed[:5]), str(tmp_path / "moved-again"))
    os.truncate(segment.path, segment.ranges[-1][0] + 10)
    with pytest.raises(WorkFolderError, match=r"task.seg' in the work folder ends at byte"):
        list(read_segments([segment], bucket=0))
    with pytest.raises(WorkFolderError, match="cut it short"):
        pack_segment(segment)
    os.truncate(segment.path, segment.ranges[0][0] + 10)
    with pytest.raises(WorkFolderError, match=r"task.seg' in the work folder (ends|holds less)"):
        list(read_segments([segment]))


def test_a_large_range_reads_back_a_buffer_at_a_time(tmp_path: Path) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=2)
    hot = [("hot", [f"value {n:07d}" for n in range(200_000)])]  # one range of ~3 MiB
    writer.write(1, [("cold", [1])])
    writer.write(1, hot)
    writer.write(1, [("cold", [2])])
    (segment,) = writer.close(partitions=1)
    assert segment is not None and max(end - start for start, end in segment.ranges) > BUFFER
    read = list(read_segments([segment], bucket=1))
    assert [key for key, _ in read if key == "cold"] == ["cold", "cold"]
    assert [value for key, values in read if key == "hot" for value in values] == hot[0][1]

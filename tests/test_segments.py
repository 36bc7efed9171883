"""The spill format: what is written is read back, and reading says how far it got."""

from __future__ import annotations

from pathlib import Path

from simplemr.shuffle.segments import ReadProgress, SegmentWriter, load_segment, read_segments


def test_segments_read_back_from_file_or_bytes_counting_every_byte(tmp_path: Path) -> None:
    writer = SegmentWriter(str(tmp_path / "task.seg"), partitions=2)
    for spill in range(3):
        writer.write(0, [(f"k{spill}-{i}", list(range(i))) for i in range(3000)])
        writer.write(1, [("other", [spill])])
    first, second = writer.close()
    assert first is not None and second is not None
    for source in (first, load_segment(first)):
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
    # Loaded into bytes (an in-memory executor), a segment holds every bucket.
    assert len(list(read_segments([load_segment(first)], bucket=2))) == 6

"""The work folder cannot be taken over: no temp root others can write without the
sticky bit, every file private whatever the umask, nothing read that another user owns."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import simplemr
from simplemr.errors import WorkFolderError
from simplemr.io.workdir import create_private, open_own


def test_a_temp_root_others_can_write_without_the_sticky_bit_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o777)
    job = simplemr.MapReduce(lambda n: [(n, 1)], lambda k, v: k, executor="inline",
                             tmp_dir=str(root))  # fmt: skip
    with pytest.raises(
        simplemr.JobDefinitionError, match="other users can write in it and it has no sticky bit"
    ):
        job.run([1])
    root.chmod(0o777 | stat.S_ISVTX)  # as /tmp
    assert job.run([1]).results == [1]
    root.chmod(0o775)  # the user's own group, as a umask of 002 makes folders
    if os.stat(root).st_gid == os.getgid():
        assert job.run([1]).results == [1]


def test_every_file_of_the_work_folder_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        # Inline, so the files are made under this umask (a fork server keeps its own).
        job = simplemr.MapReduce(lambda n: [(n % 7, n)], lambda k, v: (k, sorted(v)),
                                 executor="inline", memory="32KB", partitions=3,
                                 tmp_dir=str(tmp_path))  # fmt: skip
        with job.stream(range(20_000)) as results:
            modes = {
                path.name: stat.S_IMODE(path.stat().st_mode)
                for path in tmp_path.rglob("*") if path.is_file()
            }  # fmt: skip
            assert len(list(results)) == 7
    finally:
        os.umask(previous)
    assert modes, "the job wrote no files"
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_file_another_user_owns_is_never_read(tmp_path: Path) -> None:
    planted = tmp_path / "1-reduce-00000-1.results"
    with create_private(str(planted)) as file:
        file.write(b"not ours")
    os.chown(planted, 65534, 65534)  # nobody
    with pytest.raises(WorkFolderError, match="belongs to another user"):
        open_own(str(planted))
    link = tmp_path / "link.seg"
    link.symlink_to(planted)
    with pytest.raises(OSError):  # never through a link
        open_own(str(link))

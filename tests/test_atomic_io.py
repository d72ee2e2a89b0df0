"""atomic_write's order on a real filesystem: write, fsync, rename, folder fsync."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from codexsnap.atomic_io import TEMP_SUFFIX, atomic_write, leftover_temps, temp_path_for


def test_the_target_is_untouched_until_a_synced_temp_file_is_renamed_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real calls still run: these spies only watch what reaches the disk, and when.
    folder = tmp_path / "home"
    folder.mkdir()
    target = folder / "state.json"
    target.write_bytes(b"old")
    events: list[tuple[str, Any]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            events.append(("fsync-folder", None))
        else:
            events.append(("fsync-file", os.fstat(fd).st_size))
        real_fsync(fd)

    def replace(source: Any, destination: Any) -> None:
        events.append(("replace", (Path(source).read_bytes(), Path(destination).read_bytes())))
        assert Path(source).parent == Path(destination).parent  # same folder: atomic rename
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(target, b"new content")

    assert [name for name, _ in events] == ["fsync-file", "replace", "fsync-folder"]
    assert events[0][1] == len(b"new content")  # all data was written before its fsync
    assert events[1][1] == (b"new content", b"old")  # the old bytes stay until the rename
    assert target.read_bytes() == b"new content"
    assert list(folder.iterdir()) == [target]


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    target = folder / "state.json"
    target.write_bytes(b"old")

    def refuse(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert list(folder.iterdir()) == [target]


@pytest.mark.parametrize("length", [200, 232, 240, 255])
def test_names_up_to_the_filesystem_limit_are_written(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("é" * ((length - 1) // 2) + "x" * ((length - 1) % 2 + 1))
    assert len(os.fsencode(target.name)) == length
    atomic_write(target, b"data")
    assert target.read_bytes() == b"data"
    assert len(os.fsencode(temp_path_for(target).name)) <= 255


def test_leftovers_of_a_killed_write_are_found_for_long_and_short_names(tmp_path: Path) -> None:
    for name in ("a", "b" * 250):
        target = tmp_path / name
        temp = temp_path_for(target)
        temp.write_bytes(b"half")
        assert temp.name.endswith(TEMP_SUFFIX)
        assert leftover_temps(target) == [temp]
    assert leftover_temps(tmp_path / "a.b") == []  # another file's temp is not ours

"""Ctrl-C and failures while writing: the home is whole, the journal lives only while writes
may be half-done, and the last line says what is true.

Ctrl-C here is what a terminal sends: SIGINT to the whole process group, codexsnap and the
git processes it started (``os.killpg``), fired at codexsnap's own fault points.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.transaction.plan import blob_id
from tests.crashkit import (
    REPO,
    Lab,
    copy_tree,
    home_states,
    journal_files,
    launched,
    leftover_temp_files,
    run_armed,
    snapshot_ids,
)
from tests.helpers import run
from tests.homebuilder import CodexHomeBuilder

GLOBAL = ".codex-global-state.json"


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    """A realistic home with a store that knows it, and a pending fix."""
    lab = Lab(tmp_path / "lab")
    builder = CodexHomeBuilder(lab.home, layout="cli")
    builder.build()
    builder.close()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    return lab


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_ctrl_c_to_the_process_group_between_writes_puts_the_files_back(lab: Lab) -> None:
    old = home_states(lab.home)
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:between-writes:1")
    assert stopped.returncode == 130, stopped.output
    assert last_line(stopped.output) == (
        "Interrupted: 1 file put back; the Codex home is as it was."
    )
    assert home_states(lab.home) == old
    assert journal_files(lab.store) == []


def test_ctrl_c_to_the_process_group_during_the_after_snapshot_puts_every_file_back(
    lab: Lab,
) -> None:
    old = home_states(lab.home)
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:before-after-snapshot:1")
    assert stopped.returncode == 130, stopped.output
    assert last_line(stopped.output) == (
        "Interrupted: 2 files put back; the Codex home is as it was."
    )
    assert home_states(lab.home) == old
    assert journal_files(lab.store) == []


def test_ctrl_c_before_any_write_says_nothing_was_written_and_leaves_no_journal(
    lab: Lab,
) -> None:
    old = home_states(lab.home)
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:after-journal:1")
    assert stopped.returncode == 130, stopped.output
    assert last_line(stopped.output) == (
        "Interrupted: nothing written; the Codex home is as it was."
    )
    assert home_states(lab.home) == old
    assert journal_files(lab.store) == []


def test_ctrl_c_while_the_files_are_staged_writes_nothing_and_leaves_no_temporary_file(
    lab: Lab,
) -> None:
    """The first file's temporary copy is written, none renamed yet: all of them removed."""
    old = home_states(lab.home)
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:staged:1")
    assert stopped.returncode == 130, stopped.output
    assert last_line(stopped.output) == (
        "Interrupted: nothing written; the Codex home is as it was."
    )
    assert home_states(lab.home) == old
    assert leftover_temp_files(lab.home) == []
    assert journal_files(lab.store) == []


def test_ctrl_c_before_the_folders_are_synced_puts_every_renamed_file_back(lab: Lab) -> None:
    old = home_states(lab.home)
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:before-folder-sync:1")
    assert stopped.returncode == 130, stopped.output
    assert last_line(stopped.output) == (
        "Interrupted: 2 files put back; the Codex home is as it was."
    )
    assert home_states(lab.home) == old
    assert journal_files(lab.store) == []


def test_ctrl_c_once_the_change_is_committed_exits_0_and_names_the_snapshot_and_the_undo(
    lab: Lab,
) -> None:
    stopped = run_armed(lab, ["fix", "--yes"], arm="sigint-group:after-commit:1")
    assert stopped.returncode == 0, stopped.output
    line = last_line(stopped.output)
    latest = sorted(snapshot_ids(lab.store, lab.home))
    assert line.startswith("Applied before the interrupt: snapshot "), line
    assert line.split("snapshot ")[1][:8] in {s[:8] for s in latest}
    assert "undo it with: codexsnap undo --codex-home" in line
    assert journal_files(lab.store) == []


def test_ctrl_c_whose_put_back_fails_says_half_recorded_and_keeps_the_journal(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codexsnap.transaction.apply as apply_

    def interrupted(name: str) -> None:
        if name == "between-writes":
            raise KeyboardInterrupt

    def unreadable(*_: object) -> bytes:
        raise ValueError("object could not be read")

    with monkeypatch.context() as patched:
        patched.setattr(apply_, "fault_point", interrupted)
        patched.setattr("codexsnap.store.SnapshotStore.read_blob", unreadable)
        code, _, err = run(CliRunner(), "fix", "--yes", *lab.flags())
    assert code == 130
    assert last_line(err) == (
        "Interrupted: half-recorded: run 'codexsnap recover' to put the written files back."
    )
    assert journal_files(lab.store) != []
    code, out, err = run(CliRunner(), "recover", *lab.flags())
    assert code == 0 and "Recovered an interrupted" in out + err


@pytest.mark.parametrize("error", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_fix_that_cannot_write_into_the_home_leaves_no_journal(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """A read-only home or a full disk: every write fails, the put-back's too."""
    import codexsnap.transaction.apply as apply_
    import codexsnap.transaction.staging as staging

    def refused(path: Path, *_: object, **__: object) -> None:
        raise OSError(error, os.strerror(error), str(path))

    old = home_states(lab.home)
    with monkeypatch.context() as patched:
        # Staging the first file fails, and any put-back would too.
        patched.setattr(staging, "write_temp", refused)
        patched.setattr(apply_, "atomic_write", refused)
        code, _, err = run(CliRunner(), "fix", "--yes", *lab.flags())
    assert code == 10, err
    assert "nothing was written" in err
    assert home_states(lab.home) == old
    assert journal_files(lab.store) == []
    code, out, err = run(CliRunner(), "history", *lab.flags())
    assert code == 0 and "interrupted" not in err
    code, out, err = run(CliRunner(), "recover", *lab.flags())
    assert code == 0 and "Nothing to recover." in out


def test_a_rollback_refused_for_a_link_in_the_way_leaves_no_journal_and_keeps_a_hand_restore(
    lab: Lab, tmp_path: Path
) -> None:
    cli = CliRunner()
    code, out, _ = run(cli, "snapshot", "-m", "base", "--json", *lab.flags())
    assert code == 0
    base = json.loads(out)["id"]
    rules = lab.home / "rules" / "default.rules"
    wanted = rules.read_bytes()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    rules.unlink()
    (lab.home / "rules").rmdir()
    (lab.home / "rules").symlink_to(outside, target_is_directory=True)

    code, _, err = run(
        cli, "rollback", base, "--path", "rules/default.rules", "--yes", *lab.flags()
    )
    assert code == 8, err
    assert "symbolic link" in err
    assert journal_files(lab.store) == []
    assert list(outside.iterdir()) == []

    # The hint: move that link away, or restore that file by hand. The user does both.
    (lab.home / "rules").unlink()
    (lab.home / "rules").mkdir()
    rules.write_bytes(wanted)
    code, out, err = run(cli, "snapshot", "-m", "by hand", *lab.flags())
    assert code == 0, err
    assert "Recovered" not in out + err
    assert rules.read_bytes() == wanted


def occurrence_after(lab: Lab, point: str, after: str) -> str:
    """``point:n``, the first occurrence of ``point`` once a clean fix reached ``after``."""
    census = lab.root / "census.json"
    probe = Lab(lab.root / "probe")
    copy_tree(lab.home, probe.home)
    probe.user_home.mkdir(parents=True)
    clean = run_armed(probe, ["fix", "--yes"], census=census)
    assert clean.returncode == 0, clean.output
    reached = clean.reached
    return f"{point}:{reached[: reached.index(after) + 1].count(point) + 1}"


def test_a_store_full_during_the_after_snapshot_says_the_home_was_changed_and_what_comes_next(
    lab: Lab,
) -> None:
    arm = "enospc:" + occurrence_after(lab, "before-update-ref", "between-writes")
    written = run_armed(lab, ["fix", "--yes"], arm=arm)
    assert written.returncode == 8, written.output
    assert "the Codex home WAS changed (2 files written)" in written.output
    assert "The next codexsnap command will put those files back" in written.output
    assert journal_files(lab.store) != []
    code, out, err = run(CliRunner(), "snapshot", *lab.flags())
    assert code == 0 and "Recovered an interrupted fix" in out + err


@pytest.mark.parametrize("escape", ["../outside.txt", "{outside}"])
def test_a_tampered_journal_never_makes_recover_touch_a_file_outside_the_home(
    lab: Lab, escape: str
) -> None:
    outside = lab.home.parent / "outside.txt"
    outside.write_bytes(b"not Codex's\n")
    killed = run_armed(lab, ["fix", "--yes"], arm="kill:between-writes:1")
    assert killed.killed
    [journal] = journal_files(lab.store)
    data = json.loads(journal.read_text())
    data["entries"].append(
        {
            "path": escape.format(outside=outside),
            "old_blob": None,
            "new_blob": blob_id(outside.read_bytes()),
            "kind": "file",
        }
    )
    journal.write_text(json.dumps(data))
    code, out, err = run(CliRunner(), "recover", *lab.flags())
    assert code == 8, out + err
    assert "is not trustworthy" in err and "unsafe path" in err
    assert outside.read_bytes() == b"not Codex's\n"


# Kills codexsnap the moment it has made its first consistent copy of a database.
_KILL_AFTER_COPY = """
import os, signal, sys
import codexsnap.sqlite_copy as sqlite_copy
backup = sqlite_copy._backup
def killed(uri, destination):
    backup(uri, destination)
    os.kill(os.getpid(), signal.SIGKILL)
sqlite_copy._backup = killed
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


def test_a_run_killed_with_a_database_copy_leaves_it_in_the_store_tmp_which_the_next_clears(
    lab: Lab, tmp_path: Path
) -> None:
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    cli = CliRunner()
    assert run(cli, "snapshot", "-m", "base", *lab.flags())[0] == 0
    (lab.home / "AGENTS.md").write_text("edited\n")  # a change: the next snapshot scans
    db = lab.home / "state_5.sqlite"
    os.utime(db)  # the database is copied again, not taken from the stat cache
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_COPY, "snapshot", "-m", "killed"],
        env={**lab.env(), "TMPDIR": str(system_tmp)},
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(system_tmp.iterdir()) == []
    assert list((lab.store / "tmp").iterdir()) != []  # the copy, private to the store
    assert run(cli, "snapshot", "-m", "next", *lab.flags())[0] == 0
    assert list((lab.store / "tmp").iterdir()) == []


def test_commands_make_their_temporary_copies_inside_the_store(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    made: list[Path] = []
    real = tempfile.mkdtemp

    def watched(*args: object, **kwargs: object) -> str:
        folder: str = real(*args, **kwargs)  # type: ignore[call-overload]
        made.append(Path(folder))
        return folder

    cli = CliRunner()
    assert run(cli, "snapshot", "-m", "base", *lab.flags())[0] == 0
    monkeypatch.setattr(tempfile, "mkdtemp", watched)
    db = lab.home / "state_5.sqlite"
    for args in (
        ("fix", "pairing-reset", "--with-db", "--yes"),
        ("diff",),
        ("check",),
        ("undo", "--yes"),
        ("history",),
    ):
        os.utime(db)
        code, out, err = run(cli, *args, *lab.flags())
        assert code in (0, 1), (args, out, err)
    assert made, "no temporary folder was made: the test sees nothing"
    outside = [p for p in made if lab.store / "tmp" not in p.parents]
    assert outside == []


def test_the_recovery_notice_is_printed_when_it_happens_even_if_the_command_then_fails(
    lab: Lab,
) -> None:
    killed = run_armed(lab, ["fix", "--yes"], arm="kill:between-writes:1")
    assert killed.returncode == -9, killed.output
    assert journal_files(lab.store) != []
    # The rollback recovers first, then finds no such snapshot: exit 7.
    code, _, err = run(CliRunner(), "rollback", "deadbeef", "--yes", *lab.flags())
    assert code == 7, err
    assert journal_files(lab.store) == []  # the killed run was undone...
    lines = err.strip().splitlines()  # ...and the user hears of it before the error
    assert lines[0].startswith("Recovered an interrupted fix remote-control: put back 1 file")
    assert lines[1].startswith("Error: ") and "deadbeef" in lines[1], err


# A Ctrl-C that lands in code run from a string (dataclasses and namedtuple build methods
# with exec while a lazy import runs): CPython then notes an "unhandled" KeyboardInterrupt
# (_Py_UnhandledKeyboardInterrupt), whose note the wrapper reads as the interpreter exits.
_CTRL_C_IN_EXEC = """
import atexit, ctypes, sys
note = ctypes.c_int.in_dll(ctypes.pythonapi, "_Py_UnhandledKeyboardInterrupt")
atexit.register(lambda: sys.stderr.write(f"\\nnoted: {note.value}"))
import codexsnap.store.snapshotting as snapshotting
def interrupted(*args, **kwargs):
    exec("raise KeyboardInterrupt")
snapshotting.StoreSnapshotting.scan = interrupted
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""

# Ctrl-C after the command has printed its last line, on the interpreter's way out.
_CTRL_C_AT_EXIT = """
import atexit, os, signal, sys
atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


# "--message -x" is a value click takes and the lean parser leaves to it: the Typer path.
@pytest.mark.parametrize("args", [["snapshot"], ["snapshot", "--message", "-x"]], ids=str)
def test_a_handled_ctrl_c_leaves_no_unhandled_interrupt_noted(lab: Lab, args: list[str]) -> None:
    """With the note left, `python -m codexsnap` died by SIGINT (exit -2) after its last line
    said 'nothing written' and meant 130: 23 of 300 Ctrl-Cs timed into a snapshot's start,
    0 of 300 once the note is cleared (cli/start.py, forget_unhandled_interrupt)."""
    try:
        import ctypes

        ctypes.c_int.in_dll(ctypes.pythonapi, "_Py_UnhandledKeyboardInterrupt")
    except (ImportError, ValueError, AttributeError):
        pytest.skip("this interpreter keeps no such note where ctypes can read it")
    stopped = launched(lab, "-c", _CTRL_C_IN_EXEC, *args)
    said = [line for line in stopped.stderr.splitlines() if line]
    assert said[-2:] == ["Interrupted: nothing written; the Codex home is as it was.", "noted: 0"]
    assert stopped.returncode == 130, stopped.stderr


@pytest.mark.parametrize("args", [["snapshot"], ["snapshot", "--message", "-x"]], ids=str)
def test_a_ctrl_c_after_the_last_line_leaves_the_exit_code_of_the_work(
    lab: Lab, args: list[str]
) -> None:
    done = launched(lab, "-c", _CTRL_C_AT_EXIT, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Snapshot "), done.stdout
    assert "KeyboardInterrupt" not in done.stderr, done.stderr


# Ctrl-C while a class is made (a lazy import) once the files are written: Python 3.11 wraps
# the KeyboardInterrupt raised in a descriptor's __set_name__ in a RuntimeError, which the
# transaction's put-back does not take for an interrupt.
_CTRL_C_IN_SET_NAME = """
import sys
import codexsnap.transaction.operation as operation
class Descriptor:
    def __set_name__(self, owner, name):
        raise KeyboardInterrupt
real = operation.fault_point
def fault_point(name):
    if name == "before-after-snapshot":
        type("Made", (), {"field": Descriptor()})
    real(name)
operation.fault_point = fault_point
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


def test_a_ctrl_c_python_wrapped_after_the_writes_never_says_nothing_was_written(
    lab: Lab,
) -> None:
    """Taken for an interrupt by the error choke point, it said 'Interrupted: nothing
    written' (exit 130) over a written home and a journal; the true line is the error's,
    and the next command's notice of the interrupted run."""
    stopped = launched(lab, "-c", _CTRL_C_IN_SET_NAME, "fix", "--yes")
    assert "nothing written" not in stopped.stderr, stopped.stderr
    assert stopped.returncode != 130, stopped.stderr
    assert journal_files(lab.store), "the run left its journal: recover puts the files back"
    done = launched(lab, "-m", "codexsnap", "recover")
    assert done.returncode == 0, done.stderr
    assert not journal_files(lab.store)


# Ctrl-C after a plain snapshot was committed, while its line is being made.
_CTRL_C_AFTER_THE_SNAPSHOT = """
import sys
import codexsnap.cli.text as text
def interrupted(*args, **kwargs):
    raise KeyboardInterrupt
text.snapshot_text = interrupted
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("args", [["snapshot"], ["snapshot", "--message", "-x"]], ids=str)
def test_a_ctrl_c_after_a_snapshot_was_taken_names_it_and_exits_0(
    lab: Lab, args: list[str]
) -> None:
    """It said 'nothing written' and exit 130: true of the home, but a script took the
    snapshot for not made."""
    before = snapshot_ids(lab.store, lab.home)
    (lab.home / "AGENTS.md").write_text("a change to snapshot\n")
    stopped = launched(lab, "-c", _CTRL_C_AFTER_THE_SNAPSHOT, *args)
    made = snapshot_ids(lab.store, lab.home) - before
    assert len(made) == 1, made
    newest = made.pop()[:10]
    assert last_line(stopped.stderr) == (
        f"Interrupted after snapshot {newest} was taken; nothing in the Codex home was written."
    )
    assert stopped.returncode == 0, stopped.stderr


# Ctrl-C as a fix finishes: the "after" snapshot is committed, and the journal is being
# removed (before its file goes, or after, while its folder is synced).
_CTRL_C_AS_THE_JOURNAL_GOES = """
import sys
from codexsnap.transaction.journal import JournalFile
mode = sys.argv[1]
real = JournalFile.clear
def clear(self):
    if mode == "after-unlink":
        real(self)
    raise KeyboardInterrupt
JournalFile.clear = clear
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[2:]]
main()
"""


def test_a_ctrl_c_as_the_journal_goes_says_what_is_true(lab: Lab) -> None:
    """Once the journal was gone the line said 'nothing written' (exit 130) over the fixed
    home: the full crash suite's timer found it (fix / ctrl-c-timer 0.339 s)."""
    old = home_states(lab.home)
    done = launched(lab, "-c", _CTRL_C_AS_THE_JOURNAL_GOES, "after-unlink", "fix", "--yes")
    assert last_line(done.stderr).startswith("Applied before the interrupt: snapshot "), done.stderr
    assert done.returncode == 0
    assert not journal_files(lab.store) and home_states(lab.home) != old


def test_a_ctrl_c_before_the_journal_goes_says_half_recorded(lab: Lab) -> None:
    old = home_states(lab.home)
    done = launched(lab, "-c", _CTRL_C_AS_THE_JOURNAL_GOES, "before-unlink", "fix", "--yes")
    assert last_line(done.stderr).startswith("Interrupted: half-recorded"), done.stderr
    assert done.returncode == 130
    assert journal_files(lab.store)
    assert launched(lab, "-m", "codexsnap", "recover").returncode == 0
    assert home_states(lab.home) == old

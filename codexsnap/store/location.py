"""The store folder: whether a folder is a store, creating one, checking its format.

``store_state`` is the one answer to "is this folder a store?": the commands, recovery and
doctor all ask it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Literal

from codexsnap import __version__
from codexsnap.atomic_io import atomic_write
from codexsnap.errors import StoreError
from codexsnap.scratch import clear_dead, remove_tree
from codexsnap.store.git import GitRepository, check_git_version

STORE_FORMAT = 1
MARKER = "codexsnap-store.json"
# What a store folder holds; a creation killed before the marker leaves only these.
OWN_ENTRIES = ("repo.git", "cache", "tmp", "no-hooks", "empty-template")
_ALSO_OURS = ("codexsnap.lock", "codexsnap.lock.pid", "scope.toml", "retention.toml")

StoreState = Literal["absent", "empty", "store", "foreign"]


def store_state(root: Path) -> StoreState:
    """What is at ``root``: nothing, a folder a store may be created in, a store, or else.

    "empty" includes a folder holding only a ``scope.toml`` (written before the first
    snapshot) or what a killed creation left: both are valid places for a store.
    """
    try:
        if root.exists() and not root.is_dir():
            return "foreign"
        if (root / MARKER).is_file():
            return "store"
        names = [entry.name for entry in os.scandir(root)]
    except FileNotFoundError:
        return "absent"
    except NotADirectoryError:
        raise StoreError(
            f"the store path {root} lies under a file, not a folder",
            hint="Choose a store path whose parent folders exist or can be made, with --store.",
        ) from None
    except PermissionError as exc:
        raise unreadable_store(root, exc) from None
    own = (*OWN_ENTRIES, *_ALSO_OURS)
    if any(n not in own and not n.endswith(".codexsnap-tmp") for n in names):
        return "foreign"
    return "empty"


def unreadable_store(root: Path, exc: OSError) -> StoreError:
    """The error of a store folder codexsnap may not read (another owner, a mode of 000)."""
    return StoreError(
        f"the store {root} cannot be read ({exc.strerror or exc}); nothing was changed",
        hint="Run codexsnap as the store's owner, or give it back read and write permission "
        "(chmod -R u+rwX).",
    )


def check_writable(root: Path, git_dir: Path) -> None:
    """Refuse a store codexsnap cannot write to before it starts (read-only, immutable, or
    owned by someone else), instead of failing half-way through its first write to it."""
    for folder in (root, git_dir / "objects"):
        probe = folder / f".write-probe-{os.getpid()}.codexsnap-tmp"
        try:
            fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            os.unlink(probe)
        except FileExistsError:
            os.unlink(probe)  # a killed run of this pid's predecessor: it was writable
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StoreError(
                    f"cannot write to the store {root} ({exc.strerror or exc}); nothing was "
                    "changed",
                    hint="Free disk space in the store's folder, then run the command again.",
                ) from None
            raise StoreError(
                f"the store {root} is read-only ({exc.strerror or exc}); nothing was changed",
                hint="Make it writable again (chmod -R u+w, or remount it read-write), or "
                "give another store with --store.",
            ) from None


def journal_path(root: Path, home: Path) -> Path:
    """Where the journal of an operation on ``home`` lives in the store at ``root``
    (transaction/journal.py writes and reads it)."""
    from codexsnap.store.index import home_id

    return root / "journal" / f"{home_id(home)}.json"


def journal_pending(home: Path, root: Path) -> bool:
    """True when an interrupted operation on this home awaits recovery: only a look for
    the file, so that reading commands can warn without loading the transaction code."""
    return store_exists(root) and journal_path(root, home).exists()


def store_exists(root: Path) -> bool:
    """True when a store was created at ``root``; anything else in its place is an error."""
    state = store_state(root)
    if state == "foreign" and not root.is_dir():
        raise StoreError(
            f"the store path {root} is a file, not a folder",
            hint="Move that file away or choose another store with --store.",
        )
    if state == "foreign":
        raise StoreError(
            f"{root} is not a codexsnap store (no {MARKER}) and is not empty",
            hint="Choose an empty or new folder with --store.",
        )
    return state == "store"


def clear_half_created(root: Path) -> None:
    """Remove what a creation killed before the marker was written left (store locked)."""
    for name in OWN_ENTRIES:
        remove_tree(root / name)
    for leftover in root.glob("*.codexsnap-tmp"):
        leftover.unlink()


def clear_leftovers(root: Path, git_dir: Path) -> None:
    """Clear what a killed run left: git's lock files, the scratch folder (store locked)."""
    # We hold the store lock, so any git lock file is a dead run's: git would refuse
    # every ref update until someone removed it by hand.
    locks = [*(git_dir / "refs").rglob("*.lock")]
    locks += [
        git_dir / n
        for n in ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")
    ]
    # Only codexsnap writes objects or runs git gc in the store, and only under the lock: a
    # gc.pid is a killed gc's (git would refuse to gc for 12 hours), and git's temporary
    # objects and packs are a killed or disk-full write's (they would keep the disk full).
    locks.append(git_dir / "gc.pid")
    objects = git_dir / "objects"
    locks += [*objects.glob("??/tmp_obj_*"), *objects.glob("tmp_obj_*")]
    locks += [*objects.glob("pack/tmp_*"), *objects.glob("pack/.tmp-*")]
    # A fast-import killed as it finished (store/git_pack.py) leaves its .keep (which would
    # keep its pack out of every roll-up), maybe a pack whose index never came (nothing
    # names its objects: no ref moves before both are in place), and its crash report.
    locks += [*objects.glob("pack/pack-*.keep"), *git_dir.glob("fast_import_crash_*")]
    locks += [p for p in objects.glob("pack/pack-*.pack") if not p.with_suffix(".idx").exists()]
    for lock in locks:
        with contextlib.suppress(OSError):
            lock.unlink()
    for incoming in objects.glob("incoming-*"):
        remove_tree(incoming)
    scratch = root / "tmp"
    scratch.mkdir(mode=0o700, exist_ok=True)
    clear_dead(scratch)  # a live reader's copies (diff scans unlocked) stay


def create_store(git: GitRepository) -> None:
    """Build an empty store at ``git.root``: folders, the bare repository, the marker last."""
    root = git.root
    check_git_version()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    for sub in ("cache", "tmp", "no-hooks", "empty-template"):
        (root / sub).mkdir(mode=0o700, exist_ok=True)
    git.run(
        "init",
        "--bare",
        "--quiet",
        f"--template={root / 'empty-template'}",
        str(git.git_dir),
        git_dir=False,
    )
    settings = {
        "core.hooksPath": str(root / "no-hooks"),
        "core.sharedRepository": "0600",
        "core.autocrlf": "false",
        "core.fsmonitor": "false",
        "core.logAllRefUpdates": "always",
        "commit.gpgSign": "false",
        "gc.auto": "0",
        # A fix writes the home with fsync; its "before" snapshot must be as durable.
        "core.fsync": "committed,reference",  # git 2.36+; older git ignores it
    }
    for key, value in settings.items():
        git.run("config", key, value)
    info = git.git_dir / "info"
    info.mkdir(mode=0o700, exist_ok=True)
    # No content conversion of any kind: the bytes restored must be the bytes stored.
    (info / "attributes").write_text("* -text -eol -filter -diff -merge -ident\n")
    os.chmod(info / "attributes", 0o600)
    marker = {"format": STORE_FORMAT, "created_by": f"codexsnap {__version__}"}
    # Written last and atomically: a store with a marker is a complete store.
    atomic_write(root / MARKER, (json.dumps(marker) + "\n").encode(), mode=0o600)


def check_format(root: Path, git_dir: Path) -> None:
    """Refuse a damaged marker, a newer format, or a store without its repository."""
    marker = root / MARKER
    try:
        data = json.loads(marker.read_text())
        version = int(data["format"])
    except PermissionError as exc:
        raise unreadable_store(root, exc) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise StoreError(
            f"{marker} is damaged", hint="Restore it, or start a new store with --store."
        ) from None
    if version > STORE_FORMAT:
        raise StoreError(
            f"the store {root} was written by a newer codexsnap (format {version})",
            hint="Upgrade codexsnap: pip install --upgrade codexsnap.",
        )
    if not git_dir.is_dir():
        raise StoreError(f"the store {root} has no repository", hint="Restore it.")

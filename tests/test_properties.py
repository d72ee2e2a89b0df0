"""Properties checked on generated input (Hypothesis): minimal JSON edits, fixes that keep every
other byte, rollbacks that restore exact bytes and modes and can themselves be undone, dry runs
that write nothing.

Each example gets its own home and store in a fresh temporary folder (function-scoped fixtures
would be shared between examples). No example database is written into the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codexsnap.codex_files import ENROLLMENT_KEY
from codexsnap.commands.fix import FixResult, fix
from codexsnap.commands.rollback import RollbackResult, rollback
from codexsnap.commands.snapshot import snapshot
from codexsnap.errors import CodexsnapError
from codexsnap.json_edit import member_texts, remove_top_level_keys, replace_top_level_value
from codexsnap.recipes import RecipeOptions
from codexsnap.recipes.remote_control import CLEAN_KEYS
from tests.helpers import file_states
from tests.homebuilder import enrollments

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
REMOVABLE = frozenset({ENROLLMENT_KEY, *CLEAN_KEYS})

States = dict[str, tuple[bytes, int]]

# Store operations run git: a few examples each keep the file well under its time budget.
_SLOW = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_SEQUENCES = settings(_SLOW, max_examples=20)
_FAST = settings(max_examples=150, deadline=None, database=None)


# ----- generated JSON --------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
member_keys = st.text(max_size=10).filter(lambda key: key not in REMOVABLE)


@dataclass(frozen=True)
class Style:
    """How a document was serialized: what json.dumps was given, and what surrounds it."""

    indent: int | str | None
    separators: tuple[str, str]
    ensure_ascii: bool
    trailing: str

    def dump(self, value: Any) -> str:
        text = json.dumps(
            value, indent=self.indent, separators=self.separators, ensure_ascii=self.ensure_ascii
        )
        return text + self.trailing


styles = st.builds(
    Style,
    indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
    ensure_ascii=st.booleans(),
    trailing=st.sampled_from(["", "\n", "\r\n", " \n"]),
)


@st.composite
def global_states(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A top-level object with the remote-control members mixed in at random places."""
    members = draw(st.dictionaries(member_keys, json_values, max_size=8))
    items = list(members.items())
    present: set[str] = set()
    for key in draw(st.lists(st.sampled_from(sorted(REMOVABLE)), unique=True, max_size=3)):
        value: Any = enrollments() if key == ENROLLMENT_KEY else draw(json_values)
        items.insert(draw(st.integers(0, len(items))), (key, value))
        present.add(key)
    return dict(items), present


# ----- homes and stores ------------------------------------------------------------------


@contextlib.contextmanager
def fresh_home() -> Iterator[tuple[Path, Path]]:
    """A canonical home folder and a store path beside it, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="codexsnap-prop-") as scratch:
        root = Path(scratch).resolve()
        home = root / "home"
        home.mkdir()
        (home / "config.toml").write_bytes(b'model = "gpt-5-codex"\n')
        yield home, root / "store"


def yes(_: object) -> bool:
    return True


def run_fix(
    home: Path, store: Path, recipe: str, options: RecipeOptions, dry_run: bool = False
) -> FixResult:
    # Forced: these properties are about bytes, not about which processes run here.
    return fix(
        home,
        store,
        recipe,
        options,
        dry_run=dry_run,
        force=True,
        show_secrets=False,
        confirm=lambda r: True,
    )


def run_rollback(
    home: Path, store: Path, snapshot_id: str, dry_run: bool = False
) -> RollbackResult:
    return rollback(
        home, store, snapshot_id, dry_run=dry_run, force=True, show_secrets=False, confirm=yes
    )


def everything(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` with its mode and mtime, and content for files and links."""
    if not root.exists():
        return {}
    found: dict[str, tuple[Any, ...]] = {}
    for path in [root, *root.rglob("*")]:
        st_ = path.lstat()
        content: str | None = None
        if stat.S_ISLNK(st_.st_mode):
            content = os.readlink(path)
        elif stat.S_ISREG(st_.st_mode):
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        found[path.relative_to(root).as_posix()] = (st_.st_mode, st_.st_mtime_ns, content)
    return found


# ----- 1. json_edit against json.loads ---------------------------------------------------


@dataclass(frozen=True)
class Spaced:
    """A document with random whitespace around every top-level token, and its parts."""

    head: str  # up to the first member
    members: list[tuple[str, Any]]
    pieces: list[str]  # each member's text: "key" : value
    separators: list[str]  # the text after each member up to the next ("" for the last)
    tail: str  # after the last member

    @property
    def text(self) -> str:
        body = "".join(p + s for p, s in zip(self.pieces, self.separators, strict=True))
        return self.head + body + self.tail


@st.composite
def spaced_documents(draw: st.DrawFn) -> Spaced:
    members = list(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=6)).items())
    blanks = st.text(alphabet=" \t\r\n", max_size=3)
    pieces = [
        json.dumps(key, ensure_ascii=draw(st.booleans()))
        + draw(blanks)
        + ":"
        + draw(blanks)
        + json.dumps(value, indent=draw(st.sampled_from([None, 1, 2])), ensure_ascii=False)
        for key, value in members
    ]
    separators = [draw(blanks) + "," + draw(blanks) for _ in pieces[1:]] + [""][: len(pieces)]
    head = draw(blanks) + "{" + draw(blanks)
    tail = draw(blanks) + "}" + draw(blanks)
    return Spaced(head, members, pieces, separators, tail)


@_FAST
@given(document=spaced_documents(), data=st.data())
def test_remove_top_level_keys_matches_json_loads_and_keeps_every_other_byte(
    document: Spaced, data: st.DataObject
) -> None:
    text = document.text
    keys = sorted(key for key, _ in document.members)
    removed = data.draw(st.sets(st.sampled_from(keys))) if keys else set()
    removed |= data.draw(st.sets(st.text(max_size=3), max_size=2))  # absent keys are ignored
    result = remove_top_level_keys(text, removed)

    expected = [(k, v) for k, v in json.loads(text).items() if k not in removed]
    assert list(json.loads(result).items()) == expected
    kept = [i for i, (key, _) in enumerate(document.members) if key not in removed]
    if len(kept) == len(document.members):
        assert result == text
    elif not kept:  # "{}", as JSON.stringify writes an empty object
        assert result == document.head.rstrip(" \t\r\n") + document.tail.lstrip(" \t\r\n")
    else:
        # Each kept member keeps the separator that followed it; the last kept one is
        # followed by what closed the object; what came before the first member stays.
        pieces, separators = document.pieces, document.separators
        body = "".join(pieces[i] + separators[i] for i in kept[:-1]) + pieces[kept[-1]]
        assert result == document.head + body + document.tail


@_FAST
@given(document=st.dictionaries(member_keys, json_values, min_size=1, max_size=6), style=styles)
def test_remove_top_level_keys_of_a_serialized_object_is_that_object_serialized_without_them(
    document: dict[str, Any], style: Style
) -> None:
    text = style.dump(document)
    for key in document:
        expected = style.dump({k: v for k, v in document.items() if k != key})
        assert remove_top_level_keys(text, {key}) == expected


@_FAST
@given(
    document=st.dictionaries(member_keys, json_values, min_size=1, max_size=6),
    style=styles,
    value=json_values,
    data=st.data(),
)
def test_replace_top_level_value_matches_json_loads_and_keeps_the_other_members(
    document: dict[str, Any], style: Style, value: Any, data: st.DataObject
) -> None:
    text = style.dump(document)
    key = data.draw(st.sampled_from(sorted(document)))
    result = replace_top_level_value(text, key, value)

    assert list(json.loads(result).items()) == list({**document, key: value}.items())
    before, after = member_texts(text), member_texts(result)
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key
    }
    assert result.endswith(style.trailing)
    # In the styles JSON.stringify and Python write (compact, ", "/": ", or indented by
    # spaces) the new value takes the file's own style: the result is that serialization.
    app_style = (
        (style.indent is None and style.separators == (",", ":") and '": ' not in text)
        or (style.indent is None and style.separators == (", ", ": "))
        or (isinstance(style.indent, int) and style.indent > 0 and style.separators == (",", ": "))
    )
    if app_style and not style.ensure_ascii:
        assert result == style.dump({**document, key: value})


# ----- 2. fix keeps every other member and byte ------------------------------------------


@_SLOW
@given(
    state=global_states(),
    style=styles,
    clean=st.booleans(),
    bak=st.sampled_from(["same", "absent", "older", "garbage"]),
)
def test_fix_removes_only_the_enrollment_members_and_the_bak_mirrors_the_result(
    state: tuple[dict[str, Any], set[str]], style: Style, clean: bool, bak: str
) -> None:
    document, present = state
    removed = {ENROLLMENT_KEY, *(CLEAN_KEYS if clean else ())}
    raw = style.dump(document).encode("utf-8")
    bak_raw = {"same": raw, "older": b'{"older":true}', "garbage": b"\x00" * 16}.get(bak)
    with fresh_home() as (home, store):
        (home / GLOBAL).write_bytes(raw)
        if bak_raw is not None:
            (home / BAK).write_bytes(bak_raw)
        others = {p: s for p, s in file_states(home).items() if p not in (GLOBAL, BAK)}

        result = run_fix(home, store, "remote-control", RecipeOptions(clean=clean))

        primary = (home / GLOBAL).read_bytes()
        kept = {k: v for k, v in document.items() if k not in removed}
        assert list(json.loads(primary).items()) == list(kept.items())
        # Every byte outside the removed members stays: the same serialization, without them.
        assert primary == style.dump(kept).encode("utf-8")
        edited = bool(present & removed)
        assert result.changed == (edited or bak == "garbage")
        if bak_raw is None:
            assert not (home / BAK).exists()
        elif edited or bak == "garbage":
            assert (home / BAK).read_bytes() == primary
        else:
            assert (home / BAK).read_bytes() == bak_raw
        assert {p: s for p, s in file_states(home).items() if p not in (GLOBAL, BAK)} == others


# ----- 3. rollback restores exact bytes and modes, and is undoable -----------------------

PATHS = (
    GLOBAL,
    BAK,
    "AGENTS.md",
    "installation_id",
    "rules/default.rules",
    "memories/ünï cödé.md",
    "deep",
    "deep/x/y.txt",
)


@dataclass(frozen=True)
class Step:
    """One thing done to the home: an edit, a snapshot, or a recipe."""

    kind: str  # write, state, chmod, delete, link, snapshot, fix
    path: str = ""
    data: bytes = b""
    mode: int = 0o644
    target: str = ""


steps = st.one_of(
    st.builds(
        Step, kind=st.just("write"), path=st.sampled_from(PATHS), data=st.binary(max_size=40)
    ),
    st.builds(Step, kind=st.just("state"), data=st.sampled_from([b"with", b"without"])),
    st.builds(
        Step,
        kind=st.just("chmod"),
        path=st.sampled_from(PATHS),
        mode=st.sampled_from([0o600, 0o644, 0o640, 0o700, 0o755, 0o444]),
    ),
    st.builds(Step, kind=st.just("delete"), path=st.sampled_from(PATHS)),
    st.builds(
        Step,
        kind=st.just("link"),
        path=st.sampled_from(PATHS),
        target=st.sampled_from(["AGENTS.md", "rules", "../outside", "/nonexistent/x"]),
    ).filter(lambda step: step.path != step.target),  # a link loop: see test_bad_input.py
    st.builds(Step, kind=st.just("snapshot")),
    st.builds(
        Step,
        kind=st.just("fix"),
        target=st.sampled_from(["remote-control", "pairing-reset", "new-installation-id"]),
    ),
)


def clear_the_way(home: Path, relpath: str) -> Path:
    """Make room for a file at ``relpath``: no file or link where a folder must be, and no
    folder where the file goes."""
    current = home
    for part in Path(relpath).parts[:-1]:
        current = current / part
        if current.is_symlink() or current.is_file():
            current.unlink()
    target = home / relpath
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def state_document(with_enrollment: bool) -> bytes:
    document: dict[str, Any] = {"local-projects": [{"path": "/Users/ana/src/api"}], "n": 1}
    if with_enrollment:
        document[ENROLLMENT_KEY] = enrollments()
        document["codex-mobile-has-connected-device"] = True
    return json.dumps(document, indent=2).encode()


def apply_edit(home: Path, step: Step) -> None:
    target = home / step.path
    if step.kind == "write":
        clear_the_way(home, step.path).write_bytes(step.data)
    elif step.kind == "state":
        for name in (GLOBAL, BAK):
            clear_the_way(home, name).write_bytes(state_document(step.data == b"with"))
    elif step.kind == "chmod" and target.is_file() and not target.is_symlink():
        target.chmod(step.mode)
    elif step.kind == "delete" and (target.is_symlink() or target.is_file()):
        target.unlink()
    elif step.kind == "link":
        clear_the_way(home, step.path).symlink_to(step.target)


@_SEQUENCES
@given(script=st.lists(steps, min_size=1, max_size=8), data=st.data())
def test_rollback_restores_every_snapshot_exactly_and_its_undo_returns(
    script: list[Step], data: st.DataObject
) -> None:
    with fresh_home() as (home, store):
        (home / "AGENTS.md").write_bytes(b"# rules\n")
        recorded: dict[str, States] = {
            snapshot(home, store, "start").snapshot.id: file_states(home)
        }
        for step in script:
            now = file_states(home)
            if step.kind == "snapshot":
                recorded[snapshot(home, store, "").snapshot.id] = now
            elif step.kind == "fix":
                try:
                    result = run_fix(home, store, step.target, RecipeOptions())
                except CodexsnapError:
                    assert file_states(home) == now  # a refused fix changes nothing
                    continue
                for taken in (result.drift, result.snapshot_before):
                    if taken is not None:
                        recorded[taken.id] = now
                if result.snapshot_after is not None:
                    recorded[result.snapshot_after.id] = file_states(home)
            else:
                apply_edit(home, step)

        target = data.draw(st.sampled_from(sorted(recorded)))
        current = file_states(home)
        back = run_rollback(home, store, target)
        assert file_states(home) == recorded[target]
        if back.snapshot_before is not None:
            run_rollback(home, store, back.snapshot_before.id)
        assert file_states(home) == current


# ----- 4. dry runs write nothing ---------------------------------------------------------


@_SLOW
@given(
    before=st.lists(steps.filter(lambda s: s.kind not in ("snapshot", "fix")), max_size=4),
    after=st.lists(steps.filter(lambda s: s.kind not in ("snapshot", "fix")), max_size=4),
    with_store=st.booleans(),
    recipe=st.sampled_from(["remote-control", "pairing-reset", "new-installation-id"]),
)
def test_dry_runs_change_no_byte_of_the_home_or_the_store(
    before: list[Step], after: list[Step], with_store: bool, recipe: str
) -> None:
    with fresh_home() as (home, store):
        for name in (GLOBAL, BAK):
            (home / name).write_bytes(state_document(True))
        (home / "installation_id").write_bytes(b"0f1e2d3c\n")
        for step in before:
            apply_edit(home, step)
        base = snapshot(home, store, "base").snapshot.id if with_store else None
        for step in after:
            apply_edit(home, step)
        home_before, store_before = everything(home), everything(store)

        with contextlib.suppress(CodexsnapError):  # refusing is fine; writing is not
            run_fix(home, store, recipe, RecipeOptions(), dry_run=True)
        assert everything(home) == home_before
        assert everything(store) == store_before
        if base is not None:
            with contextlib.suppress(CodexsnapError):
                run_rollback(home, store, base, dry_run=True)
            assert everything(home) == home_before
            assert everything(store) == store_before

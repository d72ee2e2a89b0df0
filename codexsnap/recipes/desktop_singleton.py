"""desktop-singleton: remove the Linux desktop app's single-instance lock a dead app left.

Symptom: on Linux the desktop app will not start: "The profile appears to be in use by
another Codex process" (openai/codex #38254). Chromium's ``SingletonLock`` in
``~/.config/Codex`` names ``<hostname>-<pid>``; when that process is dead, the lock and its
``SingletonSocket`` and ``SingletonCookie`` are stale. Runtime files: the app makes new ones.
"""

from __future__ import annotations

from codexsnap.codex_files import SINGLETON_FILES, singleton_owner
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse
from codexsnap.roots import PROFILE_PREFIX

LOCK = SINGLETON_FILES[0]


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Remove the three files, but only when the lock names a dead process of this host."""
    if not evidence.platform.startswith("linux"):
        raise refuse(
            "desktop-singleton is for the Linux desktop app (~/.config/Codex)",
            hint="macOS and Windows keep their single-instance lock elsewhere; quit and "
            "restart Codex there.",
        )
    present = dict(evidence.singleton_files)
    if not present:
        return {}
    if LOCK in present:
        owner = singleton_owner(present[LOCK])
        if owner is None:
            raise refuse(
                f"~/.config/Codex/{LOCK} names no process ({present[LOCK]!r})",
                hint="Quit every Codex window, then remove it by hand if the app still "
                "refuses to start.",
            )
        host, pid = owner
        if host != evidence.hostname:
            raise refuse(
                f"{LOCK} was made on {host}, not on this computer ({evidence.hostname}): "
                "whether that Codex runs cannot be seen from here",
                hint="Quit Codex on that computer first (a profile shared over the network).",
            )
        if pid in evidence.live_pids:
            raise refuse(
                f"{LOCK} names pid {pid}, which is alive: the profile is in use",
                hint=f"Quit that Codex (or end pid {pid} if it hangs), then start the app again.",
            )
    return {PROFILE_PREFIX + name: None for name in present}


RECIPE = Recipe(
    name="desktop-singleton",
    summary="remove the Linux desktop app's SingletonLock/Socket/Cookie a dead app left",
    inputs=lambda evidence: (),
    plan=plan,
    next_steps=("Start the Codex desktop app again.",),
    cites=("#38254",),
    needs=frozenset({"singleton"}),
    runtime_removals=True,
)

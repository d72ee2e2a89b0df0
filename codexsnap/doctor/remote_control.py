"""Remote control: the desktop logs against the global state's enrollments (controller side),
and the refusals the server gave (both logs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codexsnap.codex_files import APP_SERVER_SIGNS, NO_CONTROLLER_PLATFORMS, enrollments
from codexsnap.doctor.app_server_log import AppServerSign
from codexsnap.doctor.check import Check, Cure, Status, human_size
from codexsnap.doctor.context import DoctorContext
from codexsnap.logs import LogScan, RevocationEvidence
from codexsnap.redact import mask, redact_text
from codexsnap.wording import plural

LOGS_TO_RUN = "give the desktop app's log folder with --logs DIR"


def check_revoked_client(ctx: DoctorContext) -> Check:
    """A revoked controller client still held in the global state (#28379, #25532, #23865)."""
    scan, primary, missing_folders = ctx.scan, ctx.primary, ctx.missing_log_folders
    name = "remote-control-revoked"
    searched = _searched(scan, missing_folders)
    quiet: Status = "warning" if missing_folders else "ok"
    if not scan.folders and missing_folders:  # a --logs DIR that is not there: say so
        return Check(name, "warning", f"not checked: {searched}; give one with --logs DIR")
    if not scan.folders:
        return Check.skipped(name, searched, LOGS_TO_RUN)
    if not scan.revoked:
        return Check(name, quiet, f"no revocation in {searched}")
    held = enrollments(primary.data)
    revoked_ids = scan.revoked_client_ids
    if primary.error is not None:
        return Check(
            name,
            "warning",
            f"logs show a revoked client ({_at(scan.revoked[0])}), but the global state cannot "
            "be read to compare (see global-state)",
        )
    matches = {key: cid for key, cid in held.items() if cid is not None and cid in revoked_ids}
    running = bool(ctx.processes)
    nameless_held = held and any(e.client_id is None for e in scan.revoked)
    if (matches or nameless_held) and ctx.platform in NO_CONTROLLER_PLATFORMS:
        return Check(
            name,
            "warning",
            f"logs show a revoked client ({_at(scan.revoked[0])}), but Windows has no "
            "Settings → Connections → Control other devices, so this computer is no "
            "controller: the remote-control recipe does not apply here (#28919, #31039)"
            + _caveats(scan, missing_folders),
            Cure.say(
                "pair again from the device that controls this one; follow "
                "https://github.com/openai/codex/issues/31039"
            ),
        )
    if matches:
        key, client = next(iter(matches.items()))
        others = len(held) - len(matches)
        more = f" and {len(matches) - 1} more" if len(matches) > 1 else ""
        kept = f"; {plural(others, 'other enrollment')} would be kept" if others else ""
        # --only-revoked reads the logs again: the folders of this run must go along.
        cure = (
            Cure.fix("remote-control", "--only-revoked", reads_logs=True)
            if others
            else Cure.fix("remote-control")
        )
        return Check(
            name,
            "problem",
            f"client {mask(client)} revoked ({_at(_latest_for(scan, client))}); the global state "
            f"still holds it: enrollment {_enrollment_name(key)}{more}{kept}"
            + _caveats(scan, missing_folders),
            cure.after_quit(running),
        )
    nameless = [e for e in scan.revoked if e.client_id is None]
    if nameless and held:
        return Check(
            name,
            "problem",
            f"{plural(len(nameless), 'revocation line')} without a client (latest "
            f"{_at(nameless[0])}); the global state holds {plural(len(held), 'enrollment')}"
            + _caveats(scan, missing_folders),
            Cure.fix("remote-control").after_quit(running),
        )
    ids = sorted(revoked_ids)
    shown = ", ".join(mask(c) for c in ids[:3]) + (", …" if len(ids) > 3 else "") or "a client"
    return Check(
        name,
        "ok",
        f"logs show {shown} revoked ({_at(scan.revoked[0])}), but the global state no longer "
        "holds it: already fixed (pair again from the app if it still fails)"
        + _caveats(scan, missing_folders),
    )


def check_mfa_required(ctx: DoctorContext) -> Check:
    """The server refused remote control until the account has multi-factor authentication.

    The desktop logs show it on the controller, the app server's ``logs`` table on the host:
    "remote control server enrollment failed ... HTTP 403 ... Multi-factor authentication
    required" (#22696, #27167).
    """
    return _server_side(
        ctx,
        "mfa-required",
        "remote-control-mfa",
        "the server refused remote control: multi-factor authentication required",
        "no local cure: turn on multi-factor authentication for the ChatGPT account, sign out "
        "and in again, then pair; follow https://github.com/openai/codex/issues/27167",
    )


def check_account_mismatch(ctx: DoctorContext) -> Check:
    """The enrollment answer named another account than the signed-in one."""
    return _server_side(
        ctx,
        "account-mismatch",
        "remote-control-account",
        "the enrollment answer did not match the signed-in account",
        "no local cure: sign in with the same ChatGPT account and workspace on both devices; "
        "follow https://github.com/openai/codex/issues/22804",
    )


def _server_side(ctx: DoctorContext, kind: str, name: str, what: str, advice: str) -> Check:
    """A refusal from the server (MFA, account mismatch): reported with the issue to follow."""
    scan = ctx.scan
    found = [f for f in scan.findings if f.kind == kind]
    host = ctx.app_server_log.seen(kind)
    host_read = ctx.app_server_log.read and kind in APP_SERVER_SIGNS
    if not scan.folders and not host_read:
        return Check.skipped(name, "no desktop log folder found", LOGS_TO_RUN)
    if not found and host is None:
        table = f"the app server's {ctx.app_server_log.database.name}"
        if not scan.folders:  # only the table could be read
            return Check(name, "ok", f"not seen in {table} (no desktop log folder found)")
        searched = _searched(scan, ())
        if host_read:
            searched += f", nor in {table}"
        return Check(name, "ok", f"not seen in {searched}")
    seen = []
    if found:
        latest = found[0]
        seen.append(
            f"{plural(len(found), 'log line')}, latest {latest.timestamp or 'undated'} "
            f"({latest.path}:{latest.line_number})"
        )
    if host is not None:
        seen.append(_in_table(ctx, host))
    return Check(name, "warning", f"{what}: " + "; ".join(seen), Cure.say(advice))


def _in_table(ctx: DoctorContext, sign: AppServerSign) -> str:
    return (
        f"{plural(sign.count, 'line')} in the app server's {ctx.app_server_log.database.name}, "
        f"latest {sign.when}"
    )


def _latest_for(scan: LogScan, client: str) -> RevocationEvidence:
    return next(e for e in scan.revoked if e.client_id == client)


def _at(evidence: RevocationEvidence) -> str:
    return f"{evidence.timestamp or 'undated'}, {evidence.path}:{evidence.line_number}"


def _enrollment_name(key: str) -> str:
    parts = [p for p in key.split("\n") if p]
    shown = f"{parts[0]} … {parts[-1]}" if len(parts) > 1 else key
    return redact_text(shown if len(shown) <= 80 else shown[:79] + "…")


def _searched(scan: LogScan, missing: Sequence[Path]) -> str:
    if scan.folders:
        read = f"{plural(scan.files_read, 'log file')}, {human_size(scan.bytes_read)}"
        text = f"{read}, in " + ", ".join(str(f) for f in scan.folders)
    else:
        text = "no desktop log folder found"
    return text + _caveats(scan, missing)


def _caveats(scan: LogScan, missing: Sequence[Path]) -> str:
    """What the scan could not see: the bound, unreadable files, folders not found."""
    text = ""
    if scan.truncated:
        text += " (stopped at the read bound: older lines unread)"
    if scan.unreadable:
        text += f"; {len(scan.unreadable)} unreadable: {scan.unreadable[0]}" + (
            ", …" if len(scan.unreadable) > 1 else ""
        )
    if missing:
        text += "; not found: " + ", ".join(str(f) for f in missing)
    return text

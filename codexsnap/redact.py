"""Masking tokens, keys and ids in reports: a short prefix and a hash, never the value."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|api[-_]?key|private|credential|cookie|authorization|oauth"
    r"|(device|signing|encryption|access|session|master|client)[-_]?key$"
    r"|^openai_api_key$",
    re.IGNORECASE,
)
_ID_KEY = re.compile(
    r"(clientid|accountuserid|account_id|user_id|userid|keyid|key_id|publickey|spki"
    r"|installation[-_]id|environment[-_]id|server_id)",
    re.IGNORECASE,
)
# Tables whose every value is sensitive: MCP server environments, auth blocks.
_SECRET_TABLES = frozenset({"env", "auth", "tokens", "headers", "http_headers"})
_SECRET_VALUE = re.compile(
    r"^(sk-|eyJ|cli_|user_|acct_|org-|sess-|ghp_|gho_|xox[bp]-)|^[A-Za-z0-9+/=_-]{40,}$"
    r"|^[0-9a-fA-F]{32,}$"  # a bare hex string this long is a key or a digest, never prose
)
_ID_IN_TEXT = re.compile(r"\b(cli|user|env|acct|org)_([A-Za-z0-9]{4})[A-Za-z0-9]+")


def fingerprint(value: str) -> str:
    """A short, stable hash: equal values show equal fingerprints."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:6]


def mask(value: str) -> str:
    """Keep a few leading characters so a person can tell values apart, hide the rest."""
    prefix = value[:4] if len(value) > 12 else ""
    return f"{prefix}…[{fingerprint(value)}]"


def is_secret_key(key: str) -> bool:
    """True for keys whose value must never be printed in full."""
    return bool(_SECRET_KEY.search(key) or _ID_KEY.search(key))


def redact_value(value: Any, path: tuple[Any, ...] = ()) -> Any:
    """A copy of ``value`` with secret-looking leaves masked; ``path`` holds its parents' keys."""
    under_secret = any(
        isinstance(p, str)
        and "\n" not in p  # a composite map key is data, not a field name
        and (p.lower() in _SECRET_TABLES or is_secret_key(p))
        for p in path
    )
    if isinstance(value, dict):
        return {redact_key(str(k)): redact_value(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        # ["--api-key", "sk-..."]: an item that follows a secret-looking flag is a secret.
        items: list[Any] = []
        for index, item in enumerate(value):
            flag = value[index - 1] if index else None
            if isinstance(flag, str) and flag.startswith("-") and is_secret_key(flag):
                items.append(mask(str(item)))
            else:
                items.append(redact_value(item, path))
        return items
    if isinstance(value, str):
        if under_secret or _SECRET_VALUE.search(value):
            return mask(value)
        # Free text (a draft, a prompt, a URL) can hold a token: mask token-shaped words.
        return redact_line(value)
    if under_secret and isinstance(value, int | float) and not isinstance(value, bool):
        return mask(str(value))
    return value


def redact_text(text: str) -> str:
    """Mask ids embedded in free text or keys exactly as values are masked.

    One rule everywhere: ``user_AbC1xyz…`` reads ``user…[80604f]`` whether it is a value, a
    map key, a database row's key or part of a sentence, so equal ids look equal.
    """
    return _ID_IN_TEXT.sub(lambda m: mask(m[0]), text)


def redact_key(key: str) -> str:
    """A map key as a report may print it: a secret used as a key is masked like a value."""
    # Keys are names far more often than values are: "electron-remote-control-client-
    # enrollments" is long too. Only a known token prefix or a long run with digits counts.
    if "\n" not in key and not _ID_IN_TEXT.match(key) and _SECRET_KEY_NAME.search(key):
        return mask(key)
    return redact_line(key) if any(ch.isdigit() for ch in key) else redact_text(key)


_SECRET_KEY_NAME = re.compile(
    r"^(sk-|eyJ|gh[pousr]_|xox[bp]-)|^[0-9a-fA-F]{32,}$|^(?=[^0-9]*+[0-9])[A-Za-z0-9+/=_-]{40,}$"
)


# Every pattern below is linear in the length of the text: a word may only start where a
# word starts (the look-behinds) and is matched possessively (``++``), so a 20,000-character
# word is read once instead of once per position (the old form took 45 s on one such word).
_TOKEN_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9+/=_-])"
    r"(sk-[A-Za-z0-9_-]{8,}+|eyJ[A-Za-z0-9_.-]{8,}+|gh[pousr]_[A-Za-z0-9]{8,}+"
    r"|xox[bp]-[A-Za-z0-9-]{8,}+|[A-Za-z0-9+/=_-]{40,}+|[0-9a-fA-F]{32,}+(?![A-Za-z0-9_-]))"
)
_BEARER = re.compile(r"\b(Bearer|Basic|token)\s++([A-Za-z0-9._~+/=-]{12,}+)")
_SECRET_WORD = re.compile(
    r"token|secret|password|passwd|api[-_]?key|credential|auth|(?:^|[-_.])(?:key|sig|signature)$",
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<key>[\w.-]++)"
    r"(?P<sep>\s*+[=:](?!//)\s*+)(?P<value>\"[^\"]*+\"|'[^']*+'|[^\s&\"'?#]++)"
)
# https://user:password@host: the password part of a URL's user information.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://[^\s/:@]++:)(?P<pw>[^\s/@]++)@"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")


def redact_line(line: str) -> str:
    """Mask tokens inside a line of free text (``KEY = "value"`` and token-shaped words)."""

    def assignment(found: re.Match[str]) -> str:
        value = found["value"]
        key = found["key"]
        # Only secret-looking names count ("https://host" never gets here: see the look-ahead).
        if not _SECRET_WORD.search(key):
            return found[0]
        if value in ("Bearer", "Basic", "token") or "…[" in value:
            return found[0]  # the scheme, or a token masked above
        quote = value[0] if value[:1] in "\"'" else ""
        inner = value[1:-1] if quote else value
        return f"{key}{found['sep']}{quote}{mask(inner)}{quote}"

    line = _URL_PASSWORD.sub(lambda m: f"{m['head']}{mask(m['pw'])}@", line)
    line = _BEARER.sub(lambda m: f"{m[1]} {mask(m[2])}", line)
    line = _ASSIGNMENT.sub(assignment, line)
    line = _TOKEN_IN_TEXT.sub(lambda m: m[0] if "…[" in m[0] else mask(m[0]), line)
    line = _EMAIL.sub(lambda m: mask(m[0]), line)
    return redact_text(line)


def redact_identities(text: str) -> str:
    """Ids and e-mail addresses in text that was masked already (a last pass over a file):
    unlike ``redact_line`` it leaves long paths alone, which are not secrets."""
    return redact_text(_EMAIL.sub(lambda m: mask(m[0]), text))

"""Secrets out of pipeline log lines before they reach a Port run, which every viewer of the action sees.

A pipeline prints what it likes; port-bridge cannot know every secret, so it masks two things:

* the values of the secrets the controller itself holds (``PORT_CLIENT_SECRET``, which is also
  the key Port signs webhooks with), wherever they appear;
* what looks like a credential (the list is :data:`PATTERNS`, documented in the README):
  an ``Authorization`` header or a ``Bearer`` token; the value of a key whose name ends in
  password, passwd, pwd, secret, token, API key, access key, private key or credentials
  (``password=...``, ``"apiKey": "..."``, ``GITHUB_TOKEN: ...``; not ``secretName``); a password in a URL (``postgres://user:...@host``);
  tokens with a known shape (GitHub ``ghp_``/``github_pat_``, GitLab ``glpat-``, Slack ``xox?-``,
  AWS access key ids, JSON Web Tokens); and every line of a PEM private key, from its ``BEGIN``
  line to its ``END`` line.

Masking is per line (what a log line is); the PEM state carries from one line to the next and is
kept in the run's cursor, so a successor controller continues a key block masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
_KEY_NAMES = (  # a key that ends in one of these words: DB_PASSWORD, clientSecret, api-key (not secretName)
    r"[\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credentials?)(?![A-Za-z0-9])"
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("authorization header", re.compile(r"(?i)(\bauthorization\s*[:=]\s*)(?:\w+\s+)?[^\s,;'\"]+")),
    ("bearer token", re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+")),
    (
        "credential key and value",
        re.compile(rf"(?i)(\b{_KEY_NAMES}['\"]?\s*[:=]\s*['\"]?)(?!{re.escape(MASK)})[^\s,;'\"}}]+"),
    ),
    ("password in a URL", re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")),
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


@dataclass(frozen=True)
class Masked:
    text: str
    in_private_key: bool  # the next line of the same log is inside a private key block


class Masker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(
            {secret for secret in secrets if len(secret) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def mask(self, line: str, *, in_private_key: bool = False) -> Masked:
        """``line`` with secrets masked, and whether a private key block goes on after it."""
        if in_private_key or _PEM_BEGIN.search(line):
            return Masked(MASK, in_private_key=not _PEM_END.search(line))
        for secret in self._secrets:
            line = line.replace(secret, MASK)
        for _name, pattern in PATTERNS:
            line = pattern.sub(_keep_prefix, line)
        return Masked(line, in_private_key=False)


def _keep_prefix(match: re.Match[str]) -> str:
    """The match masked, keeping what names the secret (``password=``, ``Bearer ``, ``user:...@``)."""
    groups = match.groups()
    if not groups:
        return MASK
    suffix = groups[1] if len(groups) > 1 and groups[1] else ""
    return (groups[0] or "") + MASK + suffix

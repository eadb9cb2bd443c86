"""Label and field selectors, parsed and matched the way the Kubernetes API server does.

Stock kmock ignores ``labelSelector`` and ``fieldSelector``; the bridge relies on them to find
the requests that belong to a run, so the emulator implements them faithfully, including the
400 answer for a selector the API server would not parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_KEY = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_TERM = re.compile(rf"\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*")
_EQUALITY_TERM = re.compile(rf"\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*")
_EXISTS_TERM = re.compile(rf"\s*(!?)\s*({_KEY})\s*")
_FIELD_TERM = re.compile(r"\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*([^,]*?)\s*")

Predicate = Callable[[Mapping[str, Any]], bool]


class InvalidSelector(ValueError):
    """A selector the API server would answer with 400 Bad Request."""


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term for term in terms if term.strip()]


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    if match := _SET_TERM.fullmatch(term):
        key, operator, raw_values = match.groups()
        values = {value.strip() for value in raw_values.split(",") if value.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQUALITY_TERM.fullmatch(term):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_TERM.fullmatch(term):
        negated, key = match.groups()
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise InvalidSelector(f"unable to parse requirement: {term.strip()!r}")


def _field_value(obj: Mapping[str, Any], path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return None if value is None else str(value)


@dataclass(frozen=True)
class Selector:
    """A compiled label selector and field selector; an empty selector matches everything."""

    label_terms: tuple[Callable[[Mapping[str, str]], bool], ...] = ()
    field_terms: tuple[Predicate, ...] = ()

    @classmethod
    def parse(
        cls,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        field_paths: frozenset[str],
    ) -> Selector:
        """Compile both selectors; ``field_paths`` are the fields the resource supports selecting on."""
        label_terms = tuple(_label_term(term) for term in _split_terms(label_selector or ""))
        field_terms: list[Predicate] = []
        for term in _split_terms(field_selector or ""):
            match = _FIELD_TERM.fullmatch(term)
            if not match:
                raise InvalidSelector(f"invalid selector: {term.strip()!r}; can't understand it")
            path, operator, value = match.groups()
            if path not in field_paths:
                raise InvalidSelector(f'field label not supported: "{path}"')
            field_terms.append(_field_predicate(path, operator, value))
        return cls(label_terms, tuple(field_terms))

    def matches(self, obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(term(labels) for term in self.label_terms) and all(term(obj) for term in self.field_terms)


def _field_predicate(path: str, operator: str, value: str) -> Predicate:
    if operator == "!=":
        return lambda obj: _field_value(obj, path) != value
    return lambda obj: _field_value(obj, path) == value

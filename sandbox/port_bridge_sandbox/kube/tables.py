"""Lists and objects as ``meta.k8s.io/v1`` Tables, so ``kubectl get`` shows a CRD's printer columns.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` first and, given a plain list,
falls back to NAME and AGE only. The API server answers a custom resource with one row per object:
the name, then each ``additionalPrinterColumns`` entry evaluated with Kubernetes' JSONPath (``date``
columns as an age such as ``5m``), or ``Created At`` when a CRD declares none.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpath

_TABLE_MEDIA = "meta.k8s.io"


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry of a served CRD version."""

    name: str
    type: str
    json_path: str
    description: str = ""
    format: str = ""
    priority: int = 0

    @classmethod
    def from_crd(cls, entry: Mapping[str, Any]) -> PrinterColumn:
        return cls(
            name=str(entry["name"]),
            type=str(entry.get("type") or "string"),
            json_path=str(entry["jsonPath"]),
            description=str(entry.get("description") or ""),
            format=str(entry.get("format") or ""),
            priority=int(entry.get("priority") or 0),
        )


CREATED_AT = PrinterColumn(
    name="Created At",
    type="date",
    json_path=".metadata.creationTimestamp",
    description="CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def wants_table(accept: str) -> bool:
    """Whether an ``Accept`` header asks for a Table (kubectl and client-go's printers do)."""
    for offer in accept.split(","):
        parameters = dict(part.strip().split("=", 1) for part in offer.split(";")[1:] if "=" in part)
        if parameters.get("as") == "Table" and parameters.get("g") == _TABLE_MEDIA:
            return True
    return False


def as_table(
    objects: Iterable[Mapping[str, Any]],
    *,
    columns: tuple[PrinterColumn, ...],
    resource_version: str,
    include_object: str = "Metadata",
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The Table the API server answers for these objects."""
    shown = columns or (CREATED_AT,)
    moment = now or datetime.datetime.now(datetime.UTC)
    definitions = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        },
        *(
            {
                "name": column.name,
                "type": column.type,
                "format": column.format,
                "description": column.description,
                "priority": column.priority,
            }
            for column in shown
        ),
    ]
    rows = [
        {
            "cells": [obj["metadata"]["name"], *(_cell(obj, column, moment) for column in shown)],
            "object": _row_object(obj, include_object),
        }
        for obj in objects
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }


def _cell(obj: Mapping[str, Any], column: PrinterColumn, now: datetime.datetime) -> Any:
    found = jsonpath.findall("$" + column.json_path, obj)
    if not found:
        return None
    value = found[0]
    if column.type == "date":
        return _age(value, now) if isinstance(value, str) else "<invalid>"
    if column.type == "string":
        return value if isinstance(value, str) else json.dumps(value)
    return value


def _age(timestamp: str, now: datetime.datetime) -> str:
    """An age as kubectl prints one (``apimachinery``'s ``HumanDuration``, to the units it uses)."""
    try:
        then = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    seconds = int((now - then).total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        rest = days % 365
        return f"{days // 365}y{rest}d" if rest else f"{days // 365}y"
    return f"{days // 365}y"


def _row_object(obj: Mapping[str, Any], include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return dict(obj)
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}

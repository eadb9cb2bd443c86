"""An entity as scorecards read it: Port's entity JSON, and what a condition's subject names.

A condition's ``property`` is either a blueprint property (``entity.properties[name]``) or a
meta-property, written with a ``$`` (docs: setup-blueprint/properties/meta-properties):
``$identifier``, ``$title``, ``$team``, ``$icon``, ``$blueprint``, ``$createdAt``, ``$updatedAt``,
``$createdBy``, ``$updatedBy``. A ``relation`` reads ``entity.relations[name]``: one identifier,
a list of them (``many`` relations), or null. Whatever an entity does not have reads as ``None``,
the same as a null value.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

META_PROPERTIES = {
    "$identifier": "identifier",
    "$title": "title",
    "$team": "team",
    "$icon": "icon",
    "$blueprint": "blueprint",
    "$createdAt": "created_at",
    "$updatedAt": "updated_at",
    "$createdBy": "created_by",
    "$updatedBy": "updated_by",
}


class Entity(BaseModel):
    """Port's entity JSON (what its API returns, or a file of the same); other keys are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    identifier: str = Field(min_length=1)
    title: str | None = None
    icon: str | None = None
    blueprint: str | None = Field(default=None, min_length=1)
    team: str | list[str] | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    relations: dict[str, Any] = Field(default_factory=dict)
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")
    created_by: str | None = Field(default=None, alias="createdBy")
    updated_by: str | None = Field(default=None, alias="updatedBy")

    def property_value(self, name: str) -> Any:
        """A property's value, or a meta-property's when ``name`` starts with ``$``."""
        meta = META_PROPERTIES.get(name)
        if meta is not None:
            return getattr(self, meta)
        return self.properties.get(name)

    def relation_value(self, name: str) -> Any:
        return self.relations.get(name)

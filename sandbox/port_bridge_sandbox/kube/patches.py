"""Applying PATCH bodies by their Content-Type, as the API server does.

kmock picks the patch kind from the body's Python type and ignores Content-Type, so it applies
patches a real server refuses. Here JSON patch needs ``application/json-patch+json``, merge patch
``application/merge-patch+json``, and strategic merge patch is refused for custom resources.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from port_bridge_sandbox.kube import errors

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, ``null`` removes, the rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_patch(current: dict[str, Any], body: Any, *, content_type: str, custom: bool) -> dict[str, Any]:
    """The object ``current`` becomes under ``body``; raises :class:`errors.ApiError` as the server would."""
    media_type = content_type.split(";")[0].strip().lower()
    accepted = [JSON_PATCH, MERGE_PATCH] + ([] if custom else [STRATEGIC_MERGE_PATCH])
    if media_type == APPLY_PATCH:
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            "server-side apply is not emulated; send a merge patch or a JSON patch",
        )
    if media_type == JSON_PATCH:
        if not isinstance(body, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        try:
            patched = jsonpatch.apply_patch(current, body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
            raise errors.ApiError(
                422, "Invalid", f"the server rejected our request due to an error in our request: {error}"
            ) from error
        return dict(patched)
    if media_type == MERGE_PATCH or (media_type == STRATEGIC_MERGE_PATCH and not custom):
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was not a JSON object")
        return dict(merge_patch(current, body))
    raise errors.unsupported_media_type(media_type, accepted)

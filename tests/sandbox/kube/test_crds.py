from typing import Any

import pytest

from port_bridge_sandbox.kube.crds import InvalidCrd, crd_from_promise, parse_crd


def test_every_marketplace_promise_yields_a_servable_namespaced_crd(
    promises: dict[str, dict[str, Any]],
) -> None:
    for name, promise in promises.items():
        crd = crd_from_promise(promise)
        assert crd is not None, name
        assert crd["metadata"]["labels"]["kratix.io/promise-name"] == name
        info = parse_crd(crd)
        assert all(version.namespaced and version.status_subresource for version in info.versions), name


def test_the_promise_itself_is_left_untouched(promises: dict[str, dict[str, Any]]) -> None:
    promise = promises["redis"]
    before = repr(promise)
    crd_from_promise(promise)
    assert repr(promise) == before


def test_postgresql_resolves_to_its_storage_version(promises: dict[str, dict[str, Any]]) -> None:
    crd = crd_from_promise(promises["postgresql"])
    assert crd is not None
    [version] = parse_crd(crd).versions
    assert (version.group, version.version, version.plural, version.kind) == (
        "marketplace.kratix.io",
        "v1alpha2",
        "postgresqls",
        "postgresql",
    )
    assert version.schema is not None
    assert version.schema["properties"]["metadata"]["properties"]["name"]["maxLength"] == 63


def test_a_promise_without_an_api_has_no_crd() -> None:
    assert crd_from_promise({"metadata": {"name": "p"}, "spec": {}}) is None


@pytest.mark.parametrize(
    "crd",
    [
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets"}},
        },
        {
            "metadata": {"name": "wrong"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "kind": "W"},
                "versions": [{"name": "v1", "served": True}],
            },
        },
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "kind": "W"},
                "versions": [{"name": "v1", "served": False}],
            },
        },
    ],
)
def test_invalid_crds_are_refused(crd: dict[str, Any]) -> None:
    with pytest.raises(InvalidCrd):
        parse_crd(crd)

import pytest

from port_bridge_sandbox.kube.selectors import InvalidSelector, Selector

FIELDS = frozenset({"metadata.name", "metadata.namespace"})
OBJ = {
    "metadata": {
        "name": "db",
        "namespace": "team-a",
        "labels": {"tier": "db", "kratix.io/promise-name": "postgresql"},
    }
}


@pytest.mark.parametrize(
    ("label_selector", "field_selector", "matches"),
    [
        ("", "", True),
        ("tier=db", "", True),
        ("tier==db", "", True),
        ("tier!=db", "", False),
        ("tier!=cache", "", True),
        ("missing!=x", "", True),
        ("tier in (db, cache)", "", True),
        ("tier notin (db)", "", False),
        ("missing notin (db)", "", True),
        ("kratix.io/promise-name=postgresql,tier", "", True),
        ("!tier", "", False),
        ("!missing", "", True),
        ("tier in (cache),tier", "", False),
        ("", "metadata.name=db", True),
        ("", "metadata.name==db,metadata.namespace=team-a", True),
        ("", "metadata.namespace!=team-a", False),
        ("tier=db", "metadata.name=other", False),
    ],
)
def test_selector_matching(label_selector: str, field_selector: str, matches: bool) -> None:
    selector = Selector.parse(
        label_selector=label_selector, field_selector=field_selector, field_paths=FIELDS
    )
    assert selector.matches(OBJ) is matches


def test_objects_without_labels_match_only_absence_terms() -> None:
    bare = {"metadata": {"name": "x"}}
    assert Selector.parse(label_selector="!tier", field_paths=FIELDS).matches(bare)
    assert not Selector.parse(label_selector="tier", field_paths=FIELDS).matches(bare)


@pytest.mark.parametrize(
    ("label_selector", "field_selector"),
    [("tier in db", ""), ("=db", ""), ("tier=db=x", ""), ("", "spec.env=dev"), ("", "metadata.name")],
)
def test_unparseable_selectors_are_rejected(label_selector: str, field_selector: str) -> None:
    with pytest.raises(InvalidSelector):
        Selector.parse(label_selector=label_selector, field_selector=field_selector, field_paths=FIELDS)

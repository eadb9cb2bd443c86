import pytest

from port_bridge_sandbox.kube.paths import ResourcePath, parse_resource_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/namespaces", ResourcePath("", "v1", "namespaces")),
        ("/api/v1/namespaces/team-a", ResourcePath("", "v1", "namespaces", name="team-a")),
        (
            "/api/v1/namespaces/team-a/status",
            ResourcePath("", "v1", "namespaces", name="team-a", subresource="status"),
        ),
        ("/api/v1/namespaces/team-a/configmaps", ResourcePath("", "v1", "configmaps", namespace="team-a")),
        ("/api/v1/namespaces/team-a/configmaps/c", ResourcePath("", "v1", "configmaps", "team-a", "c")),
        (
            "/apis/platform.kratix.io/v1alpha1/promises/p",
            ResourcePath("platform.kratix.io", "v1alpha1", "promises", name="p"),
        ),
        (
            "/apis/marketplace.kratix.io/v1alpha2/namespaces/default/postgresqls/db/status",
            ResourcePath("marketplace.kratix.io", "v1alpha2", "postgresqls", "default", "db", "status"),
        ),
        (
            "/apis/marketplace.kratix.io/v1alpha2/postgresqls",
            ResourcePath("marketplace.kratix.io", "v1alpha2", "postgresqls"),
        ),
        ("/apis", None),
        ("/apis/marketplace.kratix.io", None),
        ("/apis/marketplace.kratix.io/v1alpha2", None),
        ("/api/v1", None),
        ("/version", None),
        ("/apis/g/v/namespaces/ns/plural/name/status/extra", None),
    ],
)
def test_resource_paths(path: str, expected: ResourcePath | None) -> None:
    assert parse_resource_path(path) == expected

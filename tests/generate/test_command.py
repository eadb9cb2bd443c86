"""``port-bridge generate``: from a file or the cluster, into DIR, never clobbering by surprise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from port_bridge.cli import main
from port_bridge.mapping.actions import load_actions
from port_bridge_sandbox.kube import KubeApiServer
from tests.conftest import PROJECT_PROMISES

FILES = [
    "actions/create-redis.yaml",
    "actions/delete-redis.yaml",
    "actions/update-redis.yaml",
    "blueprints/redis.json",
]


def tree(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def redis_file(shared_dir: Path) -> Path:
    return shared_dir / "kratix" / "promises" / "redis.yaml"


def test_writes_the_blueprint_and_actions_and_a_second_run_changes_nothing(
    redis_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", str(redis_file), "--out", str(tmp_path)]) == 0
    assert sorted(tree(tmp_path)) == FILES
    assert sorted(load_actions(tmp_path / "actions")) == ["create-redis", "delete-redis", "update-redis"]
    first = tree(tmp_path)
    assert capsys.readouterr().out.count("wrote ") == 4
    assert main(["generate", str(redis_file), "--out", str(tmp_path)]) == 0
    assert tree(tmp_path) == first
    assert capsys.readouterr().out.count("unchanged ") == 4


def test_a_promise_in_the_cluster_gives_the_same_files_as_its_file(
    cluster: KubeApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_file = PROJECT_PROMISES / "redis.yaml"  # what the cluster holds
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(cluster.write_kubeconfig(tmp_path / "kubeconfig")))
    assert main(["generate", "redis", "--out", str(tmp_path / "from-cluster")]) == 0
    assert main(["generate", str(redis_file), "--out", str(tmp_path / "from-file")]) == 0
    assert tree(tmp_path / "from-cluster") == tree(tmp_path / "from-file")
    assert sorted(tree(tmp_path / "from-cluster")) == FILES


def test_a_file_with_other_content_is_kept_unless_forced(
    redis_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "actions" / "create-redis.yaml"
    mine.parent.mkdir()
    mine.write_text("# hand-written\n")
    assert main(["generate", str(redis_file), "--out", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"port-bridge: would overwrite {mine} ") and "--force" in error
    assert tree(tmp_path) == {"actions/create-redis.yaml": b"# hand-written\n"}  # nothing written
    assert main(["generate", str(redis_file), "--out", str(tmp_path), "--force"]) == 0
    assert f"replaced {mine}" in capsys.readouterr().out
    assert sorted(tree(tmp_path)) == FILES


def test_namespaces_become_the_forms_choice_and_the_allow_list(redis_file: Path, tmp_path: Path) -> None:
    arguments = [
        "generate",
        str(redis_file),
        "--out",
        str(tmp_path),
        "--namespace",
        "team-a",
        "--namespace",
        "team-b",
    ]
    assert main(arguments) == 0
    create = load_actions(tmp_path / "actions")["create-redis"]
    assert create.request_mappings[0].kratix.allowed_namespaces == ("team-a", "team-b")
    namespace = create.action.trigger.user_inputs["properties"]["namespace"]
    assert (namespace["enum"], namespace["default"]) == (["team-a", "team-b"], "team-a")


def test_every_promise_in_a_file_is_generated_and_what_the_form_cannot_check_is_listed(
    shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = tmp_path / "both.yaml"
    promises = shared_dir / "kratix" / "promises"
    both.write_text(
        (promises / "redis.yaml").read_text() + "\n---\n" + (promises / "runtime.yaml").read_text()
    )
    assert main(["generate", str(both), "--out", str(tmp_path / "out")]) == 0
    assert {"blueprints/redis.json", "blueprints/runtime.json"} <= set(tree(tmp_path / "out"))
    out = capsys.readouterr().out
    assert "Promise runtime: left to the Kubernetes API server" in out
    assert "  spec.replicas (a whole number)" in out


def test_what_cannot_be_generated_says_why_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_promise = tmp_path / "cm.yaml"
    not_a_promise.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    without_api = tmp_path / "bare.yaml"
    without_api.write_text(
        "apiVersion: platform.kratix.io/v1alpha1\nkind: Promise\nmetadata: {name: bare}\nspec: {}\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [Promise\n")
    cases = {
        str(tmp_path / "missing.yaml"): "missing.yaml: no such file",
        str(not_a_promise): "holds no Promise",
        str(without_api): "Promise 'bare' declares no request API in spec.api",
        str(broken): "broken.yaml: cannot be read",
    }
    for argument, message in cases.items():
        assert main(["generate", argument, "--out", str(tmp_path / "out")]) == 1
        error = capsys.readouterr().err
        assert error.startswith("port-bridge: ") and message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_name_not_in_the_cluster_or_no_kubeconfig(
    cluster: KubeApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(cluster.write_kubeconfig(tmp_path / "kubeconfig")))
    assert main(["generate", "mongodb", "--out", str(tmp_path)]) == 1
    assert f"no Promise 'mongodb' in the cluster at {cluster.url}" in capsys.readouterr().err
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nowhere"))
    assert main(["generate", "redis", "--out", str(tmp_path)]) == 2  # a misconfiguration
    assert capsys.readouterr().err == f"port-bridge: KUBECONFIG: {tmp_path / 'nowhere'} does not exist\n"


def test_an_api_server_that_does_not_answer_is_named(
    cluster: KubeApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kubeconfig = cluster.kubeconfig()
    kubeconfig["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"  # discard: nothing listens
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    assert main(["generate", "redis", "--out", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("port-bridge: the Kubernetes API server at http://127.0.0.1:9 does not answer (")

"""The `namespace` Promise's configure pipeline: a Namespace on the cluster the request names.

It writes the Namespace document and, when the request names a cluster (spec.clusterName),
destination selectors that send it to the Destination labelled ``cluster: <clusterName>``
(without one, the Promise's own scheduling applies). It publishes a message in the request's
status. There is no delete pipeline: Kratix deletes the request's Works, and with them the
Namespace on the Destination.

On Kratix the SDK's directories are /kratix/{input,output,metadata}. Elsewhere (port-bridge's
sandbox runs this file as a local process) KRATIX_SDK_INPUT_DIR, KRATIX_SDK_OUTPUT_DIR and
KRATIX_SDK_METADATA_DIR redirect them; Kratix never sets those.
"""

from __future__ import annotations

import os

import kratix_sdk as ks
import yaml


def redirect_directories() -> None:
    for variable, redirect in (
        ("KRATIX_SDK_INPUT_DIR", ks.set_input_dir),
        ("KRATIX_SDK_OUTPUT_DIR", ks.set_output_dir),
        ("KRATIX_SDK_METADATA_DIR", ks.set_metadata_dir),
    ):
        if value := os.environ.get(variable):
            redirect(value)


def main() -> None:
    redirect_directories()
    sdk = ks.KratixSDK()
    if not sdk.is_configure_action():
        print(f"nothing to do for a {sdk.workflow_action() or 'missing'} action")
        return
    resource = sdk.read_resource_input()
    namespace = resource.get_value("spec.namespaceName")
    cluster = resource.get_value("spec.clusterName", default=None)
    document = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {"kratix.io/resource-name": resource.get_name()}},
    }
    sdk.write_output("namespace.yaml", yaml.safe_dump(document, sort_keys=False).encode())
    print(f"wrote namespace.yaml: Namespace {namespace}")
    where = "the Promise's Destinations"
    if cluster:
        sdk.write_destination_selectors([ks.DestinationSelector(match_labels={"cluster": cluster})])
        where = f"the Destination labelled cluster={cluster}"
        print(f"scheduled to {where}")
    sdk.write_status(ks.Status({"message": f"namespace {namespace} requested on {where}"}))


if __name__ == "__main__":
    main()

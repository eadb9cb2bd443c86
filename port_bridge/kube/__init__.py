"""port-bridge's access to the Kubernetes API: typed object access, watches, leader election."""

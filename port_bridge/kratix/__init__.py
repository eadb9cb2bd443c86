"""What port-bridge knows about Kratix: Promises, their request APIs and request status."""

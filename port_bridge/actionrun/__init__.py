"""The ActionRun, port-bridge's durable record of one Port run, as typed data (see :mod:`.model`)."""

"""The controller: follows every run to Kratix's true end and reports it to Port."""

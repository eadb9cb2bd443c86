"""Action files: the Port action as Port takes it, plus its jq mapping to a Kratix request."""

"""Live Promises: a Promise labelled for the portal gets its blueprint and actions in Port, and its
mappings served by intake and the controller, without a restart (see :mod:`.promises`)."""

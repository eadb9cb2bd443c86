"""Allow ``python -m port_bridge`` as well as the ``port-bridge`` console script."""

from port_bridge.cli import main

raise SystemExit(main())

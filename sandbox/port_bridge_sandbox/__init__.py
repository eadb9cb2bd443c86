"""Stand-ins for the real services port-bridge talks to, each speaking real HTTP on 127.0.0.1.

There is no Kubernetes API server, Kratix or Port to be had on a developer laptop or in CI, so
the project brings faithful emulators of the parts it depends on. The test suite and the
``port-bridge sandbox`` command both run on them. They are a distribution of their own
(``port-bridge-sandbox``, ``sandbox/`` in the repository), kept out of the runtime wheel and image.
"""

__version__ = "0.1.0"

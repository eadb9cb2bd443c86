"""Stand-ins for the real services port-bridge talks to, each speaking real HTTP on 127.0.0.1.

There is no Kubernetes API server, Kratix or Port to be had on a developer laptop or in CI, so
the project brings faithful emulators of the parts it depends on. The test suite and the
``port-bridge sandbox`` command both run on them. Their extra dependencies live in the
``sandbox`` extra.
"""

"""What Port's API takes as a blueprint, an action or a scorecard, written down by port-bridge.

``port-bridge apply`` refuses a file Port would refuse before it writes anything, and must not
need Port's spec to do so (that spec is Port's, read by the tests only). These are the project's
own checks, written from Port's documentation and the facts of its API (research/port.md §3.3,
§4): required fields, types, enums, identifier rules, lengths where Port states them, and the
objects in which Port refuses unknown fields. ``tests/portmodel/test_schema.py`` holds them
against Port's spec.
"""

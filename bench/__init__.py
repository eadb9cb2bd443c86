"""Benchmarks of port-bridge against the emulators on 127.0.0.1 (not part of the test suite).

Each prints figures, mostly ratios against a baseline measured in the same run, and asserts
nothing about time: ``python -m bench.intake`` (webhooks through gunicorn, against a floor
handler) and ``python -m bench.follow`` (runs followed through the controller, as a process).
"""

"""port-bridge: the backend behind Port self-service actions on Kratix platforms.

Port calls a signed webhook; port-bridge turns the run into a Kratix resource request, follows
Kratix until the request has truly succeeded or failed, and reports every step back to Port.
"""

__version__ = "0.1.0"

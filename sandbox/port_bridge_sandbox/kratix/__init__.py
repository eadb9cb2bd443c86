"""A Kratix stand-in that writes what each Kratix release writes into request status."""

from port_bridge_sandbox.kratix.behaviour import Behaviour, Timings
from port_bridge_sandbox.kratix.eras import Era
from port_bridge_sandbox.kratix.simulator import KratixSimulator

__all__ = ["Behaviour", "Era", "KratixSimulator", "Timings"]

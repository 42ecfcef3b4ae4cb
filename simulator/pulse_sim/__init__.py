"""Pulse device simulator: a fleet of realistic devices publishing Envelope v1 over MQTT.

Command line: ``python -m pulse_sim --help`` (the launcher exposes it as ``pulse sim``).
Programmatic: ``run_fleet(FleetConfig(...))``; tests pass a ``SimulatedClock`` and a
``MemoryTransport`` to run days of fleet life in seconds without a broker.
"""

from pulse_sim.cli import main
from pulse_sim.clock import Clock, RealClock, SimulatedClock
from pulse_sim.config import FleetConfig, TransportMode
from pulse_sim.fleet import DeviceProfile, FleetReport, run_fleet
from pulse_sim.inbound import InboundHandler, InboundMessage, Outbox
from pulse_sim.scenarios import Fault, FaultKind, ScenarioError, Window
from pulse_sim.transport import MemoryTransport

__all__ = [
    "Clock",
    "DeviceProfile",
    "Fault",
    "FaultKind",
    "FleetConfig",
    "FleetReport",
    "InboundHandler",
    "InboundMessage",
    "MemoryTransport",
    "Outbox",
    "RealClock",
    "ScenarioError",
    "SimulatedClock",
    "TransportMode",
    "Window",
    "main",
    "run_fleet",
]

"""Escalation: contact methods and personal notification policies, escalation policies, and the
engine that walks each alert through its policy (``pulse.escalation.engine.tick``)."""

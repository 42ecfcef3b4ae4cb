"""Ops plane: audit log of every write, operator access log, API quotas."""

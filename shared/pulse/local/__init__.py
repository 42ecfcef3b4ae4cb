"""The local target: a project-managed PostgreSQL cluster and (later) the emulator launcher."""

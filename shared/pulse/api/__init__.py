"""The Pulse REST API (FastAPI) under ``/api/v1``: one router per module."""

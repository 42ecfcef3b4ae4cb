"""RFC 9457 problem details: the one shape every HTTP refusal in Pulse takes."""

from __future__ import annotations

from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "https://pulse.dev/problems/"


def problem(status: int, title: str, detail: str, *, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    """A problem body; ``kind`` names the problem type (defaults to the title in kebab case)."""
    slug = kind or title.lower().replace(" ", "-")
    return {"type": _TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}

"""Log lines for a long-running CLI: ``time level logger message key=value ...``.

The simulator logs with ``extra=`` keys like the rest of Pulse; the standard formatter would drop
them, and JSON is hard to read in a terminal tailing ``pulse logs sim``. This prints the keys.
"""

from __future__ import annotations

import logging

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{key}={_value(value)}" for key, value in record.__dict__.items() if key not in _STANDARD]
        if not extras:
            return line
        head, newline, rest = line.partition("\n")  # keep a traceback below the keys
        return f"{head} {' '.join(extras)}{newline}{rest}"


def _value(value: object) -> str:
    text = str(value)
    return repr(text) if (" " in text or not text) else text


def configure(level: str) -> None:
    """Sets the simulator's level and, unless the host process already logs somewhere (the launcher,
    pytest), sends records to stderr; stdout stays free for ``--dry-run`` output."""
    logging.getLogger("pulse_sim").setLevel(level)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(KeyValueFormatter())
        root.addHandler(handler)

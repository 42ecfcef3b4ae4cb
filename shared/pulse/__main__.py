"""``pulse`` command line: database and contract tasks (the local launcher adds more)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg

from pulse.errors import PulseError


def _db_migrate(_: argparse.Namespace) -> int:
    from pulse.db.migrate import migrate
    from pulse.runtime import database_url
    from pulse.settings import get_settings

    with psycopg.connect(database_url(get_settings())) as conn:
        applied = migrate(conn)
    print(f"applied migrations: {', '.join(map(str, applied))}" if applied else "database is up to date")
    return 0


def _contracts(args: argparse.Namespace) -> int:
    from pulse import contracts

    if args.action == "write":
        for path in contracts.write_all():
            print(f"wrote {path}")
        return 0
    stale = contracts.stale()
    if stale:
        print(f"stale contracts (run `pulse contracts write`): {', '.join(stale)}", file=sys.stderr)
        return 1
    print("contracts are up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulse", description="Pulse operations")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database tasks").add_subparsers(dest="action", required=True)
    db.add_parser("migrate", help="apply pending migrations to PULSE_DATABASE_URL").set_defaults(run=_db_migrate)
    contracts = commands.add_parser("contracts", help="JSON Schemas generated from the models")
    contracts.add_argument("action", choices=["write", "check"])
    contracts.set_defaults(run=_contracts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except PulseError as exc:
        print(f"pulse: {exc.detail}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"pulse: cannot reach the database: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

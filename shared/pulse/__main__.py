"""``pulse`` command line: database and contract tasks, and the local platform launcher (``pulse dev``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg

from pulse.errors import PulseError
from pulse.local import cli as local_cli


def _db_migrate(_: argparse.Namespace) -> int:
    from pulse.db.migrate import migrate
    from pulse.runtime import database_url
    from pulse.settings import get_settings

    settings = get_settings()
    if settings.database_url is None and not settings.database_secret_arn:
        # Neither set: the local cluster of `pulse db start` / `pulse dev`.
        from pulse.local.database import LocalDatabase
        from pulse.local.layout import LocalLayout

        url = LocalDatabase.from_settings(LocalLayout.for_repo(), settings).url
    else:
        url = database_url(settings)
    with psycopg.connect(url) as conn:
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
    db.add_parser(
        "migrate", help="apply pending migrations to PULSE_DATABASE_URL (else the local cluster)"
    ).set_defaults(run=_db_migrate)
    local_cli.add_db_commands(db)
    contracts = commands.add_parser("contracts", help="JSON Schemas generated from the models")
    contracts.add_argument("action", choices=["write", "check"])
    contracts.set_defaults(run=_contracts)
    local_cli.add_commands(commands)
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

"""Launcher commands of the ``pulse`` CLI: ``dev``, ``db start|stop|psql|reset``, ``stack``, ``sim``, ``logs``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from pulse.local.layout import STACK_NAME, LocalLayout


def _layout() -> LocalLayout:
    return LocalLayout.for_repo()


def _database() -> Any:
    from pulse.local.database import LocalDatabase
    from pulse.settings import get_settings

    return LocalDatabase.from_settings(_layout(), get_settings())


def _dev(args: argparse.Namespace) -> int:
    from pulse.local.dev import DevOptions, run_dev

    layout = _layout()
    if args.state_dir:  # a second, independent platform (the e2e process test runs one beside yours)
        layout = LocalLayout(repo_root=layout.repo_root, root=Path(args.state_dir).resolve())
    options = DevOptions(
        devices=args.devices,
        simulator=not args.no_sim,
        sim_args=list(args.sim_arg),
        gateway_port=args.port,
        mqtt_port=args.mqtt_port,
        redeploy=args.redeploy,
    )
    return run_dev(layout, options)


def _db_start(_: argparse.Namespace) -> int:
    database = _database()
    database.start()
    applied = database.migrate()
    print(f"database running: {database.url}" + (f" (applied migrations {applied})" if applied else ""))
    return 0


def _db_stop(_: argparse.Namespace) -> int:
    _database().stop()
    print("database stopped")
    return 0


def _db_reset(_: argparse.Namespace) -> int:
    _database().reset()
    print("database emptied and migrated; the next `pulse dev` seeds the demo tenant and devices again")
    return 0


def _db_psql(args: argparse.Namespace) -> int:
    from pulse.local.pgcluster import find_pg_bin

    database = _database()
    if not database.running():
        print("pulse: the database is not running: `pulse db start` or `pulse dev`", file=sys.stderr)
        return 2
    psql = find_pg_bin() / "psql"
    argv = [str(psql) if psql.exists() else "psql", database.url, *args.psql_args]
    os.execvp(argv[0], argv)  # noqa: S606 - replaces this process with psql, as intended


def _stack(args: argparse.Namespace) -> int:
    from pulse.local import deploy, emulator, gaps
    from pulse.local.dev import running_outputs

    layout = _layout()
    running, stack = running_outputs(layout)
    if args.action == "status":
        if not stack:
            print(f"{STACK_NAME}: not deployed ({running.endpoint})")
            return 1
        print(f"{STACK_NAME}: {stack.get('StackStatus')} on {running.endpoint}")
        for key, value in sorted(deploy.stack_outputs(stack).items()):
            print(f"  {key:20} {value}")
        deployed = layout.read_json(layout.deployed_file)
        if deployed.get("fingerprint") != deploy.source_fingerprint(layout.repo_root):
            print("  sources changed since the last deploy: `pulse stack deploy`")
        return 0
    if args.action == "destroy":
        deploy.destroy_stack(running.endpoint)
        layout.deployed_file.unlink(missing_ok=True)
        print(f"{STACK_NAME} deleted")
        return 0
    started = time.monotonic()
    result = deploy.deploy(layout, running.endpoint, force=args.force)
    template = layout.cdk_out / f"{STACK_NAME}.template.json"
    gaps.apply_fixes(
        emulator.MINISTACK_VERSION, running.endpoint, template if result.action in ("created", "updated") else None
    )
    deploy.point_database_secret(running.endpoint, result.outputs, _database().url)
    print(f"{STACK_NAME}: {result.action} in {time.monotonic() - started:.1f} s")
    return 0


def _token(args: argparse.Namespace) -> int:
    """Prints an ID token of a seeded login, for curl against the local API."""
    import json

    from pulse.local import demo, deploy, emulator
    from pulse.local.dev import running_outputs
    from pulse.local.seed import DEMO_TENANT

    layout = _layout()
    running, stack = running_outputs(layout)
    outputs = deploy.stack_outputs(stack) if stack else {}
    if "UserPoolId" not in outputs:
        print("pulse: the local stack is not running; start it with `make dev`", file=sys.stderr)
        return 2
    passwords = json.loads(layout.logins_file.read_text()) if layout.logins_file.is_file() else {}
    email = args.email or demo.demo_logins(DEMO_TENANT)[0][0]
    if email not in passwords:
        print(f"pulse: no seeded login {email!r}; known: {', '.join(sorted(passwords)) or 'none'}", file=sys.stderr)
        return 2
    cognito = emulator.boto_client("cognito-idp", running.endpoint)
    print(demo.id_token(cognito, outputs["UserPoolId"], outputs["UserPoolClientId"], email, passwords[email]))
    return 0


def _sim(args: argparse.Namespace) -> int:
    try:
        import pulse_sim
    except ImportError:
        print("pulse: the simulator (pulse_sim) is not installed in this environment", file=sys.stderr)
        return 2
    argv = list(args.sim_args)
    if not any(a == "--credentials" or a.startswith("--credentials=") for a in argv):
        argv = ["--credentials", str(_layout().devices), *argv]
    return int(pulse_sim.main(argv))


def _logs(args: argparse.Namespace) -> int:
    layout = _layout()
    if args.component:
        files = [layout.log(args.component)]
        if not files[0].exists():
            known = sorted(p.stem for p in layout.logs.glob("*.log"))
            print(f"pulse: no log for {args.component!r}; known: {', '.join(known) or 'none yet'}", file=sys.stderr)
            return 2
    else:
        files = sorted(layout.logs.glob("*.log"))
        if not files:
            print("pulse: no logs yet (they appear under .pulse/logs/ once `pulse dev` ran)", file=sys.stderr)
            return 2
    argv = ["tail", "-n", str(args.lines), *([] if args.no_follow else ["-F"]), *map(str, files)]
    os.execvp("tail", argv)  # noqa: S606


def add_db_commands(db: Any) -> None:
    """``pulse db start|stop|psql|reset`` next to the existing ``pulse db migrate``."""
    db.add_parser("start", help="start the local PostgreSQL cluster (.pulse/pg) and migrate").set_defaults(
        run=_db_start
    )
    db.add_parser("stop", help="stop the local cluster").set_defaults(run=_db_stop)
    db.add_parser("reset", help="drop and recreate the local database, migrated and empty").set_defaults(run=_db_reset)
    psql = db.add_parser(
        "psql", help="psql on the local database; extra arguments go to psql", prefix_chars="+"
    )  # so that `pulse db psql -c "..."` passes -c through
    psql.add_argument("psql_args", nargs=argparse.REMAINDER)
    psql.set_defaults(run=_db_psql)


def add_commands(commands: Any) -> None:
    dev = commands.add_parser("dev", help="run the whole platform locally (Ctrl-C stops it)")
    dev.add_argument("--devices", type=int, default=25, help="simulated devices to provision and run (default 25)")
    dev.add_argument("--no-sim", action="store_true", help="provision the devices but do not start the simulator")
    dev.add_argument(
        "--sim-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra simulator argument, repeatable (e.g. --sim-arg=--rate --sim-arg=10/s)",
    )
    dev.add_argument("--port", type=int, default=4566, help="emulator port (default 4566, or a free one)")
    dev.add_argument("--mqtt-port", type=int, default=8883, help="MQTT mTLS port (default 8883, or a free one)")
    dev.add_argument("--redeploy", action="store_true", help="synthesize and deploy even if sources are unchanged")
    dev.add_argument("--state-dir", help="state folder instead of .pulse/ (a second, independent platform)")
    dev.set_defaults(run=_dev)

    stack = commands.add_parser("stack", help="the local stack in the running emulator")
    stack.add_argument("action", choices=["deploy", "destroy", "status"])
    stack.add_argument("--force", action="store_true", help="deploy even if sources are unchanged")
    stack.set_defaults(run=_stack)

    token = commands.add_parser("token", help="print an ID token of a seeded local login (for curl)")
    token.add_argument("email", nargs="?", help="default: the demo tenant's admin")
    token.set_defaults(run=_token)

    sim = commands.add_parser(
        "sim", help="run the device simulator (arguments go to pulse_sim)", prefix_chars="+", add_help=False
    )
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    sim.set_defaults(run=_sim)

    logs = commands.add_parser("logs", help="follow the logs under .pulse/logs/")
    logs.add_argument("component", nargs="?", help="ministack, sim, ... (default: all)")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("--no-follow", action="store_true")
    logs.set_defaults(run=_logs)

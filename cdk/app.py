"""CDK entry point: ``cdk synth -c stage=dev|stage|prod`` or ``python cdk/app.py -c stage=prod``.

Context keys: ``stage`` (default ``dev``) and ``pulse:layer_platform`` (``aws`` default, or
``host`` for the local emulator). Account and region come from ``CDK_DEFAULT_ACCOUNT`` and
``CDK_DEFAULT_REGION``. cdk-nag's AwsSolutions pack runs as a validation plugin: an
unacknowledged finding fails the synth.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# `pulse_cdk` is installed into the project venv; this keeps a bare checkout working too.
if str(REPO_ROOT / "cdk") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "cdk"))

from pulse_cdk.application import create_app  # noqa: E402
from pulse_cdk.packaging import load_layer_builder  # noqa: E402


def parse_context_args(argv: list[str]) -> dict[str, str]:
    """``-c key=value`` pairs, for runs without the CDK CLI (which passes context itself)."""
    context: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        if arg in ("-c", "--context"):
            pair = next(args, "")
        elif arg.startswith("--context="):
            pair = arg.removeprefix("--context=")
        else:
            raise SystemExit(f"unexpected argument {arg!r}; usage: app.py [-c key=value]...")
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"context must be key=value, got {pair!r}")
        context[key] = value
    return context


def main(argv: list[str]) -> int:
    # layers/build.py is loaded by path, so its error type is looked up the same way.
    layer_build_error = load_layer_builder(REPO_ROOT).LayerBuildError
    # Without the CLI there is no CDK_OUTDIR: write where `cdk deploy --app cdk.out` looks.
    outdir = None if "CDK_OUTDIR" in os.environ else str(REPO_ROOT / "cdk.out")
    try:
        pulse = create_app(REPO_ROOT, context=parse_context_args(argv), outdir=outdir)
        pulse.app.synth()
    except layer_build_error as exc:
        print(f"layer build failed: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # bad context values
        print(f"cannot synthesize: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # jsii's wrapper around CDK errors
        if "ValidationFailed" not in str(exc):
            raise
        # CDK has already printed each finding; this only replaces the jsii traceback.
        print(f"synthesis stopped by validation findings: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

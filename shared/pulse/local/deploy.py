"""Synthesize the CDK app for the local target and deploy that template into the emulator.

The same app as ``cdk deploy`` with two context values: ``stage=local`` and
``pulse:layer_platform=host`` (layers built for this machine's interpreter). Deploying is what the
CDK CLI does, minus Node start-up: publish the file assets to the bootstrap bucket, set the
bootstrap version parameter, then CloudFormation ``create_stack``/``update_stack``. A deployment
is skipped when the sources it was synthesized from are unchanged and the stack is healthy, and
an update is skipped when the synthesized template is byte-identical, so a second ``make dev``
does not pay for a synth.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.errors import ConfigurationError
from pulse.local.emulator import ACCOUNT_ID, MINISTACK_VERSION, REGION, boto_client
from pulse.local.layout import STACK_NAME, STAGE, LocalLayout

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_BUCKET = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{ACCOUNT_ID}-{REGION}"
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
BOOTSTRAP_VERSION = "30"
# What the synthesized template is made from; a change anywhere here means synthesize again.
SOURCE_GLOBS = ("cdk/**/*.py", "functions/**/*.py", "shared/pulse/**/*", "layers/*.py", "uv.lock", "cdk.json")
_IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache"})
_TERMINAL_OK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
_STACK_POLL_S = 0.2


class DeployError(ConfigurationError):
    title = "Local deployment failed"


@dataclass(frozen=True)
class DeployResult:
    outputs: dict[str, str]
    action: str  # "created", "updated", "unchanged", "skipped"
    seconds: float


def source_fingerprint(repo_root: Path) -> str:
    digest = hashlib.sha256(f"{STAGE}:host:{MINISTACK_VERSION}:{sys.version_info[:2]}".encode())
    paths: set[Path] = set()
    for pattern in SOURCE_GLOBS:
        paths.update(
            p
            for p in repo_root.glob(pattern)
            if p.is_file() and not _IGNORED_PARTS.intersection(p.parts) and p.suffix != ".pyc"
        )
    for path in sorted(paths):
        digest.update(path.relative_to(repo_root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def synthesize(layout: LocalLayout) -> Path:
    """Run ``cdk/app.py`` for the local stage into ``.pulse/cdk.out``; returns the template path."""
    repo = layout.repo_root
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT_"))}
    node_bin = repo / "tooling" / "node_modules" / ".bin"
    env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_OUTDIR"] = str(layout.cdk_out)
    result = subprocess.run(
        [sys.executable, str(repo / "cdk" / "app.py"), "-c", f"stage={STAGE}", "-c", "pulse:layer_platform=host"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    template = layout.cdk_out / f"{STACK_NAME}.template.json"
    if result.returncode != 0 or not template.is_file():
        raise DeployError(f"synthesis failed (exit {result.returncode}):\n{(result.stderr or result.stdout)[-4000:]}")
    return template


def _synthesized_for(layout: LocalLayout, fingerprint: str) -> Path:
    """The template in ``cdk.out`` when it was synthesized from these sources, else a fresh synth.

    Spares the synth when only the emulator's state is new (wiped state, ``pulse stack destroy``).
    """
    marker = layout.cdk_out / "pulse-fingerprint"
    template = layout.cdk_out / f"{STACK_NAME}.template.json"
    if template.is_file() and marker.is_file() and marker.read_text() == fingerprint:
        return template
    marker.unlink(missing_ok=True)
    template = synthesize(layout)
    marker.write_text(fingerprint)
    return template


def _zip_directory(source: Path, target: Path) -> None:
    """Deterministic zip of ``source`` (fast compression: 80 MB of wheels, zipped once per hash)."""
    staging = target.with_suffix(".partial")
    with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(_walk(source)):
            archive.write(path, path.relative_to(source).as_posix())
    os.replace(staging, target)


def _walk(root: Path) -> Iterator[Path]:
    for directory, _dirs, files in os.walk(root):
        for name in files:
            yield Path(directory) / name


def publish_assets(layout: LocalLayout, s3: Any) -> str:
    """Upload every file asset of the stack that the bucket lacks; returns the template's URL.

    The template itself is one of the assets (it is over the 51,200-byte limit of ``TemplateBody``).
    """
    manifest = json.loads((layout.cdk_out / f"{STACK_NAME}.assets.json").read_text())
    layout.assets.mkdir(parents=True, exist_ok=True)
    template_url = ""
    for asset in manifest.get("files", {}).values():
        source = layout.cdk_out / asset["source"]["path"]
        packaging = asset["source"].get("packaging", "file")
        for destination in asset["destinations"].values():
            key = destination["objectKey"]
            if asset["source"]["path"] == f"{STACK_NAME}.template.json":
                template_url = f"https://s3.{REGION}.amazonaws.com/{BOOTSTRAP_BUCKET}/{key}"
            if _object_exists(s3, key):
                continue
            if packaging == "zip":
                archive = layout.assets / key
                if not archive.is_file():
                    _zip_directory(source, archive)
                s3.upload_file(str(archive), BOOTSTRAP_BUCKET, key)
            else:
                s3.upload_file(str(source), BOOTSTRAP_BUCKET, key)
    if not template_url:
        raise DeployError(f"the asset manifest in {layout.cdk_out} does not list the {STACK_NAME} template")
    return template_url


def _object_exists(s3: Any, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=BOOTSTRAP_BUCKET, Key=key)
    except ClientError:
        return False
    return True


def bootstrap(endpoint: str) -> Any:
    """What ``cdk bootstrap`` leaves that the template checks: the asset bucket and the version parameter."""
    from botocore.exceptions import ClientError

    s3 = boto_client("s3", endpoint)
    try:
        s3.head_bucket(Bucket=BOOTSTRAP_BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=BOOTSTRAP_BUCKET)
    boto_client("ssm", endpoint).put_parameter(
        Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
    )
    return s3


def stack_status(endpoint: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = boto_client("cloudformation", endpoint).describe_stacks(StackName=STACK_NAME)["Stacks"]
    except ClientError:
        return None
    return dict(stacks[0]) if stacks else None


def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy(layout: LocalLayout, endpoint: str, *, force: bool = False) -> DeployResult:
    """Deploy the local stack unless the deployed one was built from the same sources."""
    started = time.monotonic()
    fingerprint = source_fingerprint(layout.repo_root)
    previous = layout.read_json(layout.deployed_file)
    current = stack_status(endpoint)
    healthy = current is not None and current.get("StackStatus") in _TERMINAL_OK
    if not force and healthy and previous.get("fingerprint") == fingerprint and current is not None:
        return DeployResult(stack_outputs(current), "skipped", time.monotonic() - started)

    template_path = _synthesized_for(layout, fingerprint)
    body = template_path.read_text()
    template_hash = hashlib.sha256(body.encode()).hexdigest()
    s3 = bootstrap(endpoint)
    template_url = publish_assets(layout, s3)
    if not force and healthy and current is not None and previous.get("template_hash") == template_hash:
        action, outputs = "unchanged", stack_outputs(current)
    else:
        action, outputs = _create_or_update(
            endpoint, template_url, exists=current is not None, failed=current is not None and not healthy
        )
    layout.write_json(
        layout.deployed_file,
        {"fingerprint": fingerprint, "template_hash": template_hash, "outputs": outputs, "deployed_at": time.time()},
    )
    return DeployResult(outputs, action, time.monotonic() - started)


def _create_or_update(endpoint: str, template_url: str, *, exists: bool, failed: bool) -> tuple[str, dict[str, str]]:
    from botocore.exceptions import ClientError

    cfn = boto_client("cloudformation", endpoint)
    if failed:  # a stack stuck in CREATE_FAILED/ROLLBACK_COMPLETE cannot be updated: start over
        destroy_stack(endpoint)
        exists = False
    arguments = {
        "StackName": STACK_NAME,
        "TemplateURL": template_url,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    if not exists:
        cfn.create_stack(**arguments)
        action = "created"
    else:
        try:
            cfn.update_stack(**arguments)
        except ClientError as exc:
            if "No updates" not in str(exc):
                raise DeployError(f"update_stack refused: {exc}") from exc
            stack = stack_status(endpoint)
            return "unchanged", stack_outputs(stack or {})
        action = "updated"
    stack = _wait_for_stack(cfn)
    return action, stack_outputs(stack)


def _wait_for_stack(cfn: Any, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        status = stack["StackStatus"]
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return dict(stack)
        if status.endswith(("_FAILED", "ROLLBACK_COMPLETE")):
            raise DeployError(f"{STACK_NAME}: {status}: {stack.get('StackStatusReason', '')}\n" + _failed_events(cfn))
        time.sleep(_STACK_POLL_S)
    raise DeployError(f"{STACK_NAME} did not finish deploying within {timeout_s:.0f} s")


def _failed_events(cfn: Any) -> str:
    events = cfn.describe_stack_events(StackName=STACK_NAME).get("StackEvents", [])
    failed = [
        f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return "\n".join(failed[:20])


def destroy_stack(endpoint: str) -> None:
    """Delete the stack and the secret it retains (locally nothing typed by hand lives there)."""
    from botocore.exceptions import ClientError

    cfn = boto_client("cloudformation", endpoint)
    if stack_status(endpoint) is None:
        return
    cfn.delete_stack(StackName=STACK_NAME)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stack = stack_status(endpoint)
        if stack is None or stack.get("StackStatus") == "DELETE_COMPLETE":
            break
        time.sleep(_STACK_POLL_S)
    with contextlib.suppress(ClientError):
        boto_client("secretsmanager", endpoint).delete_secret(
            SecretId=f"pulse/{STAGE}/database-url", ForceDeleteWithoutRecovery=True
        )


def point_database_secret(endpoint: str, outputs: dict[str, str], database_url: str) -> bool:
    """Store the local database URL in the stack's secret; returns whether it changed."""
    secrets = boto_client("secretsmanager", endpoint)
    secret_id = outputs["DatabaseSecretArn"]
    current = secrets.get_secret_value(SecretId=secret_id).get("SecretString")
    if current == database_url:
        return False
    secrets.put_secret_value(SecretId=secret_id, SecretString=database_url)
    return True

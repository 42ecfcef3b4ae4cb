"""Build what every Pulse Lambda runs on: the dependency layer, the ``pulse`` code layer and the
bundle of handler folders.

The CDK app imports this module at synth time; it also runs on its own so CI or a developer can
warm the cache before synthesizing::

    python layers/build.py --platform aws     # arm64 wheels for the python3.12 Lambda runtime
    python layers/build.py --platform host    # wheels for this machine (local emulator, tests)

Why it looks like this:

* The dependency layer is installed from ``uv.lock`` (``uv export``), never from loose ranges, so
  what runs in Lambda is exactly what the tests ran against.
* Installing wheels for another platform needs no Docker: ``uv pip install --python-platform``
  picks the aarch64 wheels. The project venv carries no pip, and uv is already the lock's tool.
* Each artifact lands in a directory named after a hash of its inputs and is reused while that
  directory exists. A synth after the first one costs a hash of ``uv.lock`` and of the small
  source trees, not a download. The hash doubles as the CDK asset hash, so CDK does not re-hash
  60 MB of wheels either.
* Directories are built under a temporary name and renamed into place, so an interrupted build
  never leaves a half-filled directory that later looks cached.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform as host_platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

LayerPlatform = Literal["aws", "host"]

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON_VERSION = "3.12"
# The python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): every manylinux wheel up to 2_34
# loads there. manylinux2014 alone is too narrow (psycopg-binary 3.3 ships only 2_28 aarch64 wheels).
AWS_PYTHON_PLATFORM = "aarch64-manylinux_2_34"
# Bump when the layout produced below changes, so existing caches are not reused.
BUILD_FORMAT = "1"
# Cached artifacts of one kind kept side by side (a branch switch back and forth stays fast).
KEEP_PER_KIND = 3
_INSTALL_HINT = (
    "The aws target downloads aarch64 wheels from PyPI; offline, synthesize for the local target "
    "with `-c pulse:layer_platform=host` once the host wheels are in the uv cache."
)
_IGNORED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".DS_Store"})
_IGNORED_SUFFIXES = (".pyc", ".pyo")


class LayerBuildError(RuntimeError):
    """A layer could not be built; the message says which command failed and what to try."""


@dataclass(frozen=True)
class BuiltArtifact:
    """A directory ready to become a Lambda asset, and the key it was cached under."""

    path: Path
    key: str


def default_out_root(repo_root: Path = REPO_ROOT) -> Path:
    return repo_root / ".build" / "layers"


def build_dependency_layer(
    layer_platform: LayerPlatform,
    *,
    repo_root: Path = REPO_ROOT,
    out_root: Path | None = None,
) -> BuiltArtifact:
    """Install the locked runtime dependencies into ``<out>/<platform>-<hash>/python``.

    ``aws`` installs aarch64 wheels for CPython 3.12 (what the functions run on); ``host`` installs
    wheels for the interpreter running this script, for the local emulator and tests. The hash
    covers the runtime requirements exported from ``uv.lock`` (not the whole lock): a lock change
    that only touches dev tooling keeps the cached layer and, as the asset hash is the same, does
    not publish a new layer version to every function on the next deploy.
    """
    if layer_platform not in get_args(LayerPlatform):
        raise LayerBuildError(f"unknown layer platform {layer_platform!r}; use one of {get_args(LayerPlatform)}")
    if not (repo_root / "uv.lock").is_file():
        raise LayerBuildError(f"{repo_root / 'uv.lock'} is missing: the dependency layer is built from the uv lock")
    requirements = export_requirements(repo_root)
    key = _digest([BUILD_FORMAT.encode(), _target_description(layer_platform).encode(), requirements.encode()])
    destination = (out_root or default_out_root(repo_root)) / f"{layer_platform}-{key[:16]}"
    return BuiltArtifact(
        path=_build_once(destination, lambda tmp: _install_dependencies(layer_platform, repo_root, requirements, tmp)),
        key=key,
    )


def export_requirements(repo_root: Path = REPO_ROOT) -> str:
    """The runtime dependencies pinned by ``uv.lock``: no dev groups, no hashes, not the project."""
    return _run(
        [
            _find_uv(repo_root),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-emit-project",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
        ],
        cwd=repo_root,
        what="export the runtime requirements from uv.lock",
        hint="Is uv.lock in sync with pyproject.toml? `uv lock` updates it.",
    )


def build_code_layer(*, repo_root: Path = REPO_ROOT, out_root: Path | None = None) -> BuiltArtifact:
    """Copy ``shared/pulse`` into ``<out>/code-<hash>/python/pulse`` (SQL migrations included)."""
    source = repo_root / "shared" / "pulse"
    if not (source / "__init__.py").is_file():
        raise LayerBuildError(f"{source} is not the pulse package (no __init__.py)")
    key = _digest([BUILD_FORMAT.encode(), *_tree_fingerprint(source)])
    destination = (out_root or default_out_root(repo_root)) / f"code-{key[:16]}"
    return BuiltArtifact(
        path=_build_once(destination, lambda tmp: _copy_tree(source, tmp / "python" / "pulse")),
        key=key,
    )


def stage_function_code(*, repo_root: Path = REPO_ROOT, out_root: Path | None = None) -> BuiltArtifact:
    """Copy ``functions/`` into ``<out>/functions-<hash>/functions`` for the function asset.

    The asset root holds a ``functions`` folder so that handlers are addressed as
    ``functions/<name>/handler.lambda_handler``: the module path is ``functions.<name>.handler``
    in Lambda and in-process tests alike, and a handler folder can never shadow a package from
    the dependency layer.
    """
    source = repo_root / "functions"
    source.mkdir(exist_ok=True)
    key = _digest([BUILD_FORMAT.encode(), *_tree_fingerprint(source)])
    destination = (out_root or default_out_root(repo_root)) / f"functions-{key[:16]}"
    return BuiltArtifact(
        path=_build_once(destination, lambda tmp: _copy_tree(source, tmp / "functions")),
        key=key,
    )


def _target_description(layer_platform: LayerPlatform) -> str:
    if layer_platform == "aws":
        return f"aws:{AWS_PYTHON_PLATFORM}:cp{LAMBDA_PYTHON_VERSION}"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"host:{sys.platform}:{host_platform.machine()}:cp{version}:{sys.implementation.name}"


def _install_dependencies(layer_platform: LayerPlatform, repo_root: Path, requirements: str, out: Path) -> None:
    requirements_file = out.parent / f"{out.name}.requirements.txt"
    requirements_file.write_text(requirements)
    install = [
        _find_uv(repo_root),
        "pip",
        "install",
        "--target",
        str(out / "python"),
        "--requirements",
        str(requirements_file),
        "--only-binary",
        ":all:",
        "--no-deps",  # the export is already the complete, pinned closure
        "--link-mode",
        "copy",  # files of their own, not hard links into the uv cache
        "--quiet",
    ]
    if layer_platform == "aws":
        install += ["--python-platform", AWS_PYTHON_PLATFORM, "--python-version", LAMBDA_PYTHON_VERSION]
    else:
        install += ["--python", sys.executable]
    try:
        _run(install, cwd=repo_root, what=f"install the {layer_platform} dependency wheels", hint=_INSTALL_HINT)
    finally:
        requirements_file.unlink(missing_ok=True)
    # Console scripts carry the build machine's interpreter path and are useless in a layer.
    shutil.rmtree(out / "python" / "bin", ignore_errors=True)


def _find_uv(repo_root: Path) -> str:
    """The project's pinned uv (``.tools/bin/uv`` of the sources, or of this checkout), else PATH."""
    candidates = [root / ".tools" / "bin" / "uv" for root in dict.fromkeys((repo_root, REPO_ROOT))]
    for bundled in candidates:
        if bundled.is_file():
            return str(bundled)
    found = shutil.which("uv")
    if found:
        return found
    raise LayerBuildError(f"uv not found (looked in {', '.join(map(str, candidates))} and on PATH): run `make setup`")


def _run(command: list[str], *, cwd: Path, what: str, hint: str) -> str:
    """Run ``command``; return its stdout, or raise a ``LayerBuildError`` that says what failed."""
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise LayerBuildError(f"could not {what}: {command[0]}: {exc}") from exc
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip()
        raise LayerBuildError(
            f"could not {what} (exit {completed.returncode}).\ncommand: {' '.join(command)}\n{output[-3000:]}\n{hint}"
        )
    return completed.stdout


def _build_once(destination: Path, fill: Callable[[Path], None]) -> Path:
    """Return ``destination``, filling it through a temporary sibling if it does not exist yet."""
    if destination.is_dir():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    # mkdtemp makes the directory private; Lambda unpacks assets as another user, so it must be
    # world-readable like everything else in the zip.
    staging.chmod(0o755)
    try:
        fill(staging)
        try:
            staging.rename(destination)
        except OSError:
            if not destination.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune_siblings(destination)
    return destination


def _prune_siblings(current: Path) -> None:
    """Keep the newest few cached directories of the same kind (``aws-``, ``code-``, ...)."""
    kind = current.name.rsplit("-", 1)[0] + "-"
    siblings = [
        p
        for p in current.parent.iterdir()
        if p.is_dir() and p.name.startswith(kind) and p.name.rsplit("-", 1)[0] + "-" == kind
    ]
    siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in siblings[KEEP_PER_KIND:]:
        if stale != current:
            shutil.rmtree(stale, ignore_errors=True)


def _walk_files(root: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_NAMES)
        for name in sorted(filenames):
            if name not in _IGNORED_NAMES and not name.endswith(_IGNORED_SUFFIXES):
                yield Path(directory) / name


def _tree_fingerprint(root: Path) -> Iterator[bytes]:
    for path in _walk_files(root):
        yield path.relative_to(root).as_posix().encode()
        yield path.read_bytes()


def _copy_tree(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for path in _walk_files(source):
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _digest(parts: list[bytes] | Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", choices=get_args(LayerPlatform), default="aws")
    parser.add_argument("--out", type=Path, default=None, help="output root (default .build/layers)")
    args = parser.parse_args(argv)
    try:
        artifacts = {
            "dependencies": build_dependency_layer(args.platform, out_root=args.out),
            "code": build_code_layer(out_root=args.out),
            "functions": stage_function_code(out_root=args.out),
        }
    except LayerBuildError as exc:
        print(f"layer build failed: {exc}", file=sys.stderr)
        return 1
    for name, artifact in artifacts.items():
        print(f"{name}: {artifact.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The code every Pulse function is made of: two layers and one bundle of handler folders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from pulse_cdk.config import StageConfig

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
_BUILD_MODULE_NAME = "pulse_layers_build"


def load_layer_builder(repo_root: Path) -> ModuleType:
    """Import ``layers/build.py``: a standalone script, so it is loaded by path, not installed."""
    if _BUILD_MODULE_NAME in sys.modules:
        return sys.modules[_BUILD_MODULE_NAME]
    script = repo_root / "layers" / "build.py"
    spec = importlib.util.spec_from_file_location(_BUILD_MODULE_NAME, script)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load the layer builder at {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BUILD_MODULE_NAME] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


class LambdaPackaging(Construct):
    """Builds (or reuses) the artifacts at synth time and wraps them as CDK assets.

    ``dependency_layer`` holds the locked third-party wheels, ``code_layer`` the ``pulse``
    package, ``function_code`` the ``functions/`` folder. Every function shares the same three, so
    a change to the domain library redeploys one small layer, not N copies of it. The asset hash
    is the build's cache key, which spares CDK from fingerprinting the wheels on every synth.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._builder = load_layer_builder(config.repo_root)
        self.dependency_layer = self._build_dependency_layer()
        self.code_layer = self._build_code_layer()
        self.function_code = self._build_function_code()

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        """Both unpack into ``/opt/python``; they never share a path, so their order is irrelevant."""
        return [self.dependency_layer, self.code_layer]

    def _build_dependency_layer(self) -> lambda_.LayerVersion:
        built = self._builder.build_dependency_layer(self._config.layer_platform, repo_root=self._config.repo_root)
        return lambda_.LayerVersion(
            self,
            "DependencyLayer",
            code=lambda_.Code.from_asset(str(built.path), asset_hash=built.key, asset_hash_type=AssetHashType.CUSTOM),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"Pulse runtime dependencies from uv.lock ({self._config.layer_platform})",
            removal_policy=self._config.removal_policy,
        )

    def _build_code_layer(self) -> lambda_.LayerVersion:
        built = self._builder.build_code_layer(repo_root=self._config.repo_root)
        return lambda_.LayerVersion(
            self,
            "CodeLayer",
            code=lambda_.Code.from_asset(str(built.path), asset_hash=built.key, asset_hash_type=AssetHashType.CUSTOM),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Pulse domain library (shared/pulse)",
            removal_policy=self._config.removal_policy,
        )

    def _build_function_code(self) -> lambda_.Code:
        built = self._builder.stage_function_code(repo_root=self._config.repo_root)
        return lambda_.Code.from_asset(str(built.path), asset_hash=built.key, asset_hash_type=AssetHashType.CUSTOM)

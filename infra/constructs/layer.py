"""The layer every function runs on: the dependencies, built for Lambda by ``infra.layer``, and ``passport``."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.common import ARCHITECTURE, RUNTIME
from infra.layer import build_layer, is_built


class PassportLayer(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings_file: Path | None = None,
        layer_dir: Path | None = None,
        retain: bool = True,
    ) -> None:
        super().__init__(scope, id)
        #: The built folder (``python/`` + ``passport.toml``); built now unless given or cached.
        self.directory = Path(layer_dir) if layer_dir else build_layer(settings_file=settings_file)
        # infra.layer names each build by a digest of everything in it: the asset needs no hashing of its own
        # (tens of megabytes, at every synth).
        built = is_built(self.directory)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(self.directory),
                asset_hash=self.directory.name if built else None,
                asset_hash_type=AssetHashType.CUSTOM if built else None,
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="lambda-passport: the passport package, its dependencies and passport.toml",
            # A guard in another stack may still name an older version: by default a new version never deletes
            # the one before it.
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )

#!/usr/bin/env python3
"""The CDK app (``cdk.json`` runs it): PassportStack from passport.toml. Synth needs no AWS credentials."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The package is installed in the virtual environment (pip install -e .); this keeps a bare checkout working too.
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(1, str(ROOT / "shared"))

from infra.app import main  # noqa: E402

if __name__ == "__main__":
    main()

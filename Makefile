# lambda-passport: `make serve` runs the local server, `make test` runs the whole suite (exactly what CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test bench fuzz lint install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@scripts/ensure-dynamodb-local $(BIN)/python

serve: $(STAMP)
	@scripts/ensure-dynamodb-local $(BIN)/python
	HOST=$(HOST) PORT=$(PORT) $(BIN)/passport serve

test: $(STAMP)
	scripts/ensure-browser
	scripts/ensure-dynamodb-local $(BIN)/python
	scripts/ensure-node-clients
	$(BIN)/ruff check shared functions tests bench infra app.py
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	@scripts/ensure-dynamodb-local $(BIN)/python
	$(BIN)/python -m bench

# Coverage-guided fuzzing (tests/fuzz/): each target for FUZZ_SECONDS in its own process, seeded from and merged
# into tests/fuzz/corpus/ (which make test replays); crashes are kept in tests/fuzz/crashes/ and fail the run.
# FUZZ_TARGETS picks targets (all when empty); FUZZ_ENGINE=hypothesis forces the fallback.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_ENGINE ?= auto
FUZZ_STAMP := $(VENV)/.fuzz-stamp

# The `fuzz` extra's requirements alone (read from pyproject.toml), as wheels only: reinstalling the project
# itself would disturb a test run in the same checkout, and building atheris from source needs a libFuzzer
# toolchain. Where no wheel fits, the stamp is not made and make fuzz falls back to Hypothesis.
$(FUZZ_STAMP): $(STAMP)
	@$(BIN)/python -m pip install --quiet --only-binary=:all: $$($(BIN)/python -c 'import tomllib; \
		print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["fuzz"])') \
		&& touch $@ || echo "make fuzz: atheris could not be installed here (no wheel?): Hypothesis will search"

fuzz: $(FUZZ_STAMP)
	$(BIN)/python -m tests.fuzz --seconds $(FUZZ_SECONDS) --engine $(FUZZ_ENGINE) --targets "$(FUZZ_TARGETS)"

lint: $(STAMP)
	$(BIN)/ruff check shared functions tests bench infra app.py

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .ruff_cache

# -- AWS: the CDK app (app.py, cdk.json, infra/). `make synth` needs no AWS credentials and, once the layer's
# wheels are cached in .build/, no network; `make deploy` takes credentials from the usual chain (AWS_PROFILE...).
# The CDK CLI comes from the npm registry, pinned, into ./node_modules (git-ignored); telemetry and notices off.
CDK_CLI_VERSION := 2.1148.1
CDK := node_modules/.bin/cdk
CDK_STAMP := node_modules/.aws-cdk-$(CDK_CLI_VERSION)
CDK_ENV := CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
DEPLOY_FLAGS ?=

.PHONY: layer synth deploy bootstrap

# npm, the CDK CLI and the CDK app's jsii runtime run node from PATH: a missing or broken one (a version manager's
# shim for a version not installed) is one line saying what to do, not a stack trace.
NODE_CHECK = @node --version >/dev/null 2>&1 || { echo "node (Node.js 20 or later) is not on PATH or does not run: install it, then run make again" >&2; exit 1; }

$(CDK_STAMP):
	$(NODE_CHECK)
	npm install --prefix "$(CURDIR)" --no-save --no-package-lock --no-audit --no-fund --loglevel=error aws-cdk@$(CDK_CLI_VERSION)
	@touch $(CDK_STAMP)

# The Lambda layer (dependencies built for Lambda's arm64 Linux and Python, plus passport), cached in .build/.
layer: $(STAMP)
	$(BIN)/python -m infra.layer

# No context lookups, and no instance-metadata probe for credentials: synth talks to nothing.
synth: $(STAMP) $(CDK_STAMP)
	$(NODE_CHECK)
	$(CDK_ENV) AWS_EC2_METADATA_DISABLED=true $(CDK) synth --no-notices --no-lookups --quiet
	@echo "Synthesized: cdk.out/PassportStack.template.json, checked by cdk-nag (AwsSolutions)"

# Once per account and region: the CDK's asset bucket and deploy roles.
bootstrap: $(STAMP) $(CDK_STAMP)
	$(NODE_CHECK)
	$(CDK_ENV) $(CDK) bootstrap --no-notices

deploy: $(STAMP) $(CDK_STAMP)
	$(NODE_CHECK)
	$(CDK_ENV) $(CDK) deploy --no-notices $(DEPLOY_FLAGS) PassportStack

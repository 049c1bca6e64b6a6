"""The AWS deployment: the CDK app (``app``), ``PassportStack`` (``stack``), its constructs, and the build of the
Lambda layer (``layer``)."""

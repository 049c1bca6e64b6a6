"""Running locally: the embedded store (moto's server on loopback, persisted under ``.passport/``) and the
local gateway (API Gateway's twin). The only package that knows it is not on AWS."""

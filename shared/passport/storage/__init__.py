"""DynamoDB storage through pynamodb: the models, the adapters behind :mod:`passport.ports`, table set-up."""

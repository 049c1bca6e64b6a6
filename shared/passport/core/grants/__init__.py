"""One module per grant; each grant is a small class with ``GRANT_TYPE``, a validate step and a response step."""

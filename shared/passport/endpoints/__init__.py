"""Small endpoints that are not part of the OAuth core: discovery documents and the demo API."""

"""Network layer (HTTP client factory, OAuth): the only package that opens connections. Arrives with the sync issue."""

"""Alpha Peer composition root: command line, wiring, migrations and demo data."""

"""Alpha Peer domain core: models, services, money, time, errors and the unit of work."""

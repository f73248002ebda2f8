"""Chat surfaces: thin adapters from platform events to Turns and from Replies to calls."""

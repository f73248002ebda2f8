"""Platform-neutral chat logic: Turn in, Replies out. No chat SDK or web framework here."""

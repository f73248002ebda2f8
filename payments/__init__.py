"""Payment providers implementing core's payment port (sandbox and Stripe)."""

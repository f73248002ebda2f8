"""The small web server: health, checkout links, and (later) webhooks and join redirects."""

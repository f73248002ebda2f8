"""The OpenAI-compatible assistant behind core.ai_port."""

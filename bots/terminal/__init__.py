"""A chat surface on standard input and output, for development, demos and tests."""

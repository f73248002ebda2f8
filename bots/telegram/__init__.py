"""Telegram surface (python-telegram-bot): ingest, render and app, like bots/terminal."""

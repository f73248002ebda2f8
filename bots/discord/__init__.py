"""Discord surface (discord.py slash commands and persistent buttons), like bots/terminal."""

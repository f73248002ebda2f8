"""Email transports: SMTP (aiosmtplib) and a local folder for development."""

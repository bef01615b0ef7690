"""Outgoing network calls to URLs that users registered (apps, webhooks): see ``outbound``."""

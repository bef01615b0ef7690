"""hiraga — an open, self-hostable generative-AI platform for government and companies."""

__version__ = "0.1.0"

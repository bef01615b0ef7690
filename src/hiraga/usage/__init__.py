"""Usage: what each model call consumed, the limits on it, and how tokens are counted."""

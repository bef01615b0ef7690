"""Search indexes: the ``SearchIndex`` seam and its embedded and PostgreSQL implementations."""

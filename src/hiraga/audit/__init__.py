"""The tamper-evident audit log: the hash chain, verification, retention with signed checkpoints,
queries and exports. Framework-free: the web layer and the CLI call these services."""

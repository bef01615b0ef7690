"""AI apps: registered Gennai-protocol apps (registry, client, runs) and hiraga's own apps,
served over the same protocol."""

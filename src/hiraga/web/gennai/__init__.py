"""hiraga's own apps over the Gennai AI-app protocol: ``/gennai/apps/{name}``."""

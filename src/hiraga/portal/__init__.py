"""The portal staff use every day: chat, the built-in task apps, the use-case builder and the
catalogue. Framework-free services; the web layer (hiraga.web.pages / hiraga.web.api) stays thin."""

"""The model gateway: one OpenAI-compatible front door for every model call in hiraga.

``registry`` manages endpoints and aliases, ``catalog`` holds a short-lived in-memory snapshot of
them, ``service`` runs one call through policy → route → provider → audit, and ``wiring`` hangs it
into the app. Web routes live in ``hiraga.web.v1`` (``/v1``) and ``hiraga.web.api.models``.
"""

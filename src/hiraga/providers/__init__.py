"""Model providers: the built-ins behind the ``hiraga.providers`` entry-point group."""

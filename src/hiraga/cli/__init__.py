"""The ``hiraga`` command line."""

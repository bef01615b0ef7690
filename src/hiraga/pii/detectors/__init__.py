"""Built-in detectors, registered in pyproject under the ``hiraga.pii_detectors`` entry-point group."""

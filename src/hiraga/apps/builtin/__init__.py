"""hiraga's built-in task apps, declared in the ``hiraga.apps`` entry-point group like any plugin."""

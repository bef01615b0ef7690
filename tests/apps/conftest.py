from app_world import reference_app, settings, world  # noqa: F401  (fixtures)

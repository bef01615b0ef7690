from app_world import app_settings, reference_app, world  # noqa: F401  (fixtures)

from gateway_world import settings, stub, world  # noqa: F401  (fixtures)

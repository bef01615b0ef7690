"""The OpenAI-compatible API under ``/v1``: raw Starlette routes (no dependency injection) on the
hot path; the work is done by ``hiraga.gateway.service``."""

from hiraga.web.v1.routes import routes

__all__ = ["routes"]

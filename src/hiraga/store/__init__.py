"""Persistence: SQLAlchemy tables, the engine/session factory and Alembic migrations."""

"""Alembic migrations of the Tailorwise schema."""

"""API keys managed by the tenant's admin: list, create, revoke, rotate."""

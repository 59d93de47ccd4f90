"""CRM sync: bulk customer upserts by last writer wins, and the change feed."""

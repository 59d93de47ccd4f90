"""Serving machinery shared by recommendations and treatment: kept reads and the change listener."""

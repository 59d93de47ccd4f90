"""Tailorwise HTTP service: API, persistence, auth and jobs."""

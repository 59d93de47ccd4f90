"""Recommendations gated by the scorer: LightFM training, model versions and serving."""

"""Holdout experiments: assignment, exposures, results from ordinary events, and acting on the verdict."""

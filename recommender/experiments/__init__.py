"""Holdout-experiment statistics: assignment, CUPED, Welch and always-valid intervals, SRM, verdicts."""

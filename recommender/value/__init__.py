"""Personalization-value scorer: does tailoring one attribute to the customer pay? (docs/scorer.md)."""

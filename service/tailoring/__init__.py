"""Attribute scoring, tailoring decisions, marketer settings and per-customer tailoring plans."""

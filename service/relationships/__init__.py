"""Relationship types per journey phase: who leads, business or customer, as judged by the scorer."""

"""Engagement preferences: how much each customer wants to do themselves, per journey phase."""

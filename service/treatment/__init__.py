"""Priority treatment at touchpoints: customer value tiers, touchpoint policies, treatment decisions."""

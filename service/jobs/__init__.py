"""Background runs (scoring, training): a status resource, a runner, and claiming."""

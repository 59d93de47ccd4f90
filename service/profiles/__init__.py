"""The profile store: customers, stated preferences, choice events, consent."""

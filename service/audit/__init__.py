"""Who changed what, when: the audit log."""

"""GDPR access and erasure across every domain that holds personal data."""

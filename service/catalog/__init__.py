"""The catalog: attribute definitions and items with their normalized attribute values."""

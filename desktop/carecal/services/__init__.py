"""Carecal services package."""

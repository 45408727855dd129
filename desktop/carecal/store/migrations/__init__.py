"""Carecal store migrations package."""

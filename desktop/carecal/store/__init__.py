"""Carecal store package."""

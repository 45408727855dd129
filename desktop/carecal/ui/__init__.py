"""Carecal ui package."""

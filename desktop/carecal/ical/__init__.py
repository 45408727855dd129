"""Carecal ical package."""

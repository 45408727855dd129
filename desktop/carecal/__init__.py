"""Carecal: local-first scheduling for solo practitioners and their front desk."""

__version__ = "0.1.0"

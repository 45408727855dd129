"""Pure-Python domain: models, recurrence, availability, merge. No I/O, no Qt, no peewee."""

"""Remote calendar systems behind one protocol (base.py); one module per provider."""

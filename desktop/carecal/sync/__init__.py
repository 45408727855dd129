"""The provider-neutral two-way sync engine (no Qt; asyncio). Entry points: ``engine.sync_account``
and ``engine.sync_calendar``; conflicts in ``conflicts``; when to run in ``scheduler``."""

"""Provider-neutral two-way sync engine. Arrives with the sync issue."""

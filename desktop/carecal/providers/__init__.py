"""Remote calendar providers behind one protocol. Arrives with the sync issue."""

"""okj: signing, WebSocket protocol and DataStores."""

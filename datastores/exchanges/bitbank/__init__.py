"""bitbank: signing, WebSocket protocol and DataStores."""

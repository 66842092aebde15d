"""bitflyer: signing, WebSocket protocol and DataStores."""

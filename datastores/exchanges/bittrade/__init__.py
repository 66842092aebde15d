"""bittrade: signing, WebSocket protocol and DataStores."""

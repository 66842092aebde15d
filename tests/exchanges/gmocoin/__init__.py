"""GMO Coin: replays of documented messages, the contract, the fake end to end, the helper."""

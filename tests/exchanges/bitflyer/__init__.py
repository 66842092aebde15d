"""bitFlyer tests (data/ holds the documented message shapes)."""

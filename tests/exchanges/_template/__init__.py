"""The exchange template's tests (copy with the template: tests/exchanges/<x>/)."""

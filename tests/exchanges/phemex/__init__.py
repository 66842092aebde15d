"""phemex tests (one folder per exchange; data/ holds its replay files)."""

"""Work-arounds for the environment the package runs in (nothing model-related)."""

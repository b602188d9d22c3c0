"""Data: the embedded video world, dataset adapters, protocol split files and their validation."""

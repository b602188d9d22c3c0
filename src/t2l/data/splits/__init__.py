"""Canonical split files: dataset adapters turn official layouts into one CSV schema."""

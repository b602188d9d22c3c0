"""Validation of split files with Great Expectations, before anything reads them."""

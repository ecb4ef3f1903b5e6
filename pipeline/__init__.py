"""Boilerplate-stripping corpus cleaning pipeline: raw scraped pages to a clean, traceable dataset."""

__version__ = "0.1.0"

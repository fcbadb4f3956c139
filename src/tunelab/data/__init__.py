"""Corpus readers, tag schemes, subword alignment and DataModules."""

"""Recommendation from text: a user's liked items and a candidate item as a text pair."""

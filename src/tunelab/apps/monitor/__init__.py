"""Topic and sentiment monitoring of a stream of texts, with alerts on surges."""

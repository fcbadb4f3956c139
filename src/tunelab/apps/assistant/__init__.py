"""A customer-service assistant: intent, answer, "unsure" below a threshold, similar questions."""

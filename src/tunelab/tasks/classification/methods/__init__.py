"""Ways to learn text classification besides fine-tuning a head (`method=` in the configs)."""

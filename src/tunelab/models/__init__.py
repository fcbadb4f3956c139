"""Shared model machinery: the base LightningModule, optimizer groups, PEFT methods."""

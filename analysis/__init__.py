"""Claim analyses over sweep outputs (read Parquet; never import the model)."""

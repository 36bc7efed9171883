"""Example jobs, each a small ordinary simplemr job worth reading as a model."""

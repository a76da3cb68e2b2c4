"""The Kubernetes API model: object metadata, kinds and resources, validation, patching, tables."""

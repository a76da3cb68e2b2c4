"""Custom resources: what a CustomResourceDefinition's versions serve.

``kinds`` turns a definition into one descriptor per served version with its strategy;
``schema`` defaults, prunes and validates objects against a version's structural schema;
``printer`` makes tables from ``additionalPrinterColumns``.
"""

from kubeward.api.customresources.kinds import CustomResourceStrategy, served_kinds

__all__ = ["CustomResourceStrategy", "served_kinds"]

"""sardip: Deep Image Prior anonymisation of amplitude SAR images, and the evidence that it is credible."""

__version__ = "0.1.0"

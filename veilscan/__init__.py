"""veilscan: audit video archives for face redactions that no longer protect anyone.

The code lives in four layers kept at the top of the repository (see README):
``veilscan.flows`` (flows/), ``veilscan.tasks`` (tasks/), ``veilscan.catalog`` (catalog/)
and ``veilscan.infra`` (infra/). This package holds the CLI and the demo archive builder.
"""

__version__ = "0.1.0"

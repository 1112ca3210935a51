"""The attack harness that calibrates the risk model (needs the ``calibrate`` extra).

Importing this package is cheap; dlib and the recogniser's weights load only when an attack
runs (``recogniser.Recogniser``), so the scanner never needs dlib.
"""

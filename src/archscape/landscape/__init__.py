"""Landscape analysis of NAS problems: exhaustive, noise, theory, ELA, BBOB comparison."""

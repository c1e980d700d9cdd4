"""Seeing backpropagation: the passes as numbers, as tables and as a Graphviz drawing."""

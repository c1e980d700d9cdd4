"""Automatic differentiation: reverse and forward mode as graph transforms, and the derivative functions a module gets."""

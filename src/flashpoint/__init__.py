"""Flashpoint: early warning of intercommunal violence forming online."""

__version__ = "0.1.0"

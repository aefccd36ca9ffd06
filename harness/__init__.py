"""Chatbot evaluation harness: one prompt suite, several providers, scored and compared."""
__version__ = "0.1.0"

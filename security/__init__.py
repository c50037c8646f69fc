"""Protecting child data in Temporal: payload encryption, the key ring, the codec server."""

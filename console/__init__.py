"""The web console for coordinators and panel members (FastAPI, server-rendered)."""

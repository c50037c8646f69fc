"""Learning outputs' kinds: import-light, so the command line's flags do not load the database."""

LEARNING_KINDS = ("briefing", "training")

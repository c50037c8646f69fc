"""Learning outputs' kinds: import-light, so the command line's flags do not load the database."""

#: Issue 13, item 11 adds newsletter items and audits (as `safeguarding.vocabulary.LearningKind`).
LEARNING_KINDS = ("briefing", "training", "newsletter", "audit")

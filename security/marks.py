"""Metadata the codec adds to a payload it decodes, for the workflows to act on.

A module of its own with no imports, so workflow code can read the mark without loading the
cryptography stack into its module graph.
"""

#: Set (to b"1") on a payload that arrived without encryption by a key from the ring: sent by a
#: client that does not hold the key (e.g. `temporal workflow update` in plain JSON). Holding
#: the key is the credential to write: workflows refuse such a payload as a decision, a signal
#: or a new case, and record the refusal.
UNSEALED = "sro-unsealed"


class Unsealed(Exception):
    """A payload not sealed by a key from the ring, read as a typed value (a new case's input,
    a signal's argument). Workflows list it in `failure_exception_types`: a case started
    without the key fails at once with this reason, and nothing is recorded for it.
    Not a `ValueError`, so that pydantic passes it through."""

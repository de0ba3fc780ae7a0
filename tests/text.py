"""Reading printed text in a test: :func:`nnkit.tutorials.fit` wraps a line wherever a run's numbers push it past
its width, so a test looks for a phrase (or matches a pattern across words) only in the text unwrapped."""

import re


def unwrap(text: str) -> str:
    """``text`` with each line break followed by an indent (as ``fit`` wraps a line) read as one space."""
    return re.sub(r"\n +", " ", text)

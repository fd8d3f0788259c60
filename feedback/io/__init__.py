"""Files: :mod:`feedback.io.write` writes every file feedback writes."""

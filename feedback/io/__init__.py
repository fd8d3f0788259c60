"""Reading and writing files: :mod:`feedback.io.write` writes every file feedback writes."""

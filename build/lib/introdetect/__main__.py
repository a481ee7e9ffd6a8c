"""``python -m introdetect``: the same CLI as the ``introdetect`` command."""

from ._cli import app

if __name__ == "__main__":
    app(prog_name="introdetect")

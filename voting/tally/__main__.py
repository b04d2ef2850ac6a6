"""``python -m voting.tally FILE.pb``: the same command as ``shaar tally``."""

from voting.tally.cli import tally

if __name__ == "__main__":
    tally()

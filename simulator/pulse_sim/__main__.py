"""``python -m pulse_sim``: the same entry point as ``pulse sim``."""

import sys

from pulse_sim.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m pulse_sim"))

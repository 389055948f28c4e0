"""``python -m lattice_utils predict IMAGE ...``: see ``lattice_utils.predict``."""
import sys

from .predict import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "predict":
        print("usage: python -m lattice_utils predict IMAGE [--pixel-size A] "
              "[--method fft|cnn|both] [--model PATH] [--json]", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[2:]))

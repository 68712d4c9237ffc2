"""``python -m spectranet``: the same command line as the ``spectranet`` script."""

import sys

from spectranet.cli import main

if __name__ == "__main__":
    sys.exit(main())

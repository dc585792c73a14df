"""``python -m archscape.cli``: the same as the ``archscape`` console script."""

import sys

from archscape.cli import main

sys.exit(main())

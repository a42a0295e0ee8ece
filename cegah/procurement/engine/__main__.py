"""``python -m cegah.procurement.engine indicators FILE`` (used by the benchmark)."""

import sys

from .cli import main

sys.exit(main())

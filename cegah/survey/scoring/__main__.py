"""``python -m cegah.survey.scoring`` runs the batch scorer without Django."""

import sys

from cegah.survey.scoring.cli import main

raise SystemExit(main(sys.argv[1:]))

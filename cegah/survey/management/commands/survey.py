from cegah.core.passthrough import PassthroughCommand
from cegah.survey.scoring.cli import main as score


class Command(PassthroughCommand):
    help = "Integrity survey (SPI) tools. `survey score --help` for batch scoring."
    subcommands = {"score": score}

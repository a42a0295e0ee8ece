from cegah.core.passthrough import PassthroughCommand
from cegah.wbs.integration.cli import duplicates, federation_register


class Command(PassthroughCommand):
    help = (
        "Integrated WBS tools: `wbs duplicates INPUT.jsonl --output pairs.csv`, "
        "`wbs federation-register ORG_SLUG PUBLIC_KEY_FILE`."
    )
    subcommands = {"duplicates": duplicates, "federation-register": federation_register}

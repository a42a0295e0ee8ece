from cegah.core.passthrough import PassthroughCommand
from cegah.procurement.engine.cli import main as engine_main


def _sub(name: str):  # type: ignore[no-untyped-def]
    return lambda argv: engine_main([name, *argv])


class Command(PassthroughCommand):
    help = "Procurement risk tools: `procurement indicators FILE.jsonl …`, `procurement import PATH …`."
    subcommands = {"indicators": _sub("indicators"), "import": _sub("import")}

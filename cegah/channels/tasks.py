"""Channel tasks: send one outbound message, process one conversation's inbound messages, and
the periodic sweeps that recover lost tasks and delete stale content. Ids only, idempotent."""

from __future__ import annotations

from datetime import timedelta

from cegah.core.tasks_glue import periodic, retrying_task


@retrying_task(max_attempts=3, base_seconds=5)
def send_outbound(message_id: int) -> str:
    """Claim and try to send one outbox message; return the outcome (see outbox.deliver)."""
    from cegah.channels.outbox import deliver

    return deliver(message_id)


@retrying_task(max_attempts=3, base_seconds=5)
def drain_outbox() -> int:
    """Send due outbox messages for up to 50 s; enqueue another drain if some are still due."""
    from cegah.channels.outbox import drain, due_ids

    done = drain(50.0)
    if done and due_ids(1):
        drain_outbox.enqueue()
    return done


@retrying_task(base_seconds=10)
def process_conversation(conversation_id: int) -> int:
    """Hand a conversation's pending inbound messages to the handlers; return how many."""
    from cegah.channels.inbound import process_conversation as process

    return process(conversation_id)


@periodic(every=timedelta(minutes=1))
@retrying_task(max_attempts=2)
def sweep_channels() -> dict[str, int]:
    """Re-enqueue due or stale-claimed outbox messages and long-pending inbound messages."""
    from cegah.channels import inbound, outbox

    return {"outbound": outbox.sweep(), "inbound": inbound.sweep()}


@periodic(every=timedelta(hours=1))
@retrying_task(max_attempts=2)
def purge_inbound_content() -> int:
    """Delete sealed content of inbound messages no handler consumed within the retention."""
    from cegah.channels.inbound import purge_unconsumed

    return purge_unconsumed()
